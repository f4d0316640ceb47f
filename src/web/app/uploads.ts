/**
 * The upload queue: each dropped file becomes an Upload that runs through the SDK
 * (ticket → parts straight to S3 → complete). A few files upload at once; the rest wait.
 *
 * Resume: the drop's id and owner token are remembered (ResumeStore) as soon as the ticket
 * exists. Dropping the same file again after a reload, or retrying after a failure, sends
 * only the parts S3 does not have yet. A drop that cannot be continued (expired, deleted,
 * a different file) is forgotten and the file starts over.
 *
 * Failures: the SDK already retries parts and throttled api calls; what reaches here is
 * shown as a sentence (messages.ts) and, when it is worth it, retried by itself: after the
 * server's Retry-After, or when the browser comes back online.
 */
import { DropshipApiError, DropshipResumeError, blobSource, type DropshipClient, type Ticket } from '../../client/index.js';
import { explain } from './messages.js';
import type { MyDropsList } from './my-drops.js';
import type { Choices } from './options.js';
import { ResumeStore } from './resume.js';
import { UploadRow, type RowState } from './view.js';

export interface UploadsOptions {
  client: DropshipClient;
  store: ResumeStore;
  list: HTMLElement;
  announce(message: string): void;
  /** Files uploading at once. */
  maxActive?: number;
  /** Part PUTs in parallel per file. */
  concurrency?: number;
  /** "Your drops": remembers each drop's owner token, so it can be deleted later. */
  mine?: MyDropsList;
  /** The choices for drops added now (expiry, download limit, password) and their words for the card. */
  choices?: () => { choices: Choices; words: string };
}

/** Errors that mean "this remembered drop is gone or is not this file": start over. */
function cannotResume(e: unknown): boolean {
  if (e instanceof DropshipResumeError) return true;
  return (
    e instanceof DropshipApiError &&
    ['DROP_NOT_FOUND', 'DROP_EXPIRED', 'DROP_NOT_UPLOADING', 'OWNER_TOKEN_INVALID'].includes(e.code)
  );
}

const MAX_AUTO_RETRIES = 8;

/** Told what happens to an upload (the batch card of several files, app/batch.ts, listens). */
export interface UploadObserver {
  /** The drop exists (a new ticket, or a remembered one being continued). */
  drop?(u: Upload, drop: { id: string; ownerToken: string; shareUrl: string }): void;
  state?(u: Upload, state: RowState): void;
}

/** Where `Uploads.add` puts the rows and who hears of them (default: the page's list, nobody). */
export interface AddOptions {
  list?: HTMLElement;
  observer?: UploadObserver;
}

export class Upload {
  readonly file: File;
  private readonly owner: Uploads;
  state: RowState = 'queued';
  readonly row: UploadRow;
  private ctrl: AbortController | undefined;
  private drop: { id: string; ownerToken: string } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private countdown: ReturnType<typeof setInterval> | undefined;
  private waitOnline: (() => void) | undefined;
  private autoRetries = 0;
  private milestone = 0;
  private readonly observer: UploadObserver | undefined;
  /** The choices this file's drop is made with (taken when the file was added). */
  private readonly choices: Choices;

  constructor(file: File, owner: Uploads, observer?: UploadObserver) {
    this.file = file;
    this.owner = owner;
    this.observer = observer;
    this.row = new UploadRow(file.name, file.size, {
      cancel: () => void this.cancel(),
      retry: () => this.retryNow(),
      dismiss: () => this.row.el.remove(),
      ...(owner.opts.mine ? { delete: () => void this.deleteDone() } : {}),
    });
    const picked = owner.opts.choices?.();
    this.choices = picked?.choices ?? {};
    const remembered = owner.opts.store.find(file);
    if (remembered) {
      this.drop = { id: remembered.id, ownerToken: remembered.ownerToken };
      this.row.setDropId(remembered.id);
      this.row.showShare(remembered.shareUrl);
      this.row.showNote('Continuing the unfinished upload of this file.');
      observer?.drop?.(this, { id: remembered.id, ownerToken: remembered.ownerToken, shareUrl: remembered.shareUrl });
    } else if (picked?.words) {
      this.row.showChoices(picked.words);
    }
  }

