/**
 * The upload page: drag and drop (anywhere on the page), a file picker and paste, several
 * files at once, each with its own progress and cancel button; one file gets its own share
 * link, several added together one collection link for them all (app/batch.ts). Built on
 * the client SDK (src/client), exactly as third-party code would use it.
 */
import './styles.css';
import { DropshipClient } from '../client/index.js';
import { byId, h } from './app/dom.js';
import { formatBytes } from './app/format.js';
import { MyDropsList, MyDropsStore, collectionActions, dropActions } from './app/my-drops.js';
import { Options } from './app/options.js';
import { ResumeStore } from './app/resume.js';
import { Uploads } from './app/uploads.js';
import { CollectionStore, addFiles, type RememberedCollection } from './app/batch.js';

const announcer = byId('announcer');
let clearAnnouncement: ReturnType<typeof setTimeout> | undefined;
/** Polite announcements for screen readers; emptied first so a repeated message is read again. */
function announce(message: string) {
  announcer.textContent = '';
  if (clearAnnouncement) clearTimeout(clearAnnouncement);
  requestAnimationFrame(() => (announcer.textContent = message));
  clearAnnouncement = setTimeout(() => (announcer.textContent = ''), 10_000);
}

const client = new DropshipClient({ baseUrl: location.origin });
const store = new ResumeStore();
// "Your drops" (app/my-drops.ts) and the choices for the next drops (app/options.ts).
const mine = new MyDropsList({
  store: new MyDropsStore(),
  actions: { drop: dropActions(client), collection: collectionActions(location.origin) },
  section: byId('my-drops'),
  announce,
});
const options = new Options(byId('options'));
void options.load(client);
const uploads = new Uploads({
  client,
  store,
  list: byId('uploads'),
  announce,
  mine,
  choices: () => {
    const c = options.current();
    const choices = c.ok ? c.choices : {};
    return { choices, words: options.limits ? options.describe(choices) : '' };
  },
});
const uploadList = byId('uploads');
// Several files at once share one collection link (app/batch.ts); one file keeps its own card.
const collections = new CollectionStore();
const rememberCollection = (c: RememberedCollection) =>
  mine.remember({ kind: 'collection', id: c.id, ownerToken: c.ownerToken, name: c.title, shareUrl: c.shareUrl });
const add = (files: File[]) => {
  const picked = options.current();
  if (!picked.ok) {
    // Nothing starts with a choice the server would refuse: say what to fix, where it is.
    announce(picked.message);
    byId('opt-error').scrollIntoView({ block: 'center' });
    return;
  }
  const ok: File[] = [];
  for (const f of files) {
    const why = options.refuse(f);
    if (why) {
      uploadList.prepend(refusedRow(f.name, why));
      announce(why);
    } else {
      ok.push(f);
    }
  }
  if (!ok.length) return;
  // A collection cannot hold password-protected drops (its page would show them without the
  // password), so protected files keep a card each.
  if (picked.choices.password !== undefined) uploads.add(ok);
  else addFiles(ok, { client, uploads, list: uploadList, store: collections, announce, onCollection: rememberCollection });
  renderResumable();
};

/** A file refused before upload (too large): the sentence and a way to dismiss it. */
function refusedRow(name: string, why: string): HTMLLIElement {
  const dismiss = h('button', { type: 'button', class: 'button dismiss', 'aria-label': `Dismiss ${name}` }, 'Dismiss');
  const li = h(
    'li',
    { class: 'upload', 'data-state': 'refused' },
    h('div', { class: 'upload-head' }, h('span', { class: 'upload-name' }, name)),
    h('p', { class: 'upload-error', role: 'alert' }, why),
    h('div', { class: 'upload-actions' }, dismiss),
  );
  dismiss.addEventListener('click', () => li.remove());
  return li;
}

const zone = byId('drop-zone');
const input = byId<HTMLInputElement>('file-input');
byId('pick').addEventListener('click', () => input.click());
input.addEventListener('change', () => {
  if (input.files?.length) add([...input.files]);
  // Picking the same file again must fire `change` again (to resume it, say).
  input.value = '';
});

// Dropping anywhere works; the zone lights up while something is dragged over the page.
let dragDepth = 0;
const hasFiles = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes('Files');
document.addEventListener('dragenter', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  dragDepth++;
  zone.classList.add('dragging');
});
document.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (dragDepth === 0) zone.classList.remove('dragging');
});
document.addEventListener('dragover', (e) => {
  if (!hasFiles(e)) return;
  e.preventDefault();
  if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
});
document.addEventListener('drop', (e) => {
  dragDepth = 0;
  zone.classList.remove('dragging');
  if (!e.dataTransfer) return;
  e.preventDefault();
  const files: File[] = [];
  let folders = 0;
  const items = [...e.dataTransfer.items];
  if (items.length) {
    for (const item of items) {
      if (item.kind !== 'file') continue;
      if (item.webkitGetAsEntry?.()?.isDirectory) {
        folders++;
        continue;
      }
      const f = item.getAsFile();
      if (f) files.push(f);
    }
  } else {
    files.push(...e.dataTransfer.files);
  }
  if (folders) announce('Folders cannot be uploaded as they are; zip them first.');
  if (files.length) add(files);
});

document.addEventListener('paste', (e) => {
  const files = [...(e.clipboardData?.files ?? [])];
  if (files.length) {
    e.preventDefault();
    add(files);
  }
});

// Unfinished uploads from earlier visits: what they were and how to continue them.
const resumable = byId('resumable');
const resumableList = byId('resumable-list');
function renderResumable() {
  const active = new Set(uploads.items.filter((u) => u.state !== 'cancelled' && u.state !== 'done').map((u) => u.row.el.dataset.dropId));
  const entries = store.list().filter((r) => !active.has(r.id));
  resumableList.replaceChildren(
    ...entries.map((r) => {
      const forget = h('button', { type: 'button', class: 'button small', 'aria-label': `Forget ${r.name} and delete its upload` }, 'Forget');
      forget.addEventListener('click', async () => {
        forget.disabled = true;
        await client.deleteDrop(r.id, r.ownerToken).catch(() => {});
        store.remove(r.id);
        announce(`${r.name} forgotten.`);
      });
      const saved = h('span', { class: 'resumable-saved' }, savedText(r.id, r.size));
      void savedBytes(r.id, r.ownerToken).then(() => (saved.textContent = savedText(r.id, r.size)));
      return h('li', { 'data-drop-id': r.id }, h('span', { class: 'upload-name' }, r.name), ' ', h('span', { class: 'upload-size' }, formatBytes(r.size)), ' ', saved, ' ', forget);
    }),
  );
  resumable.hidden = entries.length === 0;
}
/** Bytes of each unfinished upload already in S3 (GET /v1/drops/:id/parts), asked once a visit. */
const saved = new Map<string, number>();
const asked = new Map<string, Promise<void>>();
function savedBytes(id: string, ownerToken: string): Promise<void> {
  let p = asked.get(id);
  if (!p) {
    p = client
      .listParts(id, ownerToken)
      .then((l) => void saved.set(id, l.parts.reduce((n, part) => n + part.size, 0)))
      .catch(() => {});
    asked.set(id, p);
  }
  return p;
}
function savedText(id: string, size: number): string {
  const n = saved.get(id);
  return n === undefined ? '' : n > 0 ? `· ${formatBytes(n)} of ${formatBytes(size)} already saved` : '· nothing saved yet';
}

store.onChange = renderResumable;
renderResumable();
mine.render();
