/**
 * "Your drops": the owner tokens of the drops made in this browser, kept in localStorage so
 * a person can still delete (revoke) a drop after a reload, and the list that shows them
 * with their status, expiry, a copy button, a link and Delete.
 *
 * An entry is a drop (`kind: 'drop'`, DELETE /v1/drops/:id) or a collection (`kind:
 * 'collection'`, DELETE /v1/collections/:id) — one link for files dropped together; each kind
 * has its actions (`KindActions`), so adding a kind adds actions and nothing else.
 *
 * The store is capped (MAX_ENTRIES, oldest go first), survives storage being full (it drops
 * the oldest entries and tries again) or unavailable (private modes: the list lives for this
 * visit only, and says so). Tokens never leave the browser except to delete their drop.
 */
import { DropshipApiError, type DropshipClient } from '../../client/index.js';
import { copyButton } from './copy.js';
import { h } from './dom.js';
import { formatBytes } from './format.js';
import { expiryWords } from './options.js';

export type EntryKind = 'drop' | 'collection';

export interface MyDrop {
  kind: EntryKind;
  id: string;
  ownerToken: string;
  /** The file's name (a collection: its title, e.g. "3 files"). */
  name: string;
  size?: number;
  shareUrl: string;
  /** When this browser made it (ISO). */
  createdAt: string;
  /** When it expires (ISO); absent: never, or not known. */
  expiresAt?: string;
  maxDownloads?: number;
  password?: boolean;
  /** What the server said last: a drop status, or `gone` (404) / `deleted` (deleted from here). */
  status?: string;
}

export const STORAGE_KEY = 'dropship.mine.v1';
export const MAX_ENTRIES = 200;

type Storage = Pick<globalThis.Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** Statuses after which an entry's link no longer gives the file. */
export const GONE_STATUSES = new Set(['cancelled', 'expired', 'failed', 'gone', 'deleted']);

export type StoreProblem = 'unavailable' | 'full';

export class MyDropsStore {
  private storage: Storage | undefined;
  /** The list when storage cannot hold it (this visit only). */
  private memory: MyDrop[] = [];
  /** Why entries may not survive a reload; undefined while storage works. */
  problem: StoreProblem | undefined;
  onChange: (() => void) | undefined;
  private readonly max: number;

  constructor(storage: Storage | undefined = defaultStorage(), max = MAX_ENTRIES) {
    this.max = max;
    this.storage = storage;
    if (!storage) this.problem = 'unavailable';
    else {
      try {
        storage.getItem(STORAGE_KEY);
      } catch {
        this.storage = undefined;
        this.problem = 'unavailable';
      }
    }
  }

