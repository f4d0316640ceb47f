/**
 * Several files dropped or picked together: ONE card with one collection link (one QR code,
 * one copy button) and a compact row per file (name, size, progress, a small link of its
 * own). The collection is created at once, so its link works before any file has arrived;
 * each drop is added to it as soon as its ticket exists (the drop's owner token proves it is
 * ours). Should the collection fail, every file keeps its own full card and link.
 *
 * The collection's owner token is remembered in the browser next to the drops' (`CollectionStore`,
 * localStorage), so it can be deleted later.
 */
import './batch.css';
import { DropshipApiError, type DropshipClient } from '../../client/index.js';
import { h } from './dom.js';
import { formatBytes } from './format.js';
import { drawQr } from './qr.js';
import type { Upload, UploadObserver, Uploads } from './uploads.js';
import type { RowState } from './view.js';

/** A collection this browser made: what a list of "your uploads" needs to show and delete it. */
export interface RememberedCollection {
  id: string;
  shareUrl: string;
  ownerToken: string;
  title: string;
  createdAt: string;
  /** Its drops' ids, in the order added. */
  dropIds: string[];
}

const KEY = 'dropship.collections.v1';
/** The newest ones are kept; older entries go (the collection itself stays on the server). */
const MAX_REMEMBERED = 200;

type Storage_ = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export class CollectionStore {
  private readonly storage: Storage_ | undefined;
  /** Called after every change. */
  onChange: (() => void) | undefined;

  constructor(storage: Storage_ | undefined = defaultStorage()) {
    this.storage = storage;
  }

  list(): RememberedCollection[] {
    try {
      const parsed: unknown = JSON.parse(this.storage?.getItem(KEY) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter(isRemembered) : [];
    } catch {
      return [];
    }
  }

  save(entry: RememberedCollection) {
    this.write([entry, ...this.list().filter((c) => c.id !== entry.id)].slice(0, MAX_REMEMBERED));
  }

  addDrop(id: string, dropId: string) {
    const all = this.list();
    const c = all.find((x) => x.id === id);
    if (!c || c.dropIds.includes(dropId)) return;
    c.dropIds.push(dropId);
    this.write(all);
  }

  remove(id: string) {
    const all = this.list();
    const rest = all.filter((c) => c.id !== id);
    if (rest.length !== all.length) this.write(rest);
  }

  private write(entries: RememberedCollection[]) {
    try {
      if (entries.length) this.storage?.setItem(KEY, JSON.stringify(entries));
      else this.storage?.removeItem(KEY);
    } catch {
      // Storage full or blocked: the link still works, only deleting it later from here does not.
    }
    this.onChange?.();
  }
}

function isRemembered(v: unknown): v is RememberedCollection {
  const c = v as Partial<RememberedCollection> | null;
  return (
    !!c &&
    typeof c.id === 'string' &&
    typeof c.shareUrl === 'string' &&
    typeof c.ownerToken === 'string' &&
    typeof c.title === 'string' &&
    typeof c.createdAt === 'string' &&
    Array.isArray(c.dropIds)
  );
}

function defaultStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}

export interface BatchOptions {
  client: DropshipClient;
  uploads: Uploads;
  /** The page's list of uploads: the card goes first in it. */
  list: HTMLElement;
  store: CollectionStore;
  announce(message: string): void;
  /** Told once the collection exists (the page's "Your drops" list remembers it). */
  onCollection?(entry: RememberedCollection): void;
}

export function batchTitle(files: readonly File[]): string {
  const [first] = files;
  if (!first) return 'No files';
  return files.length === 1 ? first.name : `${first.name} and ${files.length - 1} more`;
}

let seq = 0;

/** One card for files added together; `files` must hold at least two (one file keeps its own card). */
export class Batch implements UploadObserver {
  readonly el: HTMLLIElement;
  readonly title: string;
  /** The collection once created (the list of "your uploads" may read it). */
  collection: RememberedCollection | undefined;
  private readonly opts: BatchOptions;
  private readonly rows: HTMLUListElement;
  private readonly meta: HTMLParagraphElement;
  private readonly error: HTMLParagraphElement;
  private readonly share: HTMLDivElement;
  private readonly link: HTMLInputElement;
  private readonly open: HTMLAnchorElement;
  private readonly qr: HTMLCanvasElement;
  private readonly created: Promise<RememberedCollection | undefined>;
  /** Adds go one after another: each waits for the one before (and never for a failed one). */
  private adding: Promise<unknown> = Promise.resolve();
  private readonly uploads: Upload[] = [];
  private failed = false;

