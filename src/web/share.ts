/**
 * The share page's live status. The page is rendered by the server (src/api/share/page.ts);
 * this script listens to the drop's server-sent events and, when the status or the
 * thumbnail changes, fetches the page again and swaps in the parts that changed. The
 * server stays the only renderer, and nothing here turns data into HTML.
 */
import './share.css';
import { TERMINAL_STATUSES, type DropStatus } from '../client/types.js';
import { copyButton } from './app/copy.js';

const main = document.getElementById('share');
const id = main?.dataset.dropId;

/** Parts of the page that depend on the drop's state (ids set by the server renderer). */
const SWAPPED = ['preview', 'facts', 'actions'];

async function refresh() {
  const res = await fetch(location.pathname, { headers: { accept: 'text/html' }, cache: 'no-store' });
  if (!res.ok) return;
  const next = new DOMParser().parseFromString(await res.text(), 'text/html');
  for (const part of SWAPPED) {
    const now = document.getElementById(part);
    const fresh = next.getElementById(part);
    if (now && fresh) now.replaceWith(document.importNode(fresh, true));
  }
  // The live region itself stays in place so screen readers announce its new text.
  const status = document.getElementById('status');
  const freshStatus = next.getElementById('status');
  if (status && freshStatus) {
    status.className = freshStatus.className;
    status.textContent = freshStatus.textContent;
  }
  const freshMain = next.getElementById('share');
  if (main && freshMain?.dataset.status) main.dataset.status = freshMain.dataset.status;
}

/** States whose link still leads to the file (or soon will). */
const LIVE = new Set(['uploading', 'processing', 'ready']);

/**
 * "Copy link" under the status line (outside the parts swapped on refresh): copies this
 * page's address, says "Copied", and selects the address in a field when the browser
 * refuses the clipboard.
 */
function addCopyButton() {
  const status = document.getElementById('status');
  if (!main || !id || !status || !LIVE.has(main.dataset.status ?? '')) return;
  const url = `${location.origin}${location.pathname}`;
  const box = document.createElement('div');
  box.className = 'copy-link';
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button copy';
  button.textContent = 'Copy link';
  box.append(button);
  status.after(box);
  let field: HTMLInputElement | undefined;
  copyButton(button, {
    text: () => url,
    field: () => {
      if (!field) {
        field = document.createElement('input');
        field.type = 'url';
        field.readOnly = true;
        field.value = url;
        field.className = 'copy-field';
        field.setAttribute('aria-label', 'Link to this page');
        box.append(field);
      }
      return field;
    },
  });
}
addCopyButton();

interface StatusEvent {
  status: DropStatus;
  thumbnail: string;
  updatedAt?: string;
}

if (main && id && main.dataset.live === 'true' && 'EventSource' in window) {
  const events = new EventSource(`/v1/drops/${encodeURIComponent(id)}/events`);
  let last = `${main.dataset.status}`;
  events.addEventListener('status', (e) => {
    let v: StatusEvent;
    try {
      v = JSON.parse((e as MessageEvent<string>).data) as StatusEvent;
    } catch {
      return;
    }
    const key = `${v.status}`;
    const terminal = TERMINAL_STATUSES.includes(v.status);
    if (key !== last) {
      last = key;
      void refresh();
    }
    // The server ends the stream at a terminal status; don't let EventSource reconnect.
    if (terminal) events.close();
  });
  // The stream ends after the server's time limit; EventSource reconnects by itself.
}
