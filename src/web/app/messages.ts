/**
 * Failures as sentences a person can act on, plus what the app should do about them:
 * retry by itself (after `retryAfter` seconds, or once the browser is back online) or wait
 * for the user.
 */
import { DropshipApiError, DropshipResumeError, DropshipTransferError, sentenceFor } from '../../client/index.js';
import type { ErrorCode } from '../../core/errors.js';
import { formatBytes } from './format.js';

export interface Explained {
  message: string;
  /** Worth trying again: automatically when `retryAfter` or `offline` is set. */
  retryable: boolean;
  retryAfter?: number;
  offline?: boolean;
}

/** What a sentence may use: the file's name and the error's details. */
interface Context {
  name: string;
  details: Record<string, unknown> | undefined;
  retryAfter: number | undefined;
  message: string;
}

const size = (v: unknown, otherwise: string) => (typeof v === 'number' ? formatBytes(v) : otherwise);
const list = (v: unknown) => (Array.isArray(v) ? v.map(String).join(', ') : undefined);

/**
 * Upload-specific sentences (they name the file) for the codes an upload meets: a person reads
 * this, never a code. Any other code of the server's catalogue gets the SDK's sentence
 * (`sentenceFor`, complete for every code: test/unit/sentences.test.ts). `retryable` codes are
 * tried again (by the upload or by the Retry button).
 */
export const SENTENCES: Partial<Record<ErrorCode, { text: (c: Context) => string; retryable: boolean }>> = {
  VALIDATION_FAILED: { text: (c) => `The server could not accept the upload of “${c.name}”: ${c.message}.`, retryable: false },
  NAME_INVALID: { text: (c) => `The name “${c.name}” cannot be used here (${c.message}). Rename the file and try again.`, retryable: false },
  SIZE_INVALID: { text: (c) => `“${c.name}” has a size this server cannot take (${c.message}).`, retryable: false },
  PART_NUMBER_INVALID: { text: (c) => `The upload of “${c.name}” went out of step with the server. Try again.`, retryable: true },
  BODY_TOO_LARGE: { text: () => 'The request was too large for the server (over 2 MiB). Try again with fewer files at once.', retryable: false },
  LENGTH_MISMATCH: { text: (c) => `Fewer or more bytes of “${c.name}” arrived than announced. Try again.`, retryable: true },
  STREAM_IDLE_TIMEOUT: { text: (c) => `The upload of “${c.name}” stalled, so the server stopped it. Try again.`, retryable: true },
  STREAM_TOO_SLOW: { text: (c) => `The upload of “${c.name}” was too slow for the server. Try again on a faster connection.`, retryable: true },
  STREAM_TOO_LONG: { text: (c) => `The upload of “${c.name}” took longer than the server allows. Try again on a faster connection.`, retryable: true },
  UNAUTHORIZED: { text: () => 'This server only accepts uploads with an API key.', retryable: false },
  OWNER_TOKEN_INVALID: { text: (c) => `This browser no longer holds the right to change “${c.name}”.`, retryable: false },
  CROSS_SITE_REFUSED: { text: () => 'The server refused a request from this page (cross-site). Reload the page and try again.', retryable: false },
  DROP_NOT_FOUND: { text: (c) => `The server no longer knows the upload of “${c.name}”.`, retryable: false },
  ROUTE_NOT_FOUND: { text: () => 'This server does not offer what the page asked for (an older version?). Reload the page.', retryable: false },
  THUMBNAIL_NOT_FOUND: { text: (c) => `There is no preview of “${c.name}” (yet).`, retryable: false },
  DROP_NOT_READY: { text: (c) => `“${c.name}” is not available yet: its upload has not finished.`, retryable: true },
  DROP_NOT_UPLOADING: { text: (c) => `The upload of “${c.name}” can no longer be changed: it was finished, cancelled or deleted.`, retryable: false },
  PART_MISSING: { text: (c) => `Some parts of “${c.name}” did not reach storage. Retry sends them again.`, retryable: true },
  PART_UNEXPECTED: { text: (c) => `Storage holds parts of “${c.name}” that do not belong to it. Try again.`, retryable: true },
  PART_SIZE_MISMATCH: { text: (c) => `A part of “${c.name}” reached storage with the wrong size. Try again.`, retryable: true },
  PART_ETAG_MISMATCH: { text: (c) => `A part of “${c.name}” in storage is not the one this page sent. Try again.`, retryable: true },
  DROP_EXPIRED: { text: () => 'The upload took longer than the server allows and expired. Start it again.', retryable: true },
  DOWNLOAD_LIMIT_REACHED: { text: (c) => `“${c.name}” has been downloaded as many times as allowed; its link no longer works.`, retryable: false },
  FILE_TOO_LARGE: {
    text: (c) => `“${c.name}” is too large: this server accepts files up to ${size(c.details?.maxSize, 'a smaller size')}.`,
    retryable: false,
  },
  TYPE_NOT_ALLOWED: {
    text: (c) => {
      const allowed = list(c.details?.allowedTypes);
      return `“${c.name}” is a kind of file this server does not take${allowed ? ` (it takes ${allowed})` : ''}.`;
    },
    retryable: false,
  },
  UNSUPPORTED_MEDIA_TYPE: { text: () => 'The server did not understand the page’s request. Reload the page and try again.', retryable: false },
  TOO_MANY_OPEN_TICKETS: { text: (c) => `Too many unfinished uploads at once. Trying again in ${c.retryAfter ?? 30} s.`, retryable: true },
  RATE_LIMITED: { text: (c) => `Too many requests in a minute. Trying again in ${c.retryAfter ?? 10} s.`, retryable: true },
  TOO_MANY_EVENT_STREAMS: { text: (c) => `Too many pages are watching drops from here. Trying again in ${c.retryAfter ?? 10} s.`, retryable: true },
  TOO_MANY_STREAMS: { text: (c) => `Too many uploads from here at once. Trying again in ${c.retryAfter ?? 10} s.`, retryable: true },
  INTERNAL: { text: () => 'The server had a problem. Try again in a moment.', retryable: true },
  STORAGE_UNAVAILABLE: { text: (c) => `The server cannot reach its storage right now. Trying again in ${c.retryAfter ?? 10} s.`, retryable: true },
  STORAGE_BUSY: { text: (c) => `The server is busy with this drop. Trying again in ${c.retryAfter ?? 10} s.`, retryable: true },
  UPLOAD_SLOTS_FULL: { text: (c) => `The server is busy. Trying again in ${c.retryAfter ?? 10} s.`, retryable: true },
  STREAM_SLOTS_FULL: { text: (c) => `The server is busy. Trying again in ${c.retryAfter ?? 10} s.`, retryable: true },
  EVENT_STREAMS_FULL: { text: (c) => `The server is busy. Trying again in ${c.retryAfter ?? 10} s.`, retryable: true },
};

