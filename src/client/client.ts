/** DropshipClient: typed calls to the dropship api, plus `upload` (see upload.ts). */
import { abortError, apiErrorFromResponse } from './errors.js';
import { isRetryableApiStatus, retryDelay, sleep } from './retry.js';
import { chunk } from './batching.js';
import { uploadFile, type UploadOptions, type UploadSource } from './upload.js';
import {
  TERMINAL_STATUSES,
  type CollectionDeleted,
  type CollectionView,
  type ProtectedCollectionView,
  type CompletedPart,
  type CreateCollectionInput,
  type CreatedCollection,
  type DropRef,
  type CreateDropRequest,
  type DropPage,
  type DropView,
  type ListDropsOptions,
  type Limits,
  type LookupResult,
  type ReaderView,
  type SignedPart,
  type Unlock,
  type Ticket,
  type UploadedParts,
} from './types.js';

export interface DropshipClientOptions {
  /** Where the api listens, e.g. https://drop.example.com (no trailing path needed). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer` when the server requires a key to upload. */
  apiKey?: string;
  /** Replaces globalThis.fetch for api calls and (outside browsers) part PUTs. */
  fetch?: typeof fetch;
  /** Retries of api calls answered 408/429/502/503/504 (or, when safe to repeat, lost on the network). Default 3. */
  apiRetries?: number;
  /** Longest Retry-After the client will sit out, in seconds; a longer one is thrown to the caller. Default 30. */
  maxRetryAfter?: number;
  /** Told before each wait on a throttled or busy api answer (429/503…), e.g. to say so to a person. */
  onRetry?: (info: { status: number; waitMs: number; attempt: number; retryAfter?: number }) => void;
  /** Largest batch for POST /v1/drops/:id/parts (the server's DROPSHIP_PARTS_PER_BATCH). Default 100. */
  partsPerBatch?: number;
}

interface RequestOptions {
  body?: unknown;
  ownerToken?: string;
  unlockToken?: string;
  signal?: AbortSignal;
  /** Whether a request lost on the network may be sent again (false for creating a drop). */
  idempotent: boolean;
}

export class DropshipClient {
  readonly baseUrl: string;
  readonly partsPerBatch: number;
  private readonly apiKey: string | undefined;
  /** For part PUTs; also read by upload.ts. */
  readonly fetchImpl: typeof fetch;
  readonly customFetch: boolean;
  private readonly apiRetries: number;
  private readonly maxRetryAfter: number;
  private readonly onRetry: DropshipClientOptions['onRetry'];

  constructor(opts: DropshipClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.apiKey = opts.apiKey;
    this.customFetch = opts.fetch !== undefined;
    // Bound to globalThis: browsers throw "Illegal invocation" for a detached fetch.
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.apiRetries = opts.apiRetries ?? 3;
    this.maxRetryAfter = opts.maxRetryAfter ?? 30;
    this.onRetry = opts.onRetry;
    this.partsPerBatch = opts.partsPerBatch ?? 100;
  }

  createDrop(input: CreateDropRequest, signal?: AbortSignal): Promise<Ticket> {
    // Not idempotent on network loss (a second ticket would count against the open-ticket
    // limit), but a 429/503 refusal happens before anything is created, so that is retried.
    return this.request<Ticket>('POST', '/v1/drops', { body: input, signal, idempotent: false });
  }

  /** What an upload may ask for here: largest file, lifetimes on offer, download limit (this key's, with `apiKey`). */
  limits(signal?: AbortSignal): Promise<Limits> {
    return this.request('GET', '/v1/limits', { signal, idempotent: true });
  }

  async signParts(id: string, ownerToken: string, partNumbers: number[], signal?: AbortSignal): Promise<SignedPart[]> {
    const out: SignedPart[] = [];
    for (const batch of chunk(partNumbers, this.partsPerBatch)) {
      const r = await this.request<{ parts: SignedPart[] }>('POST', `/v1/drops/${enc(id)}/parts`, {
        body: { partNumbers: batch },
        ownerToken,
        signal,
        idempotent: true,
      });
      out.push(...r.parts);
    }
    return out;
  }

  listParts(id: string, ownerToken: string, signal?: AbortSignal): Promise<UploadedParts> {
    return this.request('GET', `/v1/drops/${enc(id)}/parts`, { ownerToken, signal, idempotent: true });
  }

  complete(id: string, ownerToken: string, parts?: CompletedPart[], signal?: AbortSignal): Promise<DropView> {
    // Complete is idempotent on the server: a retry after a lost answer returns the same drop.
    return this.request('POST', `/v1/drops/${enc(id)}/complete`, {
      body: parts ? { parts } : {},
      ownerToken,
      signal,
      idempotent: true,
    });
  }

