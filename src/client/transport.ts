/**
 * One part PUT to a presigned S3 URL. Browsers get XMLHttpRequest (the only API with upload
 * progress events); elsewhere fetch (Node has no XHR; a streamed fetch body would be sent
 * chunked, which S3 refuses on a URL that signs Content-Length).
 */
import { abortError } from './errors.js';

export type PartBody = Blob | Uint8Array;

export interface PutResult {
  status: number;
  etag: string | undefined;
  /** The error body (S3 XML), read only for failures. */
  body?: string;
}

/** A request that never got an HTTP answer (DNS, reset, offline...). */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
}

export interface PutOptions {
  signal: AbortSignal;
  /** The part entry's `headers`: signed into the URL, so S3 refuses the PUT without them. */
  headers?: Record<string, string>;
  onProgress?: (loaded: number) => void;
  fetch: typeof fetch;
  useXhr: boolean;
}

export function putPart(url: string, body: PartBody, opts: PutOptions): Promise<PutResult> {
  return opts.useXhr ? putWithXhr(url, body, opts) : putWithFetch(url, body, opts);
}

async function putWithFetch(url: string, body: PartBody, opts: PutOptions): Promise<PutResult> {
  let res: Response;
  try {
    res = await opts.fetch(url, { method: 'PUT', body: body as BodyInit, headers: { ...opts.headers }, signal: opts.signal });
  } catch (e) {
    if (opts.signal.aborted) throw abortError(opts.signal);
    throw new NetworkError(e instanceof Error ? e.message : String(e), { cause: e });
  }
  const ok = res.status >= 200 && res.status < 300;
  let text: string | undefined;
  try {
    // Drain the body either way so the connection goes back to the pool.
    text = await res.text();
  } catch (e) {
    if (opts.signal.aborted) throw abortError(opts.signal);
    if (ok) throw new NetworkError('connection lost while reading the answer', { cause: e });
  }
  if (ok) opts.onProgress?.(body instanceof Blob ? body.size : body.byteLength);
  return { status: res.status, etag: res.headers.get('etag') ?? undefined, ...(ok ? {} : { body: text }) };
}

function putWithXhr(url: string, body: PartBody, opts: PutOptions): Promise<PutResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal.aborted) return reject(abortError(opts.signal));
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    const cleanup = () => opts.signal.removeEventListener('abort', onAbort);
    xhr.open('PUT', url);
    for (const [name, value] of Object.entries(opts.headers ?? {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (e) => opts.onProgress?.(e.loaded);
    xhr.onload = () => {
      cleanup();
      const ok = xhr.status >= 200 && xhr.status < 300;
      // ETag is readable only if the bucket's CORS rules expose it (ExposeHeaders: ETag, see docs/architecture.md).
      resolve({ status: xhr.status, etag: xhr.getResponseHeader('etag') ?? undefined, ...(ok ? {} : { body: xhr.responseText }) });
    };
    xhr.onerror = () => {
      cleanup();
      reject(new NetworkError('network error'));
    };
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => {
      cleanup();
      reject(abortError(opts.signal));
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });
    xhr.send(body as XMLHttpRequestBodyInit);
  });
}
