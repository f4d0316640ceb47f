/**
 * The upload engine: ticket (or resume), parts straight to S3 in parallel, complete.
 *
 * - Memory: each of the `concurrency` workers holds one part at a time, so at most
 *   `concurrency` parts are in memory whatever the file size.
 * - URLs: signed lazily in batches just ahead of the parts about to go (see batching.ts);
 *   one that expired (or that S3 refused as expired) is signed again.
 * - Failures: transient ones are retried per part with backoff; a part failing for good stops
 *   the others and leaves the drop resumable ({id, ownerToken} came through onTicket).
 * - Abort: stops every PUT and, unless deleteOnAbort is false, deletes the drop on the server
 *   so S3 drops the multipart upload and its parts ("cancel aborts on the server").
 */
import { partRange, partSizeOf, partsInFlight, planFits, planOf } from '../core/parts.js';
import type { DropshipClient } from './client.js';
import { DropshipTransferError, abortError, isAbortError } from './errors.js';
import { UrlCache, planSignBatch } from './batching.js';
import { ProgressMeter, type UploadProgress } from './progress.js';
import { classifyPartFailure, retryDelay, sleep, type PartFailure } from './retry.js';
import { NetworkError, putPart, type PartBody } from './transport.js';
import type { CompletedPart, DropView, SignedPart, Ticket } from './types.js';

/** Anything that can hand out byte ranges: a browser File (blobSource) or a file on disk (node.ts fileSource). */
export interface UploadSource {
  name: string;
  size: number;
  type?: string;
  lastModified?: number;
  /** Bytes [start, end). Called once per part, just before the part is sent. */
  slice(start: number, end: number): Promise<Blob | Uint8Array>;
}

export interface UploadOptions {
  /** Overrides source.name / source.type. */
  name?: string;
  type?: string;
  expiresIn?: number;
  sha256?: string;
  maxDownloads?: number;
  /** Protects the drop (4..256 characters, where `limits().passwords`): readers must unlock it (`client.unlock`) to see or download it. */
  password?: string;
  /** Private metadata (string → string, ≤ 16 entries, ≤ 2 KiB): shown only to this key and the owner token. */
  metadata?: Record<string, string>;
  /** Parallel part PUTs. Default 4; fewer for files of few parts, so parts land in S3 all along (resume). */
  concurrency?: number;
  /** Retries per part after transient failures (network, 408, 429, 5xx). Default 5. */
  retries?: number;
  /** Aborting stops all PUTs and (unless deleteOnAbort is false) deletes the drop. */
  signal?: AbortSignal;
  /** Continue an earlier upload of the same bytes: only parts S3 lacks are sent. */
  resume?: { id: string; ownerToken: string };
  /**
   * As soon as the ticket exists (or, resuming, once the drop is found): the share link is
   * known. A returned promise is awaited before any bytes flow, so a caller can persist
   * {id, ownerToken} for resuming first.
   */
  onTicket?: (t: Ticket) => unknown;
  /** Byte-level with XMLHttpRequest (browsers), per part with fetch (Node). */
  onProgress?: (p: UploadProgress) => void;
  /** Default true. */
  deleteOnAbort?: boolean;
  /** 'auto' (default): XMLHttpRequest where it exists and no custom fetch was given, else fetch. */
  transport?: 'auto' | 'fetch' | 'xhr';
  /** For tests: backoff randomness. */
  random?: () => number;
}

/** Raised when resuming with a source that cannot be the file the drop was created for. */
export class DropshipResumeError extends Error {
  readonly code: 'RESUME_SIZE_MISMATCH' | 'RESUME_PLAN_MISMATCH';
  override readonly name = 'DropshipResumeError';
  constructor(message: string, code: 'RESUME_SIZE_MISMATCH' | 'RESUME_PLAN_MISMATCH') {
    super(message);
    this.code = code;
  }
}

const PROGRESS_EVERY_MS = 100;
/** Re-signing an "expired" URL more often than this for one part means something else is wrong (clock). */
const MAX_REFRESHES_PER_PART = 3;

