/**
 * The collection page's script. The page is rendered by the server
 * (src/api/share/collection-page.ts); this script
 *
 * - keeps it live: while a file is still uploading or being processed it polls
 *   GET /v1/collections/:id (a few seconds apart, longer as time goes on, for a bounded time)
 *   and, when something changed, fetches the page again and swaps in the fresh file list — the
 *   server stays the only renderer, and nothing here turns data into HTML;
 * - makes "Download all": a zip built here, in the browser, from each file's download (the
 *   /d/:id/download 302 to S3) with client-zip. Where the browser can write files
 *   (`showSaveFilePicker`), the zip streams to disk as it is made, one file fetched at a time,
 *   never all in memory; elsewhere the files are downloaded one after another.
 */
import './collection.css';
import { downloadZip } from 'client-zip';
import { uniqueNames } from '../core/zip-names.js';

const main = document.getElementById('collection');
const id = main?.dataset.collectionId;

// ---- live status -------------------------------------------------------------------------

/** Polls at most this long; a file still uploading after that is left to a reload. */
const POLL_FOR_MS = 30 * 60_000;

interface FileState {
  id: string;
  status: string;
  thumbnail: string;
}

const settled = (d: FileState) => d.status !== 'uploading' && d.status !== 'processing' && !(d.status === 'ready' && d.thumbnail === 'pending');
const signature = (drops: FileState[]) => drops.map((d) => `${d.id}:${d.status}:${d.thumbnail}`).join(',');

function pageSignature(): string {
  return [...document.querySelectorAll<HTMLElement>('#files .file')].map((li) => `${li.dataset.dropId}:${li.dataset.status}:${li.dataset.thumbnail ?? ''}`).join(',');
}

async function refresh(): Promise<void> {
  const res = await fetch(location.pathname, { headers: { accept: 'text/html' }, cache: 'no-store' });
  if (!res.ok) {
    // Deleted or expired meanwhile: show the page that says so.
    if (res.status === 404 || res.status === 410) location.reload();
    return;
  }
  const next = new DOMParser().parseFromString(await res.text(), 'text/html');
  for (const part of ['summary', 'files']) {
    const now = document.getElementById(part);
    const fresh = next.getElementById(part);
    if (now && fresh) now.replaceWith(document.importNode(fresh, true));
  }
  const empty = document.getElementById('empty');
  if (empty && !next.getElementById('empty')) empty.remove();
  const freshButton = next.getElementById('download-all') as HTMLButtonElement | null;
  if (button && freshButton && !busy) button.disabled = freshButton.disabled;
}

async function poll(): Promise<void> {
  const started = Date.now();
  let last = '';
  for (let round = 0; Date.now() - started < POLL_FOR_MS; round++) {
    // 2 s at first, then slower: 2, 2, 2, 3, 4, … up to 10 s.
    await new Promise((r) => setTimeout(r, Math.min(10_000, 2000 + Math.max(0, round - 2) * 1000)));
    let drops: FileState[];
    try {
      const res = await fetch(`/v1/collections/${encodeURIComponent(id!)}`, { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (res.status === 404 || res.status === 410) {
        location.reload();
        return;
      }
      if (!res.ok) continue;
      const body = (await res.json()) as { drops?: FileState[] };
      // A password-protected collection's api view lists no drops (the unlock cookie belongs
      // to /c/{id}, not /v1): this page was rendered unlocked, and stays as it is.
      if (!Array.isArray(body.drops)) return;
      drops = body.drops;
    } catch {
      continue; // offline for a moment: try again next round
    }
    const now = signature(drops);
    if (now !== last && now !== pageSignature()) await refresh().catch(() => {});
    last = now;
    if (drops.length > 0 && drops.every(settled)) return;
  }
}

// ---- Download all ------------------------------------------------------------------------

const button = document.getElementById('download-all') as HTMLButtonElement | null;
const note = document.getElementById('zip-status');
let busy = false;

interface Entry {
  id: string;
  name: string;
  size: number;
}

function say(text: string, error = false) {
  if (!note) return;
  note.hidden = !text;
  note.textContent = text;
  note.classList.toggle('error', error);
}

function files(): Entry[] {
  return [...document.querySelectorAll<HTMLElement>('#files .file[data-downloadable="true"]')].map((li) => ({
    id: li.dataset.dropId!,
    name: li.dataset.name!,
    size: Number(li.dataset.size),
  }));
}

interface SaveFilePicker {
  showSaveFilePicker(opts: { suggestedName: string; types?: { description: string; accept: Record<string, string[]> }[] }): Promise<{
    createWritable(): Promise<WritableStream<Uint8Array>>;
  }>;
}

const canSaveFiles = () => typeof (window as unknown as Partial<SaveFilePicker>).showSaveFilePicker === 'function';

function zipName(): string {
  const title = document.getElementById('name')?.textContent?.trim() || 'dropship';
  // Characters file systems refuse become dashes.
  // eslint-disable-next-line no-control-regex
  return `${title.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '-').slice(0, 120)}.zip`;
}

async function zipToDisk(list: Entry[]): Promise<void> {
  const picker = window as unknown as SaveFilePicker;
  const handle = await picker.showSaveFilePicker({ suggestedName: zipName(), types: [{ description: 'Zip archive', accept: { 'application/zip': ['.zip'] } }] });
  const writable = await handle.createWritable();
  const names = uniqueNames(list.map((f) => f.name));
  // Fetched one at a time, as the zip stream asks for the next file.
  async function* entries() {
    for (const [i, f] of list.entries()) {
      say(`Adding ${names[i]} (${i + 1} of ${list.length})…`);
      const res = await fetch(`/d/${encodeURIComponent(f.id)}/download`, { cache: 'no-store' });
      if (!res.ok) throw new Error(`${f.name} could not be downloaded (${res.status}).`);
      yield { name: names[i]!, input: res, size: f.size };
    }
  }
  // pipeTo closes the file when the zip is complete, and aborts it (nothing half-written is kept) on an error.
  await downloadZip(entries()).body!.pipeTo(writable);
  say(`Saved ${list.length === 1 ? '1 file' : `${list.length} files`} as a zip.`);
}

async function oneByOne(list: Entry[]): Promise<void> {
  for (const [i, f] of list.entries()) {
    say(`Downloading ${f.name} (${i + 1} of ${list.length})…`);
    const a = document.createElement('a');
    a.href = `/d/${encodeURIComponent(f.id)}/download`;
    a.download = '';
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
    // Browsers drop downloads started in the same instant: give each one a moment.
    await new Promise((r) => setTimeout(r, 1200));
  }
  say(`Started ${list.length === 1 ? '1 download' : `${list.length} downloads`}. This browser cannot write a zip, so the files come one by one.`);
}

if (main && id && button) {
  button.hidden = false;
  button.addEventListener('click', () => {
    if (busy) return;
    const list = files();
    if (list.length === 0) return say('Nothing can be downloaded yet.');
    busy = true;
    button.disabled = true;
    (canSaveFiles() ? zipToDisk(list) : oneByOne(list))
      .catch((e: unknown) => {
        if (e instanceof DOMException && e.name === 'AbortError') return say('');
        say(e instanceof Error && e.message ? `Download all stopped: ${e.message}` : 'Download all stopped.', true);
      })
      .finally(() => {
        busy = false;
        button.disabled = files().length === 0;
      });
  });
}

if (main && id && main.dataset.live === 'true') void poll();
