/**
 * The catalogue of errors clients can rely on. Codes are stable (clients branch on them);
 * messages are for people and may change. Anything not in this catalogue becomes a
 * generic 500 INTERNAL with no internals leaked.
 */
export const ERRORS = {
  VALIDATION_FAILED: 400,
  NAME_INVALID: 400,
  SIZE_INVALID: 400,
  PART_NUMBER_INVALID: 400,
  PASSWORD_INVALID: 400,
  BODY_TOO_LARGE: 413,
  LENGTH_MISMATCH: 400,
  STREAM_IDLE_TIMEOUT: 408,
  STREAM_TOO_SLOW: 408,
  STREAM_TOO_LONG: 408,
  UNAUTHORIZED: 401,
  PASSWORD_REQUIRED: 401,
  PASSWORD_WRONG: 401,
  OWNER_TOKEN_INVALID: 403,
  CROSS_SITE_REFUSED: 403,
  DROP_NOT_FOUND: 404,
  COLLECTION_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  THUMBNAIL_NOT_FOUND: 404,
  DROP_NOT_READY: 409,
  DROP_NOT_UPLOADING: 409,
  DROP_NOT_PROTECTED: 409,
  PART_MISSING: 409,
  PART_UNEXPECTED: 409,
  PART_SIZE_MISMATCH: 409,
  PART_ETAG_MISMATCH: 409,
  DROP_NOT_ADDABLE: 409,
  COLLECTION_FULL: 409,
  DROP_EXPIRED: 410,
  DROP_DELETED: 410,
  DOWNLOAD_LIMIT_REACHED: 410,
  COLLECTION_DELETED: 410,
  COLLECTION_EXPIRED: 410,
  FILE_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TYPE_NOT_ALLOWED: 415,
  TOO_MANY_OPEN_TICKETS: 429,
  RATE_LIMITED: 429,
  TOO_MANY_EVENT_STREAMS: 429,
  TOO_MANY_STREAMS: 429,
  INTERNAL: 500,
  STORAGE_UNAVAILABLE: 503,
  STORAGE_BUSY: 503,
  UPLOAD_SLOTS_FULL: 503,
  STREAM_SLOTS_FULL: 503,
  EVENT_STREAMS_FULL: 503,
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class DropshipError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: Record<string, unknown>;
  /** Seconds, sent as Retry-After on 429/503. */
  readonly retryAfter?: number;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, retryAfter?: number) {
    super(message);
    this.name = 'DropshipError';
    this.code = code;
    this.status = ERRORS[code];
    if (details !== undefined) this.details = details;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
  }
}

export const fail = (code: ErrorCode, message: string, details?: Record<string, unknown>, retryAfter?: number) =>
  new DropshipError(code, message, details, retryAfter);