  /** Newest first. */
  list(): MyDrop[] {
    if (!this.storage) return [...this.memory];
    try {
      const parsed: unknown = JSON.parse(this.storage.getItem(STORAGE_KEY) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter(isEntry) : [];
    } catch {
      return [...this.memory];
    }
  }

  find(kind: EntryKind, id: string): MyDrop | undefined {
    return this.list().find((e) => e.kind === kind && e.id === id);
  }

  /** Adds (or replaces) an entry at the top; the oldest go beyond the cap. */
  add(entry: MyDrop) {
    const rest = this.list().filter((e) => !(e.kind === entry.kind && e.id === entry.id));
    this.write([entry, ...rest].slice(0, this.max));
  }

  update(kind: EntryKind, id: string, patch: Partial<Omit<MyDrop, 'kind' | 'id'>>) {
    const all = this.list();
    const i = all.findIndex((e) => e.kind === kind && e.id === id);
    if (i < 0) return;
    all[i] = { ...all[i]!, ...patch };
    this.write(all);
  }

  remove(kind: EntryKind, id: string) {
    const all = this.list();
    const rest = all.filter((e) => !(e.kind === kind && e.id === id));
    if (rest.length !== all.length) this.write(rest);
  }

  /** Forgets every entry (the drops themselves stay online). */
  clear() {
    this.write([]);
  }

  private write(entries: MyDrop[]) {
    this.memory = entries;
    if (this.storage) {
      let kept = entries;
      for (;;) {
        try {
          if (kept.length) this.storage.setItem(STORAGE_KEY, JSON.stringify(kept));
          else this.storage.removeItem(STORAGE_KEY);
          this.problem = kept.length < entries.length ? 'full' : undefined;
          break;
        } catch {
          // Full: keep the newest half and try again; nothing at all fits → this visit only.
          if (kept.length <= 1) {
            this.problem = 'full';
            break;
          }
          kept = kept.slice(0, Math.floor(kept.length / 2));
        }
      }
    }
    this.onChange?.();
  }
}

function isEntry(v: unknown): v is MyDrop {
  const e = v as Partial<MyDrop> | null;
  return (
    !!e &&
    (e.kind === 'drop' || e.kind === 'collection') &&
    typeof e.id === 'string' &&
    typeof e.ownerToken === 'string' &&
    typeof e.name === 'string' &&
    typeof e.shareUrl === 'string' &&
    typeof e.createdAt === 'string'
  );
}

function defaultStorage(): Storage | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined;
  }
}

/** An entry's state in words, for its row. */
export function statusWords(e: Pick<MyDrop, 'status' | 'expiresAt'>, now: number): string {
  switch (e.status) {
    case 'uploading':
      return 'Upload not finished';
    case 'processing':
      return 'Uploaded, being checked';
    case 'ready':
      return 'Ready';
    case 'failed':
      return 'Failed: the file did not pass the server’s checks';
    case 'cancelled':
    case 'deleted':
      return 'Deleted: the link no longer works';
    case 'expired':
      return 'Expired: the link no longer works';
    case 'gone':
      return 'Gone: the server no longer has it';
  }
  if (e.expiresAt !== undefined && Date.parse(e.expiresAt) <= now) return 'Expired: the link no longer works';
  return 'Checking…';
}

/** What each kind of entry can do on the server. */
export interface KindActions {
  /** The entry's status now (`gone` for 404, `expired` for 410), plus what changed. */
  refresh(e: MyDrop, signal?: AbortSignal): Promise<Partial<MyDrop>>;
  /** Deletes it for everyone (the link then answers 410). */
  remove(e: MyDrop): Promise<void>;
}

/** Drops through the SDK. */
export function dropActions(client: DropshipClient): KindActions {
  return {
    async refresh(e, signal) {
      try {
        // With the owner token: a password-protected drop shows its owner everything.
        const v = await client.status(e.id, signal, e.ownerToken);
        return { status: v.status, ...(v.expiresAt !== undefined ? { expiresAt: v.expiresAt } : {}), ...('size' in v ? { size: v.size } : {}) };
      } catch (err) {
        if (err instanceof DropshipApiError && err.status === 404) return { status: 'gone' };
        if (err instanceof DropshipApiError && err.status === 410) return { status: 'expired' };
        throw err;
      }
    },
    async remove(e) {
      try {
        await client.deleteDrop(e.id, e.ownerToken);
      } catch (err) {
        // Already gone is what was wanted.
        if (err instanceof DropshipApiError && (err.status === 404 || err.status === 410)) return;
        throw err;
      }
    },
  };
}

/** Collections: `DELETE /v1/collections/:id` with the owner token; status is not fetched. */
export function collectionActions(baseUrl: string, fetchImpl: typeof fetch = (i, init) => globalThis.fetch(i, init)): KindActions {
  return {
    async refresh(e) {
      return e.expiresAt !== undefined && Date.parse(e.expiresAt) <= Date.now() ? { status: 'expired' } : {};
    },
    async remove(e) {
      const res = await fetchImpl(`${baseUrl}/v1/collections/${encodeURIComponent(e.id)}`, {
        method: 'DELETE',
        headers: { 'x-owner-token': e.ownerToken, accept: 'application/json' },
      });
      if (!res.ok && res.status !== 404 && res.status !== 410) throw new Error(`the server answered HTTP ${res.status}`);
    },
  };
}

