/**
 * One upload's row: name and size, a progress bar with speed and time left, the share link
 * (copy button, QR code) as soon as the ticket exists, errors, and the buttons. State is
 * mirrored in `data-state` for styling (and for tests to wait on).
 */
import type { DropView, UploadProgress } from '../../client/index.js';
import { h } from './dom.js';
import { formatBytes, formatDuration, formatSpeed, percent } from './format.js';
import { drawQr } from './qr.js';

export type RowState = 'queued' | 'uploading' | 'waiting' | 'done' | 'failed' | 'cancelled';

let seq = 0;

export interface RowActions {
  cancel(): void;
  retry(): void;
  dismiss(): void;
  copied(ok: boolean): void;
}

export class UploadRow {
  readonly name: string;
  readonly size: number;
  readonly el: HTMLLIElement;
  private readonly bar: HTMLProgressElement;
  private readonly meta: HTMLParagraphElement;
  private readonly error: HTMLParagraphElement;
  private readonly note: HTMLParagraphElement;
  private readonly share: HTMLDivElement;
  private readonly link: HTMLInputElement;
  private readonly open: HTMLAnchorElement;
  private readonly qr: HTMLCanvasElement;
  private readonly cancelBtn: HTMLButtonElement;
  private readonly retryBtn: HTMLButtonElement;
  private readonly dismissBtn: HTMLButtonElement;
  private shownUrl: string | undefined;

  constructor(name: string, size: number, actions: RowActions) {
    this.name = name;
    this.size = size;
    const id = `u${++seq}`;
    this.bar = h('progress', { id: `${id}-progress`, max: 100, value: 0, 'aria-labelledby': `${id}-label` });
    this.meta = h('p', { class: 'upload-meta', id: `${id}-meta` }, 'Waiting to start…');
    this.error = h('p', { class: 'upload-error', role: 'alert', hidden: true });
    this.note = h('p', { class: 'upload-note', hidden: true });
    this.link = h('input', { id: `${id}-link`, class: 'share-url', type: 'url', readonly: true, 'aria-describedby': `${id}-link-help` });
    this.open = h('a', { class: 'share-open', target: '_blank', rel: 'noopener noreferrer' }, 'Open share page');
    this.qr = h('canvas', { class: 'qr', role: 'img', 'aria-label': `QR code of the share link for ${name}`, width: 144, height: 144 });
    const copy = h('button', { type: 'button', class: 'button copy' }, 'Copy link');
    copy.addEventListener('click', () => void this.copy().then(actions.copied));
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
    this.cancelBtn = h('button', { type: 'button', class: 'button cancel', 'aria-label': `Cancel upload of ${name}` }, 'Cancel');
    this.retryBtn = h('button', { type: 'button', class: 'button retry', hidden: true, 'aria-label': `Retry upload of ${name}` }, 'Retry');
    this.dismissBtn = h('button', { type: 'button', class: 'button dismiss', hidden: true, 'aria-label': `Remove ${name} from the list` }, 'Remove');
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
      this.note,
      this.error,
      this.share,
      h('div', { class: 'upload-actions' }, this.retryBtn, this.cancelBtn, this.dismissBtn),
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

  showNote(text: string | undefined) {
    this.note.hidden = !text;
    this.note.textContent = text ?? '';
  }

  showError(text: string | undefined) {
    this.error.hidden = !text;
    this.error.textContent = text ?? '';
  }

  private async copy(): Promise<boolean> {
    const url = this.link.value;
    try {
      await navigator.clipboard.writeText(url);
      return true;
    } catch {
      // Clipboard API refused (permissions, insecure context): select the text for Ctrl+C.
      this.link.focus();
      this.link.select();
      return false;
    }
  }
}
