/** Errors the SDK throws. Callers branch on `code` (stable, from the api's catalogue), never on messages. */

/** An error answer from the dropship api: `{ error: { code, message, details } }` plus Retry-After. */
export class DropshipApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  /** Seconds the server asked us to wait (Retry-After on 429/503). */
  readonly retryAfter: number | undefined;
  override readonly name = 'DropshipApiError';
  constructor(status: number, code: string, message: string, details?: Record<string, unknown>, retryAfter?: number) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}

/** A part PUT to S3 failed for good (after retries, or with an answer that retrying cannot fix). */
export class DropshipTransferError extends Error {
  readonly partNumber: number;
  /** HTTP status from S3, undefined for network errors. */
  readonly status: number | undefined;
  override readonly name = 'DropshipTransferError';
  constructor(message: string, partNumber: number, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.partNumber = partNumber;
    this.status = status;
  }
}

/** Thrown when the caller's AbortSignal fired, unless the signal carried its own reason. */
export function abortError(signal?: AbortSignal): unknown {
  if (signal?.reason !== undefined) return signal.reason;
  return new DOMException('The upload was aborted', 'AbortError');
}

export function isAbortError(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError');
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** The api's `{ error: { code, message, details } }` answer (or any other non-2xx) as an error. */
export function apiErrorFromResponse(res: Response, text: string): DropshipApiError {
  const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    /* a proxy's HTML page, say */
  }
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)?.error;
  if (e && typeof e.code === 'string') {
    return new DropshipApiError(
      res.status,
      e.code,
      typeof e.message === 'string' ? e.message : e.code,
      e.details && typeof e.details === 'object' ? (e.details as Record<string, unknown>) : undefined,
      retryAfter,
    );
  }
  return new DropshipApiError(res.status, `HTTP_${res.status}`, `HTTP ${res.status} ${res.statusText}`.trim(), undefined, retryAfter);
}
