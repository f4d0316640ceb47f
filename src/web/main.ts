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
import { ResumeStore } from './app/resume.js';
import { Uploads } from './app/uploads.js';
import { CollectionStore, addFiles } from './app/batch.js';

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
const uploads = new Uploads({ client, store, list: byId('uploads'), announce });
// Several files at once share one collection link (app/batch.ts); one file keeps its own card.
const collections = new CollectionStore();
const add = (files: File[]) => {
  addFiles(files, { client, uploads, list: byId('uploads'), store: collections, announce });
  renderResumable();
};

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
      return h('li', { 'data-drop-id': r.id }, h('span', { class: 'upload-name' }, r.name), ' ', h('span', { class: 'upload-size' }, formatBytes(r.size)), ' ', forget);
    }),
  );
  resumable.hidden = entries.length === 0;
}
store.onChange = renderResumable;
renderResumable();