/** Rows shown before "Show more" (statuses are fetched only for rows on screen). */
const PAGE = 20;
/** Status requests at once. */
const PARALLEL = 4;
/** An entry still `processing` is read again after POLL_MS, at most MAX_POLLS times a visit. */
const POLL_MS = 2000;
const MAX_POLLS = 30;

export interface MyDropsOptions {
  store: MyDropsStore;
  actions: Record<EntryKind, KindActions>;
  /** The section (hidden while the list is empty). */
  section: HTMLElement;
  announce(message: string): void;
  now?: () => number;
}

/** The "Your drops" section. */
export class MyDropsList {
  private readonly opts: MyDropsOptions;
  private readonly list: HTMLUListElement;
  private readonly note: HTMLParagraphElement;
  private readonly more: HTMLButtonElement;
  private readonly clearBox: HTMLDivElement;
  private shown = PAGE;
  /** Entries whose status was fetched in this visit (kind:id). */
  private readonly fetched = new Set<string>();
  /** Re-reads of entries still being processed (kind:id → count). */
  private readonly polls = new Map<string, number>();
  /** The rows on screen, by kind:id, with the entry they show. */
  private rows = new Map<string, { json: string; li: HTMLLIElement }>();
  private rendering = false;

  constructor(opts: MyDropsOptions) {
    this.opts = opts;
    const { section } = opts;
    this.list = h('ul', { class: 'my-drops-list', id: 'my-drops-list' });
    this.note = h('p', { class: 'my-drops-problem', id: 'my-drops-problem', hidden: true });
    this.more = h('button', { type: 'button', class: 'button small', id: 'my-drops-more', hidden: true }, 'Show more');
    this.more.addEventListener('click', () => {
      this.shown += PAGE;
      this.render();
    });
    this.clearBox = h('div', { class: 'my-drops-clear' });
    section.replaceChildren(
      h('h2', { id: 'my-drops-title' }, 'Your drops'),
      h(
        'p',
        { class: 'my-drops-privacy', id: 'my-drops-privacy' },
        'Kept only in this browser, so you can delete a drop later. Anyone using this browser profile can see and delete them.',
      ),
      this.note,
      this.list,
      this.more,
      this.clearBox,
    );
    section.setAttribute('aria-labelledby', 'my-drops-title');
    this.resetClear();
    opts.store.onChange = () => this.render();
  }

  private now() {
    return (this.opts.now ?? Date.now)();
  }

  /** Remembers a drop as soon as its ticket exists (its owner token is then known). */
  remember(entry: Omit<MyDrop, 'createdAt'> & { createdAt?: string }) {
    this.fetched.add(`${entry.kind}:${entry.id}`);
    this.opts.store.add({ createdAt: new Date(this.now()).toISOString(), ...entry });
  }

  /** A status the page learnt by itself (upload finished, cancelled). */
  setStatus(kind: EntryKind, id: string, status: string, extra: Partial<MyDrop> = {}) {
    // Uploaded and being checked: the list follows the server until it is ready.
    if (status === 'processing') this.fetched.delete(`${kind}:${id}`);
    this.opts.store.update(kind, id, { status, ...extra });
  }

  forget(kind: EntryKind, id: string) {
    this.opts.store.remove(kind, id);
  }

  /** Deletes an entry's drop for everyone; the entry stays, marked deleted, until cleared. */
  async delete(kind: EntryKind, id: string): Promise<boolean> {
    const e = this.opts.store.find(kind, id);
    if (!e) return false;
    try {
      await this.opts.actions[kind].remove(e);
    } catch (err) {
      this.opts.announce(`${e.name} could not be deleted: ${err instanceof Error ? err.message : String(err)}. Try again.`);
      return false;
    }
    this.opts.store.update(kind, id, { status: 'deleted' });
    this.opts.announce(`${e.name} deleted. Its link no longer works.`);
    return true;
  }