  deleteDrop(id: string, ownerToken: string, signal?: AbortSignal): Promise<DropView> {
    return this.request('DELETE', `/v1/drops/${enc(id)}`, { ownerToken, signal, idempotent: true });
  }

  /**
   * The drop's view; with the owner token (or as the key that created it) it carries the
   * drop's metadata. A password-protected drop shows only `{ id, status, expiresAt, protected }`
   * (`isLockedView`) unless the owner token, the creating key or an `unlockToken` (from
   * `unlock`) comes along.
   */
  status(id: string, signal?: AbortSignal, ownerToken?: string, unlockToken?: string): Promise<ReaderView> {
    return this.request('GET', `/v1/drops/${enc(id)}`, {
      signal,
      idempotent: true,
      ...(ownerToken ? { ownerToken } : {}),
      ...(unlockToken ? { unlockToken } : {}),
    });
  }

  /**
   * Unlocks a password-protected drop: the token that `status`, `downloadLocation` and
   * `download` take, valid until its `expiresAt`. A wrong password is a DropshipApiError with
   * code PASSWORD_WRONG (401); too many attempts RATE_LIMITED (429). In a browser on the
   * server's own origin the answer also sets the unlock cookie, so the share page and
   * `downloadUrl` work as links.
   */
  unlock(id: string, password: string, signal?: AbortSignal): Promise<Unlock> {
    // Not repeated on a lost answer: every attempt counts against the drop's attempt limit.
    return this.request('POST', `/d/${enc(id)}/unlock`, { body: { password }, signal, idempotent: false });
  }

  /**
   * Where the file can be fetched now: the short-lived URL `/d/:id/download` redirects to
   * (counts a download for a drop with maxDownloads). Node and other runtimes that expose
   * redirects; a browser hides them (navigate to the view's `downloadUrl` instead).
   * `password` unlocks first; `unlockToken` reuses an earlier `unlock`.
   */
  async downloadLocation(id: string, opts: { password?: string; unlockToken?: string; ownerToken?: string; signal?: AbortSignal } = {}): Promise<string> {
    const unlockToken = opts.unlockToken ?? (opts.password !== undefined ? (await this.unlock(id, opts.password, opts.signal)).unlockToken : undefined);
    const headers: Record<string, string> = {};
    if (unlockToken) headers['x-unlock-token'] = unlockToken;
    if (opts.ownerToken) headers['x-owner-token'] = opts.ownerToken;
    const res = await this.fetchImpl(`${this.baseUrl}/d/${enc(id)}/download`, {
      headers,
      redirect: 'manual',
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const text = await res.text();
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) return new URL(location, this.baseUrl).toString();
    if (res.type === 'opaqueredirect') throw new TypeError('this runtime hides redirects: open the drop\'s downloadUrl instead');
    throw apiErrorFromResponse(res, text);
  }

  /** The file itself (a streaming Response), for a protected drop with its password or unlock token. */
  async download(id: string, opts: { password?: string; unlockToken?: string; ownerToken?: string; signal?: AbortSignal } = {}): Promise<Response> {
    const url = await this.downloadLocation(id, opts);
    const res = await this.fetchImpl(url, opts.signal ? { signal: opts.signal } : {});
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new TypeError(`storage answered HTTP ${res.status} for the download`);
    }
    return res;
  }

  /** One page of the API key's drops, newest first, with their metadata (needs `apiKey`). */
  listDrops(opts: ListDropsOptions = {}): Promise<DropPage> {
    const q = new URLSearchParams();
    if (opts.limit !== undefined) q.set('limit', String(opts.limit));
    if (opts.cursor !== undefined) q.set('cursor', opts.cursor);
    if (opts.status !== undefined) q.set('status', opts.status);
    const query = q.size ? `?${q}` : '';
    return this.request('GET', `/v1/drops${query}`, { signal: opts.signal, idempotent: true });
  }