  /** Delete for everyone, from the finished card (the same as Delete in "Your drops"). */
  private async deleteDone() {
    const drop = this.drop;
    const mine = this.owner.opts.mine;
    if (!drop || !mine || this.state !== 'done') return;
    this.row.status('Deleting…');
    if (await mine.delete('drop', drop.id)) {
      this.row.hideShare();
      this.row.status('Deleted. The link no longer works.');
      this.setState('deleted');
    } else {
      this.row.status('Not deleted. Try again.');
    }
  }

  get resuming(): boolean {
    return this.drop !== undefined;
  }

  /** Runs one attempt; resolves when it has finished, failed or been cancelled. */
  async run(): Promise<void> {
    const { client, store, announce, concurrency } = this.owner.opts;
    const name = this.file.name;
    this.setState('uploading');
    this.row.status(this.resuming ? 'Checking what is already uploaded…' : 'Starting…');
    const ctrl = (this.ctrl = new AbortController());
    const resume = this.drop;
    try {
      const view = await client.upload(blobSource(this.file), {
        signal: ctrl.signal,
        concurrency: concurrency ?? 4,
        ...(resume ? { resume } : this.choices),
        onTicket: (t: Ticket) => {
          this.drop = { id: t.id, ownerToken: t.ownerToken };
          this.row.setDropId(t.id);
          this.row.showShare(t.shareUrl);
          store.save({
            id: t.id,
            ownerToken: t.ownerToken,
            name,
            size: this.file.size,
            lastModified: this.file.lastModified,
            shareUrl: t.shareUrl,
            expiresAt: t.upload.expiresAt,
          });
          this.observer?.drop?.(this, { id: t.id, ownerToken: t.ownerToken, shareUrl: t.shareUrl });
          // A file of a batch is remembered through its collection (deleting it deletes them all).
          if (!resume && !this.observer) {
            this.owner.opts.mine?.remember({
              kind: 'drop',
              id: t.id,
              ownerToken: t.ownerToken,
              name,
              size: this.file.size,
              shareUrl: t.shareUrl,
              status: 'uploading',
              ...(t.expiresAt !== undefined ? { expiresAt: t.expiresAt } : {}),
              ...(this.choices.maxDownloads !== undefined ? { maxDownloads: this.choices.maxDownloads } : {}),
              ...(this.choices.password !== undefined ? { password: true } : {}),
            });
            announce(`Share link ready for ${name}.`);
          }
        },
        onProgress: (p) => {
          this.row.progress(p);
          const quarter = Math.floor((p.bytesSent / Math.max(1, p.bytesTotal)) * 4);
          if (quarter > this.milestone && quarter < 4) {
            this.milestone = quarter;
            announce(`${name}: ${quarter * 25}% uploaded.`);
          }
        },
      });
      store.remove(view.id);
      this.owner.opts.mine?.setStatus('drop', view.id, view.status, view.expiresAt !== undefined ? { expiresAt: view.expiresAt } : {});
      this.row.showNote(undefined);
      this.row.done(view);
      this.setState('done');
      announce(`${name} is uploaded.`);
    } catch (e) {
      if (ctrl.signal.aborted) {
        this.finishCancel();
        return;
      }
      if (resume && cannotResume(e)) {
        store.remove(resume.id);
        this.drop = undefined;
        this.row.hideShare();
        this.row.showNote('The earlier upload of this file could not be continued, so it starts over.');
        this.owner.enqueue(this, true);
        return;
      }
      this.fail(e);
    } finally {
      if (this.ctrl === ctrl) this.ctrl = undefined;
    }
  }