  constructor(files: File[], opts: BatchOptions) {
    this.opts = opts;
    this.title = batchTitle(files);
    const id = `b${++seq}`;
    const total = files.reduce((n, f) => n + f.size, 0);
    this.meta = h('p', { class: 'upload-meta', id: `${id}-meta` }, 'Making one link for these files…');
    this.error = h('p', { class: 'upload-error', role: 'alert', hidden: true });
    this.link = h('input', { id: `${id}-link`, class: 'share-url', type: 'url', readonly: true, 'aria-describedby': `${id}-link-help` });
    this.open = h('a', { class: 'share-open', target: '_blank', rel: 'noopener noreferrer' }, 'Open the collection page');
    this.qr = h('canvas', { class: 'qr', role: 'img', 'aria-label': `QR code of the link to all ${files.length} files`, width: 144, height: 144 });
    const copy = h('button', { type: 'button', class: 'button copy' }, 'Copy link');
    copy.addEventListener('click', () => void this.copy());
    this.share = h(
      'div',
      { class: 'share batch-share', hidden: true },
      this.qr,
      h(
        'div',
        { class: 'share-text' },
        h('label', { for: `${id}-link` }, `One link for all ${files.length} files`),
        h('div', { class: 'link-row' }, this.link, copy),
        h('p', { class: 'share-help', id: `${id}-link-help` }, 'Works right away: people see every file arrive, and can download them all as a zip. ', this.open),
      ),
    );
    this.rows = h('ul', { class: 'batch-files', 'aria-label': `Files in ${this.title}` });
    this.el = h(
      'li',
      { class: 'batch', 'data-state': 'uploading', 'aria-labelledby': `${id}-label` },
      h('div', { class: 'upload-head' }, h('span', { class: 'upload-name', id: `${id}-label` }, this.title), h('span', { class: 'upload-size' }, formatBytes(total))),
      this.meta,
      this.error,
      this.share,
      this.rows,
    );
    opts.list.prepend(this.el);
    this.created = this.create();
    this.uploads.push(...opts.uploads.add(files, { list: this.rows, observer: this }));
    for (const u of this.uploads) u.row.el.classList.add('compact');
    this.count();
  }

  private async create(): Promise<RememberedCollection | undefined> {
    const { client, store, announce } = this.opts;
    try {
      const c = await client.createCollection({ title: this.title });
      const entry: RememberedCollection = { id: c.id, shareUrl: c.shareUrl, ownerToken: c.ownerToken, title: this.title, createdAt: new Date().toISOString(), dropIds: [] };
      this.collection = entry;
      store.save(entry);
      this.opts.onCollection?.(entry);
      this.el.dataset.collectionId = c.id;
      this.link.value = c.shareUrl;
      this.open.href = c.shareUrl;
      this.share.hidden = false;
      void drawQr(this.qr, c.shareUrl).catch(() => (this.qr.hidden = true));
      announce(`One share link ready for ${this.title}.`);
      return entry;
    } catch {
      this.giveUp('One link for all these files could not be made; each file has its own link below.');
      return undefined;
    }
  }

  /** Every file gets its own full card back. */
  private giveUp(message: string) {
    if (this.failed) return;
    this.failed = true;
    this.share.hidden = true;
    this.error.hidden = false;
    this.error.textContent = message;
    for (const u of this.uploads) u.row.el.classList.remove('compact');
  }

  drop(u: Upload, drop: { id: string; ownerToken: string; shareUrl: string }) {
    // A small link of the file's own, next to its name.
    const head = u.row.el.querySelector('.upload-head');
    if (head && !head.querySelector('.row-link')) {
      head.append(h('a', { class: 'row-link', href: drop.shareUrl, target: '_blank', rel: 'noopener noreferrer', 'aria-label': `Share link of ${u.file.name} alone` }, 'link'));
    } else head?.querySelector<HTMLAnchorElement>('.row-link')?.setAttribute('href', drop.shareUrl);
    this.adding = this.adding.then(async () => {
      const c = await this.created;
      if (!c) return;
      try {
        await this.opts.client.addToCollection(c.id, c.ownerToken, { id: drop.id, ownerToken: drop.ownerToken });
        this.opts.store.addDrop(c.id, drop.id);
      } catch (e) {
        // Cancelled meanwhile: it simply is not part of the collection.
        if (e instanceof DropshipApiError && e.code === 'DROP_NOT_ADDABLE') return;
        this.giveUp(`${u.file.name} could not be added to the shared link; each file has its own link below.`);
      }
    });
  }

  state(_u: Upload, _s: RowState) {
    this.count();
  }

  private count() {
    if (!this.uploads.length) return;
    const n = (s: RowState) => this.uploads.filter((u) => u.state === s).length;
    const done = n('done');
    const cancelled = n('cancelled');
    const failed = n('failed');
    const live = this.uploads.length - cancelled;
    const parts = [`${done} of ${live} uploaded`];
    if (failed) parts.push(`${failed} stopped`);
    if (cancelled) parts.push(`${cancelled} cancelled`);
    this.meta.textContent = parts.join(' · ');
    const finished = done + cancelled + failed === this.uploads.length;
    this.el.dataset.state = finished ? (failed ? 'failed' : 'done') : 'uploading';
    if (finished && done === live && live > 0) this.opts.announce(`All ${live} files of ${this.title} are uploaded.`);
  }

  private async copy() {
    try {
      await navigator.clipboard.writeText(this.link.value);
      this.opts.announce('Link copied.');
    } catch {
      this.link.focus();
      this.link.select();
      this.opts.announce('Press Ctrl+C to copy the selected link.');
    }
  }
}

/**
 * What the page calls for files added together: several new ones make a batch (one card, one
 * link), a single one keeps its own card. Answers the batch, if one was made.
 */
export function addFiles(files: File[], opts: BatchOptions): Batch | undefined {
  const fresh = files.filter((f) => !opts.uploads.busy(f));
  if (fresh.length < 2) {
    opts.uploads.add(files);
    return undefined;
  }
  if (fresh.length < files.length) opts.announce(`${files.length - fresh.length} of these files are already being uploaded.`);
  return new Batch(fresh, opts);
}
