/**
 * Every error code the server can answer, as a sentence a person can act on — for the CLI
 * and the web app alike. The server's own `message` is precise but terse ("files may be at
 * most 5368709120 bytes"); this says the same in words and human units, using the error's
 * `details` where the server sends them. test/unit/sentences.test.ts fails when a code of
 * the server's catalogue has no sentence here.
 */
import { formatBytes } from '../core/format.js';
import type { ErrorCode } from '../core/errors.js';

type Details = Record<string, unknown> | undefined;
const num = (d: Details, k: string) => (typeof d?.[k] === 'number' ? (d[k] as number) : undefined);
const str = (d: Details, k: string) => (typeof d?.[k] === 'string' ? (d[k] as string) : undefined);
const later = (retryAfter?: number) => (retryAfter ? `Try again in ${retryAfter} s.` : 'Try again in a moment.');

const SENTENCES: Record<ErrorCode, (d: Details, retryAfter?: number) => string> = {
  VALIDATION_FAILED: () => 'The request was not in a form the server accepts.',
  NAME_INVALID: (d) => `The file name cannot be used${str(d, 'reason') ? ` (${str(d, 'reason')})` : ''}. Rename the file and try again.`,
  SIZE_INVALID: () => 'The file size given is not one the server can accept.',
  PART_NUMBER_INVALID: () => 'The upload asked for parts the file does not have.',
  PASSWORD_INVALID: () => 'A password must be 4 to 256 characters long.',
  BODY_TOO_LARGE: () => 'The request was larger than the server accepts.',
  LENGTH_MISMATCH: () => 'The upload ended before all of the file arrived. Send it again.',
  STREAM_IDLE_TIMEOUT: () => 'The upload stalled: no data arrived for too long. Send it again.',
  STREAM_TOO_SLOW: () => 'The upload was too slow while others were waiting. Try again on a faster connection, or use `dropship upload`.',
  STREAM_TOO_LONG: () => 'The upload took longer than the server allows for one request. Use `dropship upload`, which can resume.',
  UNAUTHORIZED: () => 'This server needs an API key (--key, or DROPSHIP_KEY).',
  PASSWORD_REQUIRED: () => 'This drop is password-protected: give its password (--password, --password-stdin or DROPSHIP_PASSWORD).',
  PASSWORD_WRONG: () => 'Wrong password for this drop.',
  OWNER_TOKEN_INVALID: () => 'Only the one who uploaded this drop can do that, and this owner token is not theirs.',
  CROSS_SITE_REFUSED: () => 'The request came from another site and was refused.',
  DROP_NOT_FOUND: () => 'There is no drop with this link: it may never have existed, or it was removed.',
  ROUTE_NOT_FOUND: () => 'This server has no such address. Check the server URL.',
  THUMBNAIL_NOT_FOUND: () => 'This drop has no preview of that size.',
  DROP_NOT_READY: (d) => `The file is not ready to download${str(d, 'status') ? ` (it is ${str(d, 'status')})` : ''}.`,
  DROP_NOT_UPLOADING: (d) => `The upload can no longer change${str(d, 'status') ? `: the drop is ${str(d, 'status')}` : ''}.`,
  DROP_NOT_PROTECTED: () => 'This drop has no password: it can be read without unlocking.',
  PART_MISSING: () => 'Some of the file has not reached storage yet. Resume the upload.',
  PART_UNEXPECTED: () => 'The upload holds a part it should not. Start the upload again.',
  PART_SIZE_MISMATCH: () => 'A part of the upload has the wrong size. Start the upload again.',
  PART_ETAG_MISMATCH: () => 'A part in storage is not the one that was uploaded. Start the upload again.',
  DROP_EXPIRED: () => 'This drop has expired.',
  DROP_DELETED: () => 'This drop was deleted by its owner.',
  DOWNLOAD_LIMIT_REACHED: () => 'This drop has been downloaded as many times as its owner allowed.',
  FILE_TOO_LARGE: (d) => {
    const max = num(d, 'maxSize');
    return `The file is too large: this server accepts files up to ${max === undefined ? 'a smaller size' : formatBytes(max)}.`;
  },
  UNSUPPORTED_MEDIA_TYPE: () => 'The request body has a type the server does not accept.',
  TYPE_NOT_ALLOWED: () => 'This kind of file is not accepted with this API key.',
  TOO_MANY_OPEN_TICKETS: (_d, r) => `Too many unfinished uploads at once. Finish or cancel some. ${later(r)}`,
  RATE_LIMITED: (_d, r) => `Too many requests from here. ${later(r)}`,
  TOO_MANY_EVENT_STREAMS: (_d, r) => `Too many pages are following uploads from here. Close some. ${later(r)}`,
  TOO_MANY_STREAMS: (_d, r) => `Too many uploads from here at once. ${later(r)}`,
  INTERNAL: () => 'The server had a problem. Try again; if it persists, tell its operator.',
  STORAGE_UNAVAILABLE: (_d, r) => `The server cannot reach its storage right now. ${later(r)}`,
  STORAGE_BUSY: (_d, r) => `Storage is busy. ${later(r)}`,
  UPLOAD_SLOTS_FULL: (_d, r) => `The server is busy with other uploads. ${later(r)}`,
  STREAM_SLOTS_FULL: (_d, r) => `The server is busy with other uploads. ${later(r)}`,
  EVENT_STREAMS_FULL: (_d, r) => `The server is following too many uploads right now. ${later(r)}`,
  COLLECTION_NOT_FOUND: () => 'There is no collection with this link: it may never have existed, or it was removed.',
  COLLECTION_DELETED: () => 'This collection was deleted by its owner.',
  COLLECTION_EXPIRED: () => 'This collection has expired: every file in it has.',
  COLLECTION_FULL: (d) => `This collection cannot take more files${num(d, 'max') ? ` (at most ${num(d, 'max')})` : ''}.`,
  DROP_NOT_ADDABLE: (d) => `That file cannot be added to a collection${str(d, 'status') ? ` (it is ${str(d, 'status')})` : ''}.`,
};

/** The sentence for a server error code, or undefined for a code this client does not know. */
export function sentenceFor(code: string, details?: Record<string, unknown>, retryAfter?: number): string | undefined {
  return Object.hasOwn(SENTENCES, code) ? SENTENCES[code as ErrorCode](details, retryAfter) : undefined;
}

/** Every code with a sentence (for the test that keeps this table complete). */
export const KNOWN_CODES = Object.keys(SENTENCES);