  private fail(e: unknown) {
    const ex = explain(e, this.file.name);
    this.row.showError(ex.message);
    this.owner.opts.announce(`${this.file.name}: ${ex.message}`);
    const auto = ex.retryable && (ex.offline || ex.retryAfter !== undefined) && this.autoRetries < MAX_AUTO_RETRIES;
    if (!auto) {
      this.setState('failed');
      this.row.status(this.drop ? 'Stopped. Retry continues where it stopped.' : 'Stopped.');
      return;
    }
    this.autoRetries++;
    this.setState('waiting');
    if (ex.offline && !navigator.onLine) {
      this.row.status('Waiting for the network…');
      this.waitOnline = () => this.retryNow();
      window.addEventListener('online', this.waitOnline, { once: true });
      return;
    }
    // Online but the request still failed (or the server asked us to wait): count down.
    let left = ex.retryAfter ?? Math.min(30, 2 ** this.autoRetries);
    const tick = () => this.row.status(`Trying again in ${left} s…`);
    tick();
    this.countdown = setInterval(() => {
      left = Math.max(0, left - 1);
      tick();
    }, 1000);
    this.timer = setTimeout(() => this.retryNow(), left * 1000);
  }

  retryNow() {
    if (this.state !== 'failed' && this.state !== 'waiting') return;
    this.clearWaits();
    this.row.showError(undefined);
    this.owner.enqueue(this, true);
  }

  async cancel() {
    this.clearWaits();
    if (this.state === 'uploading' && this.ctrl) {
      this.row.status('Cancelling…');
      // The SDK stops every PUT and deletes the drop on the server (S3 drops its parts).
      this.ctrl.abort();
      return;
    }
    if (this.state === 'done' || this.state === 'cancelled') return;
    this.owner.dequeue(this);
    const drop = this.drop;
    if (drop) {
      this.row.status('Cancelling…');
      await this.owner.opts.client.deleteDrop(drop.id, drop.ownerToken).catch(() => {});
    }
    this.finishCancel();
  }

  private finishCancel() {
    if (this.drop) {
      this.owner.opts.store.remove(this.drop.id);
      // Nothing was kept on the server: nothing to delete later either.
      this.owner.opts.mine?.forget('drop', this.drop.id);
    }
    this.drop = undefined;
    this.row.hideShare();
    this.row.showNote(undefined);
    this.row.status('Cancelled. Nothing was kept on the server.');
    this.setState('cancelled');
    this.owner.opts.announce(`Upload of ${this.file.name} cancelled.`);
  }

  private clearWaits() {
    if (this.timer) clearTimeout(this.timer);
    if (this.countdown) clearInterval(this.countdown);
    if (this.waitOnline) window.removeEventListener('online', this.waitOnline);
    this.timer = this.countdown = this.waitOnline = undefined;
  }

  setState(s: RowState) {
    this.state = s;
    this.row.setState(s);
    this.observer?.state?.(this, s);
  }
}

export class Uploads {
  readonly opts: UploadsOptions;
  private readonly queue: Upload[] = [];
  private active = 0;
  readonly items: Upload[] = [];

  constructor(opts: UploadsOptions) {
    this.opts = opts;
  }

  /** Whether this file is in the list and not finished: the same file twice would race itself for one resumable drop. */
  busy(file: File): boolean {
    return this.items.some(
      (u) =>
        u.file.name === file.name &&
        u.file.size === file.size &&
        u.file.lastModified === file.lastModified &&
        (u.state === 'queued' || u.state === 'uploading' || u.state === 'waiting'),
    );
  }

  add(files: Iterable<File>, opts: AddOptions = {}): Upload[] {
    const added: Upload[] = [];
    for (const file of files) {
      if (this.busy(file)) {
        this.opts.announce(`${file.name} is already being uploaded.`);
        continue;
      }
      const u = new Upload(file, this, opts.observer);
      this.items.push(u);
      // A batch lists its files in the order given; the page's list shows the newest first.
      if (opts.list) opts.list.append(u.row.el);
      else this.opts.list.prepend(u.row.el);
      added.push(u);
      this.enqueue(u, false);
    }
    return added;
  }

  enqueue(u: Upload, front: boolean) {
    u.setState('queued');
    if (front) this.queue.unshift(u);
    else this.queue.push(u);
    this.pump();
  }

  dequeue(u: Upload) {
    const i = this.queue.indexOf(u);
    if (i >= 0) this.queue.splice(i, 1);
  }

  private pump() {
    const max = this.opts.maxActive ?? 3;
    while (this.active < max && this.queue.length) {
      const u = this.queue.shift()!;
      this.active++;
      void u.run().finally(() => {
        this.active--;
        this.pump();
      });
    }
  }
}