/** Codes after which the page waits (Retry-After, or a default) and tries again by itself. */
const WAIT = new Set<string>([
  'UPLOAD_SLOTS_FULL',
  'TOO_MANY_OPEN_TICKETS',
  'RATE_LIMITED',
  'STORAGE_UNAVAILABLE',
  'STORAGE_BUSY',
  'STREAM_SLOTS_FULL',
  'EVENT_STREAMS_FULL',
  'TOO_MANY_EVENT_STREAMS',
  'TOO_MANY_STREAMS',
]);

const isKnown = (code: string): code is ErrorCode => Object.hasOwn(SENTENCES, code);

export function explain(e: unknown, name: string, online = navigator.onLine): Explained {
  if (e instanceof DropshipApiError) {
    const c: Context = { name, details: e.details, retryAfter: e.retryAfter, message: e.message };
    if (isKnown(e.code)) {
      const s = SENTENCES[e.code]!;
      if (WAIT.has(e.code) || (s.retryable && e.retryAfter !== undefined)) {
        const wait = e.retryAfter ?? (e.code === 'TOO_MANY_OPEN_TICKETS' ? 30 : 10);
        return { message: s.text({ ...c, retryAfter: wait }), retryable: true, retryAfter: wait };
      }
      if (e.code === 'INTERNAL') return { message: s.text(c), retryable: true, retryAfter: 10 };
      return { message: s.text(c), retryable: s.retryable };
    }
    // A code this page does not know (a newer server): still a sentence.
    if (e.status === 503 || e.status === 429) {
      const wait = e.retryAfter ?? 10;
      return { message: `The server is busy. Trying again in ${wait} s.`, retryable: true, retryAfter: wait };
    }
    if (e.status >= 500) return { message: 'The server had a problem. Try again in a moment.', retryable: true, retryAfter: 10 };
    return { message: sentenceFor(e.code, e.details, e.retryAfter) ?? `The server refused the upload of “${name}”: ${e.message}.`, retryable: false };
  }
  if (isNetworkFailure(e) || !online) {
    return {
      message: 'The network connection was lost. The upload continues by itself when you are back online.',
      retryable: true,
      offline: true,
    };
  }
  if (e instanceof DropshipTransferError) {
    return { message: `Storage refused part ${e.partNumber} (HTTP ${e.status}). Try again.`, retryable: true };
  }
  if (e instanceof DropshipResumeError) {
    return { message: 'This file differs from the unfinished upload with the same name.', retryable: true };
  }
  return { message: `Upload failed: ${e instanceof Error ? e.message : String(e)}`, retryable: true };
}

/** No HTTP answer at all: fetch's TypeError, or a part that failed on the network every time. */
export function isNetworkFailure(e: unknown): boolean {
  if (e instanceof DropshipTransferError) return e.status === undefined;
  return e instanceof TypeError;
}