  render() {
    if (this.rendering) return;
    this.rendering = true;
    try {
      this.draw();
    } finally {
      this.rendering = false;
    }
  }

  private draw() {
    const { store, section } = this.opts;
    const all = store.list();
    section.hidden = all.length === 0 && store.problem === undefined;
    this.note.hidden = store.problem === undefined;
    this.note.textContent =
      store.problem === 'unavailable'
        ? 'This browser does not let the page keep anything (private browsing?): the list below lasts only until you leave the page, so delete what you need to before then.'
        : store.problem === 'full'
          ? 'This browser’s storage is full: only the newest drops are kept in this list; older ones can no longer be deleted from here.'
          : '';
    const visible = all.slice(0, this.shown);
    // Rows whose entry did not change are kept as they are (a "Copied" button stays so).
    const rows = new Map<string, { json: string; li: HTMLLIElement }>();
    const minute = Math.floor(this.now() / 60_000);
    for (const e of visible) {
      const key = `${e.kind}:${e.id}`;
      const json = `${minute}|${JSON.stringify(e)}`;
      const old = this.rows.get(key);
      rows.set(key, old && old.json === json ? old : { json, li: this.row(e) });
    }
    this.rows = rows;
    this.list.replaceChildren(...[...rows.values()].map((r) => r.li));
    this.more.hidden = all.length <= this.shown;
    this.more.textContent = `Show ${Math.min(PAGE, all.length - this.shown)} more (${all.length} in all)`;
    this.clearBox.hidden = all.length === 0;
    void this.refreshStatuses(visible);
  }

