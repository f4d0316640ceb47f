/**
 * Choices for the next drops: how long they live, how many downloads, a password. The
 * server says what it allows (`GET /v1/limits`, read once); the page offers exactly that,
 * refuses a file that is too large before uploading it, and shows the choices on each card.
 *
 * The pure parts (labels, parsing, the size check) are exported for the unit tests; the
 * `Options` class is the form.
 */
import type { DropshipClient, Limits } from '../../client/index.js';
import { h } from './dom.js';
import { formatBytes } from './format.js';

/** What goes into the next tickets (SDK upload options). */
export interface Choices {
  expiresIn?: number;
  maxDownloads?: number;
  password?: string;
}

export const PASSWORD_MIN = 4;
export const PASSWORD_MAX = 256;

const UNITS: [seconds: number, one: string, many: string][] = [
  [365 * 86_400, 'year', 'years'],
  [86_400, 'day', 'days'],
  [3600, 'hour', 'hours'],
  [60, 'minute', 'minutes'],
];

/** A lifetime in words: 3600 → "1 hour", 259200 → "3 days", 1209600 → "14 days", 0 → "never expires". */
export function lifetimeLabel(seconds: number): string {
  if (seconds === 0) return 'never expires';
  for (const [unit, one, many] of UNITS) {
    if (seconds >= unit && seconds % unit === 0) {
      const n = seconds / unit;
      return `${n} ${n === 1 ? one : many}`;
    }
  }
  // Not a whole number of any unit: the largest unit that fits, rounded.
  for (const [unit, one, many] of UNITS) {
    if (seconds >= unit) {
      const n = Math.round(seconds / unit);
      return `${n} ${n === 1 ? one : many}`;
    }
  }
  return `${seconds} seconds`;
}

/**
 * When an expiry is, from now: "expires in 3 days", "expires in 5 hours", "expired";
 * coarse on purpose (the largest whole unit), rounded down except below one minute.
 */
export function expiryWords(expiresAt: string | undefined, now: number): string {
  if (expiresAt === undefined) return 'never expires';
  const left = Math.floor((Date.parse(expiresAt) - now) / 1000);
  if (!Number.isFinite(left)) return 'expiry unknown';
  if (left <= 0) return 'expired';
  for (const [unit, one, many] of [...UNITS.slice(1), [1, 'second', 'seconds'] as [number, string, string]]) {
    if (left >= unit) {
      const n = Math.floor(left / unit);
      return `expires in ${n} ${n === 1 ? one : many}`;
    }
  }
  return 'expires in a moment';
}

/** The download limit typed in: empty = none; else a whole number 1..max, or a sentence saying what is wrong. */
export function parseDownloadLimit(text: string, max: number): { ok: true; value: number | undefined } | { ok: false; message: string } {
  const t = text.trim();
  if (t === '') return { ok: true, value: undefined };
  if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > max) {
    return { ok: false, message: `The download limit must be a whole number from 1 to ${max.toLocaleString('en-US')}, or empty for no limit.` };
  }
  return { ok: true, value: Number(t) };
}

/** The password typed in: empty = none; else 4..256 characters. */
export function checkPassword(text: string): { ok: true; value: string | undefined } | { ok: false; message: string } {
  if (text === '') return { ok: true, value: undefined };
  const n = [...text].length;
  if (n < PASSWORD_MIN) return { ok: false, message: `The password needs at least ${PASSWORD_MIN} characters (or leave it empty for none).` };
  if (n > PASSWORD_MAX) return { ok: false, message: `The password may have at most ${PASSWORD_MAX} characters.` };
  return { ok: true, value: text };
}

/** Why a file cannot be uploaded here at all, before anything is sent (undefined: it can). */
export function refusal(file: { name: string; size: number }, limits: Pick<Limits, 'maxFileSize'> | undefined): string | undefined {
  if (!limits || file.size <= limits.maxFileSize) return undefined;
  return `“${file.name}” is ${formatBytes(file.size)}; this server accepts files up to ${formatBytes(limits.maxFileSize)}.`;
}

/** The choices as a card shows them: "Expires in 3 days · at most 5 downloads · password". */
export function describeChoices(c: Choices, limits: Pick<Limits, 'expiry'> | undefined): string {
  const lifetime = c.expiresIn ?? limits?.expiry.default;
  const parts: string[] = [];
  if (lifetime !== undefined) parts.push(lifetime === 0 ? 'Never expires' : `Expires after ${lifetimeLabel(lifetime)}`);
  parts.push(c.maxDownloads === undefined ? 'no download limit' : `at most ${c.maxDownloads} download${c.maxDownloads === 1 ? '' : 's'}`);
  if (c.password !== undefined) parts.push('password needed to download');
  return parts.join(' · ');
}

