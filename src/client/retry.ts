/**
 * When to retry and how long to wait — pure functions, so the schedule is unit-tested
 * rather than discovered in production.
 */
import { abortError } from './errors.js';

export interface BackoffOptions {
  /** First delay in ms before jitter. */
  baseMs?: number;
  /** Ceiling for one delay in ms. */
  maxMs?: number;
}

/**
 * Exponential backoff with "equal jitter": half the window is fixed, half random. Pure
 * full jitter can pick ~0 ms and hammer a struggling endpoint; no jitter makes every
 * client that failed together retry together.
 * attempt 0 is the first retry: 250–500 ms, then 500–1000, 1000–2000, ... capped at maxMs.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = opts.baseMs ?? 500;
  const max = opts.maxMs ?? 20_000;
  const window = Math.min(max, base * 2 ** Math.max(0, attempt));
  return Math.round(window / 2 + random() * (window / 2));
}

/** The wait before the next attempt: the server's Retry-After when it gave one (bounded), else backoff. */
export function retryDelay(
  attempt: number,
  retryAfterSeconds: number | undefined,
  opts: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  if (retryAfterSeconds !== undefined) return Math.min(retryAfterSeconds * 1000, opts.maxMs ?? 20_000) + Math.round(random() * 250);
  return backoffDelay(attempt, opts, random);
}

export type PartFailure =
  | { kind: 'network' }
  | { kind: 'http'; status: number; body?: string; retryAfter?: number; urlExpired: boolean };

/**
 * What to do after a part PUT failed:
 * - `refresh`: the presigned URL ran out (403 that says so, or whose expiry has passed) — sign it again;
 * - `retry`: transient (network, 408, 429, 5xx) — wait and send again;
 * - `fatal`: any other 4xx will fail the same way every time.
 */
export function classifyPartFailure(f: PartFailure): 'retry' | 'refresh' | 'fatal' {
  if (f.kind === 'network') return 'retry';
  if (f.status === 403) {
    // S3 answers an expired presigned URL with 403 AccessDenied "Request has expired".
    return f.urlExpired || /expired/i.test(f.body ?? '') ? 'refresh' : 'fatal';
  }
  if (f.status === 408 || f.status === 429 || f.status >= 500) return 'retry';
  return 'fatal';
}

/** Which api answers are worth another try: throttling and transient server trouble. */
export function isRetryableApiStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 502 || status === 503 || status === 504;
}

/** setTimeout as a promise that rejects as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