  /** Every drop of the API key, newest first, page by page until the last. */
  async *allDrops(opts: Omit<ListDropsOptions, 'cursor'> = {}): AsyncGenerator<DropView> {
    let cursor: string | undefined;
    do {
      const page = await this.listDrops({ ...opts, ...(cursor !== undefined ? { cursor } : {}) });
      yield* page.drops;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** The status of up to 100 drops at once, in the order asked (needs `apiKey`). */
  async lookupDrops(ids: string[], signal?: AbortSignal): Promise<LookupResult[]> {
    const r = await this.request<{ drops: LookupResult[] }>('POST', '/v1/drops/lookup', { body: { ids }, signal, idempotent: true });
    return r.drops;
  }

  /** A collection: one share link (`shareUrl`, /c/:id) for several drops. Keep `ownerToken`. */
  createCollection(input: CreateCollectionInput = {}, signal?: AbortSignal): Promise<CreatedCollection> {
    // A 429/503 refusal comes before anything is made; a request lost on the network is not repeated.
    return this.request('POST', '/v1/collections', { body: input, signal, idempotent: false });
  }

  /** Adds a drop (with its own owner token) to the collection; adding it again changes nothing. */
  addToCollection(id: string, ownerToken: string, drop: DropRef, signal?: AbortSignal): Promise<CollectionView> {
    return this.request('POST', `/v1/collections/${enc(id)}/drops`, { body: { id: drop.id, ownerToken: drop.ownerToken }, ownerToken, signal, idempotent: true });
  }

  /**
   * The collection; a password-protected one only `{ id, expiresAt?, protected: true }` unless
   * its owner token or an `unlockToken` (from `unlockCollection`) comes along.
   */
  getCollection(id: string, signal?: AbortSignal, opts: { ownerToken?: string; unlockToken?: string } = {}): Promise<CollectionView | ProtectedCollectionView> {
    return this.request('GET', `/v1/collections/${enc(id)}`, { signal, idempotent: true, ...opts });
  }

  /** Unlocks a password-protected collection (as `unlock` does a drop). */
  unlockCollection(id: string, password: string, signal?: AbortSignal): Promise<Unlock> {
    return this.request('POST', `/c/${enc(id)}/unlock`, { body: { password }, signal, idempotent: false });
  }

  /** Deletes the collection and every drop in it; idempotent. */
  deleteCollection(id: string, ownerToken: string, signal?: AbortSignal): Promise<CollectionDeleted> {
    return this.request('DELETE', `/v1/collections/${enc(id)}`, { ownerToken, signal, idempotent: true });
  }

  /**
   * Polls the drop until its status is one of `statuses` (default: any terminal one).
   * Polling works behind every proxy and in every runtime, unlike a long-lived SSE stream.
   * Rejects with a DOMException named TimeoutError after `timeoutMs`.
   */
  async waitUntil(
    id: string,
    opts: { statuses?: string[]; signal?: AbortSignal; timeoutMs?: number; pollMs?: number; onStatus?: (v: ReaderView) => void; ownerToken?: string; unlockToken?: string } = {},
  ): Promise<ReaderView> {
    const wanted = new Set<string>(opts.statuses ?? TERMINAL_STATUSES);
    const deadline = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : Infinity;
    const pollMs = opts.pollMs ?? 1000;
    let last: string | undefined;
    for (;;) {
      const v = await this.status(id, opts.signal, opts.ownerToken, opts.unlockToken);
      if (v.status !== last) opts.onStatus?.(v);
      last = v.status;
      if (wanted.has(v.status)) return v;
      // A terminal status that was not asked for will never turn into one that was.
      if ((TERMINAL_STATUSES as readonly string[]).includes(v.status)) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new DOMException(`drop ${id} is still ${v.status}`, 'TimeoutError');
      await sleep(Math.min(pollMs, left), opts.signal);
    }
  }

  upload(source: UploadSource, opts: UploadOptions = {}): Promise<DropView> {
    return uploadFile(this, source, opts);
  }

  /** One api call: JSON in, JSON out, errors as DropshipApiError, throttling sat out. */
  private async request<T>(method: string, path: string, opts: RequestOptions): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    if (opts.ownerToken) headers['x-owner-token'] = opts.ownerToken;
    if (opts.unlockToken) headers['x-unlock-token'] = opts.unlockToken;
    for (let attempt = 0; ; attempt++) {
      if (opts.signal?.aborted) throw abortError(opts.signal);
      let res: Response;
      try {
        res = await this.fetchImpl(`${this.baseUrl}${path}`, {
          method,
          headers,
          ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
      } catch (e) {
        if (opts.signal?.aborted) throw abortError(opts.signal);
        if (!opts.idempotent || attempt >= this.apiRetries) throw e;
        await sleep(retryDelay(attempt, undefined), opts.signal);
        continue;
      }
      const text = await res.text();
      if (res.ok) return (text ? JSON.parse(text) : undefined) as T;
      const err = apiErrorFromResponse(res, text);
      const waitable = err.retryAfter === undefined || err.retryAfter <= this.maxRetryAfter;
      if (isRetryableApiStatus(res.status) && attempt < this.apiRetries && waitable) {
        const waitMs = retryDelay(attempt, err.retryAfter, { maxMs: this.maxRetryAfter * 1000 });
        this.onRetry?.({ status: res.status, waitMs, attempt, ...(err.retryAfter !== undefined ? { retryAfter: err.retryAfter } : {}) });
        await sleep(waitMs, opts.signal);
        continue;
      }
      throw err;
    }
  }
}

const enc = encodeURIComponent;