/** The form: built once the limits are known; `current()` is what the next drops get. */
export class Options {
  readonly el: HTMLElement;
  limits: Limits | undefined;
  private readonly expiry: HTMLSelectElement;
  private readonly downloads: HTMLInputElement;
  private readonly password: HTMLInputElement;
  private readonly error: HTMLParagraphElement;
  private readonly summary: HTMLParagraphElement;

  constructor(el: HTMLElement) {
    this.el = el;
    this.expiry = h('select', { id: 'opt-expiry', name: 'expiry' });
    this.downloads = h('input', {
      id: 'opt-downloads',
      name: 'max-downloads',
      type: 'number',
      inputmode: 'numeric',
      min: 1,
      step: 1,
      placeholder: 'No limit',
      'aria-describedby': 'opt-downloads-help',
    });
    this.password = h('input', {
      id: 'opt-password',
      name: 'password',
      type: 'password',
      autocomplete: 'new-password',
      minlength: PASSWORD_MIN,
      maxlength: PASSWORD_MAX,
      placeholder: 'None',
      'aria-describedby': 'opt-password-help',
    });
    this.error = h('p', { class: 'options-error', id: 'opt-error', role: 'alert', hidden: true });
    this.summary = h('p', { class: 'options-summary', id: 'opt-summary' });
    for (const input of [this.expiry, this.downloads, this.password]) {
      input.addEventListener('input', () => this.refresh());
      input.addEventListener('change', () => this.refresh());
    }
    el.replaceChildren(
      h('h2', { id: 'options-title' }, 'For the next drops'),
      h(
        'div',
        { class: 'options-grid' },
        h('div', { class: 'option' }, h('label', { for: 'opt-expiry' }, 'Link expires after'), this.expiry),
        h(
          'div',
          { class: 'option' },
          h('label', { for: 'opt-downloads' }, 'Download limit'),
          this.downloads,
          h('p', { class: 'option-help', id: 'opt-downloads-help' }, 'Empty: no limit. After that many downloads the link stops working.'),
        ),
        h(
          'div',
          { class: 'option', id: 'opt-password-field' },
          h('label', { for: 'opt-password' }, 'Password'),
          this.password,
          h('p', { class: 'option-help', id: 'opt-password-help' }, `Optional, ${PASSWORD_MIN}–${PASSWORD_MAX} characters: people need it to download.`),
        ),
      ),
      this.summary,
      this.error,
    );
    el.hidden = true;
  }

  /** Reads the server's limits once and offers what they allow; without them the form stays hidden (server defaults apply). */
  async load(client: DropshipClient): Promise<void> {
    try {
      this.show(await client.limits());
    } catch {
      // An older server, or none reachable yet: uploads still work with the server's defaults.
    }
  }

  show(limits: Limits) {
    this.limits = limits;
    const options = limits.expiry.options.length ? limits.expiry.options : [limits.expiry.default];
    this.expiry.replaceChildren(
      ...options.map((s) =>
        h('option', { value: s, selected: s === limits.expiry.default }, `${s === 0 ? 'Never' : lifetimeLabel(s)}${s === limits.expiry.default ? ' (default)' : ''}`),
      ),
    );
    this.downloads.max = String(limits.maxDownloads.max);
    this.el.querySelector<HTMLElement>('#opt-password-field')!.hidden = !limits.passwords;
    this.el.hidden = false;
    this.refresh();
  }

  /** The choices for the next drops, or a sentence saying what to fix. */
  current(): { ok: true; choices: Choices } | { ok: false; message: string } {
    if (!this.limits) return { ok: true, choices: {} };
    const downloads = parseDownloadLimit(this.downloads.value, this.limits.maxDownloads.max);
    if (!downloads.ok) return downloads;
    const password = this.limits.passwords ? checkPassword(this.password.value) : { ok: true as const, value: undefined };
    if (!password.ok) return password;
    const expiresIn = Number(this.expiry.value);
    return {
      ok: true,
      choices: {
        ...(this.expiry.value !== '' && Number.isSafeInteger(expiresIn) ? { expiresIn } : {}),
        ...(downloads.value !== undefined ? { maxDownloads: downloads.value } : {}),
        ...(password.value !== undefined ? { password: password.value } : {}),
      },
    };
  }

  describe(c: Choices): string {
    return describeChoices(c, this.limits);
  }

  /** Why this file cannot be uploaded here (too large), before anything is sent. */
  refuse(file: { name: string; size: number }): string | undefined {
    return refusal(file, this.limits);
  }

  private refresh() {
    const c = this.current();
    this.error.hidden = c.ok;
    this.error.textContent = c.ok ? '' : c.message;
    this.summary.textContent = c.ok ? `Next drops: ${this.describe(c.choices)}.` : '';
  }
}
