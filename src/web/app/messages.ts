/**
 * Failures as sentences a person can act on, plus what the app should do about them:
 * retry by itself (after `retryAfter` seconds, or once the browser is back online) or wait
 * for the user.
 */
import { DropshipApiError, DropshipResumeError, DropshipTransferError, sentenceFor } from '../../client/index.js';
import { formatBytes } from './format.js';

export interface Explained {
  message: string;
  /** Worth trying again: automatically when `retryAfter` or `offline` is set. */
  retryable: boolean;
  retryAfter?: number;
  offline?: boolean;
}

const BUSY = new Set(['UPLOAD_SLOTS_FULL', 'TOO_MANY_OPEN_TICKETS', 'RATE_LIMITED', 'STORAGE_UNAVAILABLE']);

export function explain(e: unknown, name: string, online = navigator.onLine): Explained {
  if (e instanceof DropshipApiError) {
    const max = e.details?.maxSize;
    switch (e.code) {
      case 'FILE_TOO_LARGE':
        return {
          message: `“${name}” is too large: this server accepts files up to ${typeof max === 'number' ? formatBytes(max) : 'a smaller size'}.`,
          retryable: false,
        };
      case 'NAME_INVALID':
        return { message: `The name “${name}” cannot be used here (${e.message}). Rename the file and try again.`, retryable: false };
      case 'UNAUTHORIZED':
        return { message: 'This server only accepts uploads with an API key.', retryable: false };
      case 'DROP_EXPIRED':
        return { message: 'The upload took longer than the server allows and expired. Start it again.', retryable: true };
      case 'TOO_MANY_OPEN_TICKETS':
        return {
          message: `Too many unfinished uploads at once. Trying again in ${e.retryAfter ?? 30} s.`,
          retryable: true,
          retryAfter: e.retryAfter ?? 30,
        };
    }
    if (BUSY.has(e.code) || e.status === 503 || e.status === 429) {
      const wait = e.retryAfter ?? 10;
      return { message: `The server is busy. Trying again in ${wait} s.`, retryable: true, retryAfter: wait };
    }
    if (e.status >= 500) return { message: 'The server had a problem. Try again in a moment.', retryable: true, retryAfter: 10 };
    return { message: sentenceFor(e.code, e.details, e.retryAfter) ?? `The server refused the upload: ${e.message}`, retryable: false };
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