export async function uploadFile(client: DropshipClient, source: UploadSource, opts: UploadOptions = {}): Promise<DropView> {
  const userSignal = opts.signal;
  if (userSignal?.aborted) throw abortError(userSignal);
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 4));
  const retries = Math.max(0, Math.floor(opts.retries ?? 5));
  const useXhr =
    opts.transport === 'xhr' ||
    ((opts.transport ?? 'auto') === 'auto' && typeof XMLHttpRequest === 'function' && !client.customFetch);

  // One controller for everything this upload starts: the caller's abort and our own first
  // fatal error both stop every worker.
  const ctrl = new AbortController();
  const onUserAbort = () => ctrl.abort(userSignal?.reason);
  userSignal?.addEventListener('abort', onUserAbort, { once: true });
  const signal = ctrl.signal;

  let drop: { id: string; ownerToken: string } | undefined = opts.resume;
  try {
    const urls = new UrlCache();
    const etags = new Map<number, string>();
    let ticket: Ticket;

    if (opts.resume) {
      // With the owner token: a password-protected drop shows its owner everything.
      const view = await client.status(opts.resume.id, signal, opts.resume.ownerToken);
      if (!('name' in view)) throw new DropshipResumeError(`drop ${view.id} is protected and did not show itself to its owner token`, 'RESUME_PLAN_MISMATCH');
      if (view.size !== source.size) {
        throw new DropshipResumeError(`drop ${view.id} is ${view.size} bytes, the file is ${source.size}`, 'RESUME_SIZE_MISMATCH');
      }
      // A complete that succeeded in an earlier run whose answer was lost: nothing left to do.
      if (view.status === 'processing' || view.status === 'ready') return view;
      const listed = await client.listParts(opts.resume.id, opts.resume.ownerToken, signal);
      if (!planFits(source.size, listed)) {
        throw new DropshipResumeError(`drop ${view.id} was planned for another size`, 'RESUME_PLAN_MISMATCH');
      }
      ticket = {
        id: view.id,
        shareUrl: view.shareUrl,
        ownerToken: opts.resume.ownerToken,
        status: 'uploading',
        upload: {
          // Not in the parts listing; only informational for the client (complete gets the parts either way).
          mode: listed.partCount === 1 && listed.partSize === source.size ? 'single' : 'multipart',
          partSize: listed.partSize,
          partCount: listed.partCount,
          expiresAt: view.expiresAt ?? '', // the upload deadline is not in the view; nothing here reads it
        },
        parts: [],
      };
      for (const p of listed.parts) {
        if (p.partNumber <= listed.partCount && p.size === partSize(ticket, source.size, p.partNumber)) etags.set(p.partNumber, p.etag);
      }
    } else {
      ticket = await client.createDrop(
        {
          name: opts.name ?? source.name,
          size: source.size,
          ...((opts.type ?? source.type) ? { type: opts.type ?? source.type } : {}),
          ...(opts.sha256 ? { sha256: opts.sha256 } : {}),
          ...(opts.expiresIn !== undefined ? { expiresIn: opts.expiresIn } : {}),
          ...(opts.maxDownloads !== undefined ? { maxDownloads: opts.maxDownloads } : {}),
          ...(opts.password !== undefined ? { password: opts.password } : {}),
          ...(opts.metadata !== undefined ? { metadata: opts.metadata } : {}),
          ...(opts.password !== undefined ? { password: opts.password } : {}),
        },
        signal,
      );
      drop = { id: ticket.id, ownerToken: ticket.ownerToken };
      urls.add(ticket.parts);
    }
    await opts.onTicket?.(ticket);

    const { id, ownerToken } = { id: ticket.id, ownerToken: ticket.ownerToken };
    const partCount = ticket.upload.partCount;
    const meter = new ProgressMeter(source.size, partCount);
    for (const n of etags.keys()) meter.resumedPart(partSize(ticket, source.size, n));

    let lastEmit = 0;
    const emit = (force: boolean) => {
      if (!opts.onProgress) return;
      const t = Date.now();
      if (!force && t - lastEmit < PROGRESS_EVERY_MS) return;
      lastEmit = t;
      opts.onProgress(meter.snapshot());
    };
    emit(true);

    const queue: number[] = [];
    for (let n = 1; n <= partCount; n++) if (!etags.has(n)) queue.push(n);
    let next = 0;

    // Part number → the sign request that covers it, so concurrent workers share one batch.
    const signing = new Map<number, Promise<Map<number, SignedPart>>>();
    async function urlFor(n: number): Promise<{ url: string; size: number; headers?: Record<string, string> }> {
      const cached = urls.usable(n);
      if (cached) return cached;
      const pending = signing.get(n);
      if (pending) {
        const got = (await pending).get(n);
        if (got) return got;
      }
      const batch = planSignBatch(n, queue.slice(next), (k) => urls.usable(k) !== undefined, (k) => signing.has(k), client.partsPerBatch);
      const req = client.signParts(id, ownerToken, batch, signal).then((parts) => {
        urls.add(parts);
        return new Map(parts.map((p) => [p.partNumber, p]));
      });
      for (const k of batch) signing.set(k, req);
      try {
        // Used even if it is already within the expiry margin: it is the freshest the server gives.
        const got = (await req).get(n);
        if (!got) throw new Error(`the server did not sign part ${n}`);
        return got;
      } finally {
        for (const k of batch) if (signing.get(k) === req) signing.delete(k);
      }
    }

    async function sendPart(n: number) {
      const size = partSize(ticket, source.size, n);
      const { offset: start } = partRange(planOf(source.size, ticket.upload), n);
      const data: PartBody = await source.slice(start, start + size);
      const got = data instanceof Blob ? data.size : data.byteLength;
      if (got !== size) throw new Error(`read ${got} bytes of part ${n}, expected ${size}: did the file change?`);
      let attempt = 0;
      let refreshes = 0;
      for (;;) {
        if (signal.aborted) throw abortError(signal);
        const u = await urlFor(n);
        if (u.size !== size) throw new DropshipTransferError(`part ${n} is signed for ${u.size} bytes, the plan says ${size}`, n);
        let failure: PartFailure;
        try {
          const r = await putPart(u.url, data, {
            signal,
            headers: u.headers ?? {},
            fetch: client.fetchImpl,
            useXhr,
            onProgress: (loaded) => {
              meter.partProgress(n, Math.min(loaded, size));
              emit(false);
            },
          });
          if (r.status >= 200 && r.status < 300) {
            if (!r.etag) {
              throw new DropshipTransferError(`S3 sent no ETag for part ${n} (does the bucket's CORS expose ETag?)`, n, r.status);
            }
            etags.set(n, r.etag);
            meter.partDone(n, size);
            emit(true);
            return;
          }
          failure = { kind: 'http', status: r.status, body: r.body, urlExpired: urls.expired(n) };
        } catch (e) {
          if (!(e instanceof NetworkError)) throw e;
          failure = { kind: 'network' };
        }
        meter.partRetry(n);
        const action = classifyPartFailure(failure);
        const what = failure.kind === 'network' ? 'a network error' : `HTTP ${failure.status}`;
        if (action === 'fatal') {
          throw new DropshipTransferError(`part ${n} was refused with ${what}`, n, failure.kind === 'http' ? failure.status : undefined);
        }
        if (action === 'refresh' && refreshes < MAX_REFRESHES_PER_PART) {
          refreshes++;
          urls.drop(n);
          continue;
        }
        if (attempt >= retries) {
          throw new DropshipTransferError(`part ${n} failed ${attempt + 1} times, last with ${what}`, n, failure.kind === 'http' ? failure.status : undefined);
        }
        await sleep(retryDelay(attempt, undefined, {}, opts.random), signal);
        attempt++;
      }
    }

    let firstError: unknown;
    const worker = async () => {
      while (next < queue.length && !signal.aborted) {
        const n = queue[next++]!;
        try {
          await sendPart(n);
        } catch (e) {
          // The first real failure wins; the AbortErrors it causes in other workers are noise.
          if (firstError === undefined && !(signal.aborted && isAbortError(e))) firstError = e;
          ctrl.abort(e);
          return;
        }
      }
    };
    // Parts land in S3 all along the upload (what a resume picks up), not all at the end.
    await Promise.all(Array.from({ length: partsInFlight(queue.length, concurrency) }, worker));
    if (userSignal?.aborted) throw abortError(userSignal);
    if (firstError !== undefined) throw firstError;
    if (signal.aborted) throw abortError(signal);

    const parts: CompletedPart[] = [...etags].sort((a, b) => a[0] - b[0]).map(([partNumber, etag]) => ({ partNumber, etag }));
    const view = await client.complete(id, ownerToken, parts, signal);
    emit(true);
    return view;
  } catch (e) {
    if (userSignal?.aborted) {
      if (drop && opts.deleteOnAbort !== false) {
        // Best effort and without the aborted signal: the point is to reach the server now.
        await client.deleteDrop(drop.id, drop.ownerToken).catch(() => {});
      }
      throw abortError(userSignal);
    }
    throw e;
  } finally {
    userSignal?.removeEventListener('abort', onUserAbort);
  }
}

/** Size of part n of the ticket's plan (the server's own arithmetic, src/core/parts.ts). */
export function partSize(ticket: Pick<Ticket, 'upload'>, totalSize: number, n: number): number {
  return partSizeOf(planOf(totalSize, ticket.upload), n);
}

/** A browser File or Blob as an upload source (slices are lazy: nothing is read until sent). */
export function blobSource(file: Blob & { name?: string; lastModified?: number }): UploadSource {
  return {
    name: file.name ?? 'blob',
    size: file.size,
    ...(file.type ? { type: file.type } : {}),
    ...(file.lastModified !== undefined ? { lastModified: file.lastModified } : {}),
    // No content type on the slice: a Content-Type header is not part of the signed request.
    slice: async (start, end) => file.slice(start, end),
  };
}
