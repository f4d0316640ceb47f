/**
 * One upload's row: name and size, a progress bar with speed and time left, the share link
 * (copy button, QR code) as soon as the ticket exists, errors, and the buttons. State is
 * mirrored in `data-state` for styling (and for tests to wait on).
 */
import type { DropView, UploadProgress } from '../../client/index.js';
import { h } from './dom.js';
import { formatBytes, formatDuration, formatSpeed, percent } from './format.js';
import { copyButton } from './copy.js';
import { drawQr } from './qr.js';

export type RowState = 'queued' | 'uploading' | 'waiting' | 'done' | 'failed' | 'cancelled' | 'deleted';

let seq = 0;

export interface RowActions {
  cancel(): void;
  retry(): void;
  dismiss(): void;
  copied?(ok: boolean): void;
  /** Deletes the finished drop for everyone (absent: no Delete button). */
  delete?(): void;
}

export class UploadRow {
  readonly name: string;
  readonly size: number;
  readonly el: HTMLLIElement;
  private readonly bar: HTMLProgressElement;
  private readonly meta: HTMLParagraphElement;
  private readonly error: HTMLParagraphElement;
  private readonly note: HTMLParagraphElement;
  private readonly choices: HTMLParagraphElement;
  private readonly share: HTMLDivElement;
  private readonly link: HTMLInputElement;
  private readonly open: HTMLAnchorElement;
  private readonly qr: HTMLCanvasElement;
  private readonly cancelBtn: HTMLButtonElement;
  private readonly retryBtn: HTMLButtonElement;
  private readonly dismissBtn: HTMLButtonElement;
  private readonly deleteBtn: HTMLButtonElement;
  private readonly hasDelete: boolean;
  private shownUrl: string | undefined;

  constructor(name: string, size: number, actions: RowActions) {
    this.name = name;
    this.size = size;
    const id = `u${++seq}`;
    this.bar = h('progress', { id: `${id}-progress`, max: 100, value: 0, 'aria-labelledby': `${id}-label` });
    this.meta = h('p', { class: 'upload-meta', id: `${id}-meta` }, 'Waiting to start…');
    this.error = h('p', { class: 'upload-error', role: 'alert', hidden: true });
    this.note = h('p', { class: 'upload-note', hidden: true });
    this.choices = h('p', { class: 'upload-choices', hidden: true });
    this.link = h('input', { id: `${id}-link`, class: 'share-url', type: 'url', readonly: true, 'aria-describedby': `${id}-link-help` });
    this.open = h('a', { class: 'share-open', target: '_blank', rel: 'noopener noreferrer' }, 'Open share page');
    this.qr = h('canvas', { class: 'qr', role: 'img', 'aria-label': `QR code of the share link for ${name}`, width: 144, height: 144 });
    const copy = h('button', { type: 'button', class: 'button copy' }, 'Copy link');
    this.share = h(
      'div',
      { class: 'share', hidden: true },
      this.qr,
      h(
        'div',
        { class: 'share-text' },
        h('label', { for: `${id}-link` }, 'Share link'),
        h('div', { class: 'link-row' }, this.link, copy),
        h('p', { class: 'share-help', id: `${id}-link-help` }, 'Works right away: people see the upload finish live. ', this.open),
      ),
    );
    copyButton(copy, { text: () => this.link.value, field: () => this.link, ...(actions.copied ? { onCopied: actions.copied } : {}) });
    this.cancelBtn = h('button', { type: 'button', class: 'button cancel', 'aria-label': `Cancel upload of ${name}` }, 'Cancel');
    this.retryBtn = h('button', { type: 'button', class: 'button retry', hidden: true, 'aria-label': `Retry upload of ${name}` }, 'Retry');
    this.dismissBtn = h('button', { type: 'button', class: 'button dismiss', hidden: true, 'aria-label': `Hide ${name} here (the drop stays online)` }, 'Hide');
    this.deleteBtn = h('button', { type: 'button', class: 'button danger delete', hidden: true, 'aria-label': `Delete ${name} for everyone` }, 'Delete');
    this.hasDelete = actions.delete !== undefined;
    if (actions.delete) this.deleteBtn.addEventListener('click', actions.delete);
    this.cancelBtn.addEventListener('click', actions.cancel);
    this.retryBtn.addEventListener('click', actions.retry);
    this.dismissBtn.addEventListener('click', actions.dismiss);

    this.el = h(
      'li',
      { class: 'upload', 'data-state': 'queued', 'aria-labelledby': `${id}-label` },
      h(
        'div',
        { class: 'upload-head' },
        h('span', { class: 'upload-name', id: `${id}-label` }, name),
        h('span', { class: 'upload-size' }, formatBytes(size)),
      ),
      this.bar,
      this.meta,
      this.choices,
      this.note,
      this.error,
      this.share,
      h('div', { class: 'upload-actions' }, this.retryBtn, this.cancelBtn, this.deleteBtn, this.dismissBtn),
    );
  }

  setState(state: RowState) {
    this.el.dataset.state = state;
    const active = state === 'queued' || state === 'uploading' || state === 'waiting';
    this.cancelBtn.hidden = !(active || state === 'failed');
    this.cancelBtn.textContent = state === 'failed' ? 'Discard' : 'Cancel';
    this.cancelBtn.setAttribute('aria-label', `${state === 'failed' ? 'Discard' : 'Cancel'} upload of ${this.name}`);
    this.retryBtn.hidden = !(state === 'failed' || state === 'waiting');
    this.dismissBtn.hidden = active || state === 'failed';
    this.deleteBtn.hidden = !(this.hasDelete && state === 'done');
    if (state !== 'failed' && state !== 'waiting') this.showError(undefined);
  }

  setDropId(id: string) {
    this.el.dataset.dropId = id;
  }

  showShare(url: string) {
    if (this.shownUrl === url) return;
    this.shownUrl = url;
    this.link.value = url;
    this.open.href = url;
    this.share.hidden = false;
    void drawQr(this.qr, url).catch(() => (this.qr.hidden = true));
  }

  hideShare() {
    this.shownUrl = undefined;
    this.share.hidden = true;
  }

  progress(p: UploadProgress) {
    const pct = percent(p.bytesSent, p.bytesTotal);
    this.bar.value = pct;
    const parts = [`${pct}%`, `${formatBytes(p.bytesSent)} of ${formatBytes(p.bytesTotal)}`];
    if (p.bytesPerSecond > 0) parts.push(formatSpeed(p.bytesPerSecond));
    if (p.etaSeconds !== undefined && pct < 100) parts.push(`${formatDuration(p.etaSeconds)} left`);
    if (p.bytesResumed > 0) parts.push(`${formatBytes(p.bytesResumed)} resumed`);
    this.meta.textContent = parts.join(' · ');
  }

  status(text: string) {
    this.meta.textContent = text;
  }

  done(v: DropView) {
    this.bar.value = 100;
    this.meta.textContent = `Uploaded · ${formatBytes(v.size)}`;
    this.showShare(v.shareUrl);
  }

  /** The choices the drop was made with ("Expires after 3 days · …"). */
  showChoices(text: string | undefined) {
    this.choices.hidden = !text;
    this.choices.textContent = text ?? '';
  }

  showNote(text: string | undefined) {
    this.note.hidden = !text;
    this.note.textContent = text ?? '';
  }

  showError(text: string | undefined) {
    this.error.hidden = !text;
    this.error.textContent = text ?? '';
  }
}