  private async refreshStatuses(entries: MyDrop[]) {
    const now = this.now();
    const todo = entries.filter((e) => {
      const key = `${e.kind}:${e.id}`;
      if (this.fetched.has(key)) return false;
      if (e.status !== undefined && GONE_STATUSES.has(e.status)) return false;
      this.fetched.add(key);
      return true;
    });
    const expiredHere = todo.filter((e) => e.expiresAt !== undefined && Date.parse(e.expiresAt) <= now);
    for (const e of expiredHere) this.opts.store.update(e.kind, e.id, { status: 'expired' });
    const queue = todo.filter((e) => !expiredHere.includes(e));
    const worker = async () => {
      for (let e = queue.shift(); e; e = queue.shift()) {
        try {
          const patch = await this.opts.actions[e.kind].refresh(e);
          if (Object.keys(patch).length) this.opts.store.update(e.kind, e.id, patch);
          // Being checked by the server: ask again in a moment (a few times), until it is ready.
          const key = `${e.kind}:${e.id}`;
          const polls = this.polls.get(key) ?? 0;
          if (patch.status === 'processing' && polls < MAX_POLLS) {
            this.polls.set(key, polls + 1);
            setTimeout(() => {
              this.fetched.delete(key);
              this.render();
            }, POLL_MS);
          }
        } catch {
          // Offline or the server busy: the row keeps what it knew; the next visit asks again.
          this.fetched.delete(`${e.kind}:${e.id}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
  }

  private row(e: MyDrop): HTMLLIElement {
    const now = this.now();
    const gone = e.status !== undefined && GONE_STATUSES.has(e.status);
    const facts = [
      e.kind === 'collection' ? 'Collection' : undefined,
      e.size !== undefined ? formatBytes(e.size) : undefined,
      gone ? undefined : expiryWords(e.expiresAt, now),
      !gone && e.maxDownloads !== undefined ? `at most ${e.maxDownloads} download${e.maxDownloads === 1 ? '' : 's'}` : undefined,
      !gone && e.password ? 'password' : undefined,
    ].filter((f): f is string => f !== undefined);
    const actions = h('div', { class: 'my-drop-actions' });
    const li = h(
      'li',
      { class: 'my-drop', 'data-kind': e.kind, 'data-id': e.id, 'data-status': e.status ?? 'unknown' },
      h('div', { class: 'my-drop-head' }, h('span', { class: 'my-drop-name' }, e.name), h('span', { class: 'my-drop-status' }, statusWords(e, now))),
      facts.length ? h('p', { class: 'my-drop-facts' }, facts.join(' · ')) : null,
      actions,
    );
    if (!gone) {
      const copy = h('button', { type: 'button', class: 'button small copy', 'aria-label': `Copy link of ${e.name}` }, 'Copy link');
      const field = h('input', { class: 'share-url my-drop-url', type: 'url', readonly: true, value: e.shareUrl, hidden: true, 'aria-label': `Link of ${e.name}` });
      const open = h('a', { class: 'button small', href: e.shareUrl, target: '_blank', rel: 'noopener noreferrer', 'aria-label': `Open the share page of ${e.name}` }, 'Open');
      const del = h('button', { type: 'button', class: 'button small danger', 'aria-label': `Delete ${e.name} for everyone` }, 'Delete');
      del.addEventListener('click', () => this.confirmDelete(e, actions));
      actions.append(copy, open, del, field);
      copyButton(copy, { text: () => e.shareUrl, field: () => field });
    } else {
      const forget = h('button', { type: 'button', class: 'button small', 'aria-label': `Clear ${e.name} from this list` }, 'Clear');
      forget.addEventListener('click', () => {
        this.opts.store.remove(e.kind, e.id);
        this.opts.announce(`${e.name} cleared from the list.`);
      });
      actions.append(forget);
    }
    return li;
  }

  private confirmDelete(e: MyDrop, actions: HTMLElement) {
    const yes = h('button', { type: 'button', class: 'button small danger', 'aria-label': `Yes, delete ${e.name}` }, 'Yes, delete');
    const no = h('button', { type: 'button', class: 'button small' }, 'Keep it');
    const question = h('p', { class: 'my-drop-confirm', role: 'alert' }, `Delete “${e.name}” for everyone? Its link stops working at once.`);
    yes.addEventListener('click', async () => {
      yes.disabled = no.disabled = true;
      yes.textContent = 'Deleting…';
      if (!(await this.delete(e.kind, e.id))) {
        this.rows.delete(`${e.kind}:${e.id}`);
        this.render();
      }
    });
    no.addEventListener('click', () => {
      this.rows.delete(`${e.kind}:${e.id}`);
      this.render();
    });
    actions.replaceChildren(question, yes, no);
    yes.focus();
  }

  private resetClear() {
    const clear = h('button', { type: 'button', class: 'button small', id: 'my-drops-clear' }, 'Clear this list');
    clear.addEventListener('click', () => {
      const n = this.opts.store.list().length;
      const yes = h('button', { type: 'button', class: 'button small', id: 'my-drops-clear-yes' }, `Forget all ${n}`);
      const no = h('button', { type: 'button', class: 'button small' }, 'Keep the list');
      yes.addEventListener('click', () => {
        this.opts.store.clear();
        this.resetClear();
        this.opts.announce('The list is cleared. The files stay online until they expire.');
      });
      no.addEventListener('click', () => this.resetClear());
      this.clearBox.replaceChildren(
        h(
          'p',
          { class: 'my-drop-confirm', role: 'alert' },
          'This forgets the owner tokens in this browser; it does not delete the files. They stay online until they expire, and you can no longer delete them from here.',
        ),
        yes,
        no,
      );
      yes.focus();
    });
    this.clearBox.replaceChildren(
      clear,
      h('span', { class: 'option-help' }, ' Forgets the list in this browser; does not delete the files.'),
    );
  }
}
