/**
 * A download that survives its connection: when the body breaks off (the server or a proxy
 * closes the connection mid-body, a reset, the caller interrupting a stuck transfer), the
 * rest is asked for with `Range: bytes=<received>-` (and `If-Match` on the first answer's
 * ETag, so the pieces are of one object), a bounded number of times. Browser-safe: fetch
 * and web streams only.
 */
import { backoffDelay } from './retry.js';

/** A resume that cannot work (the server ignored the range, the object changed): retrying will not help. */
export class DownloadResumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadResumeError';
  }
}

export interface ResumableOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Resumes after the first attempt (default 5). */
  attempts?: number;
  /** Wait before resume `n` (default: backoff from 250 ms). */
  delayMs?: (n: number) => number;
  onRetry?: (received: number, error: unknown) => void;
}

export interface ResumableDownload {
  /** The first answer (status, headers); its body is read through `body`. */
  response: Response;
  /** Expected length, from the first answer's Content-Length. */
  size?: number;
  body: AsyncGenerator<Uint8Array>;
  /** Breaks off the transfer in progress; it resumes with a Range request like any other break. */
  interrupt(reason?: unknown): void;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

export async function openResumable(url: string | URL, opts: ResumableOptions = {}): Promise<ResumableDownload> {
  const f = opts.fetch ?? fetch;
  const attempts = opts.attempts ?? 5;
  const delay = opts.delayMs ?? ((n: number) => backoffDelay(n - 1, { baseMs: 250, maxMs: 5000 }));
  let current = new AbortController();
  const attempt = () => {
    current = new AbortController();
    const c = current;
    if (opts.signal?.aborted) c.abort(opts.signal.reason);
    opts.signal?.addEventListener('abort', () => c.abort(opts.signal!.reason), { once: true });
    return c.signal;
  };

  const response = await f(url, { signal: attempt() });
  const len = response.headers.get('content-length');
  const size = len !== null && /^\d+$/.test(len) ? Number(len) : undefined;
  const etag = response.headers.get('etag');

  async function* body(): AsyncGenerator<Uint8Array> {
    let got = 0;
    let resumes = 0;
    let res: Response | undefined = response;
    for (;;) {
      try {
        if (!res) {
          res = await f(url, { signal: attempt(), headers: { range: `bytes=${got}-`, ...(etag ? { 'if-match': etag } : {}) } });
          const range = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
          if (res.status !== 206 || !range || Number(range[1]) !== got) {
            await res.body?.cancel().catch(() => {});
            throw new DownloadResumeError(`storage answered HTTP ${res.status} to a resume at byte ${got}`);
          }
        }
        if (!res.body) throw new Error('the answer has no body');
        const reader = res.body.getReader();
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            got += value.byteLength;
            if (size !== undefined && got > size) throw new DownloadResumeError(`more than the ${size} bytes announced`);
            yield value;
          }
        } finally {
          await reader.cancel().catch(() => {});
        }
        if (size === undefined || got === size) return;
        throw new Error(`the connection closed after ${got} of ${size} bytes`);
      } catch (e) {
        // Without a length there is no telling a break from the end; a caller's abort is final.
        if (e instanceof DownloadResumeError || opts.signal?.aborted || size === undefined || ++resumes > attempts) throw e;
        opts.onRetry?.(got, e);
        res = undefined;
        await sleep(delay(resumes), opts.signal);
      }
    }
  }

  return { response, ...(size !== undefined ? { size } : {}), body: body(), interrupt: (reason) => current.abort(reason) };
}
