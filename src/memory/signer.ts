/**
 * A Signer in memory: URLs that say what they allow (method, key, exact length, part,
 * expiry) and carry an HMAC over all of it, so a test can present a URL back and get what S3
 * would answer — 200 with an ETag, or 403 for a tampered URL, an expired one or a body of
 * another length. `present` performs the request against a memory store.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Signer, SignedUrl } from '../ports/signer.js';
import type { MemoryStore } from './store.js';

export const MEMORY_S3_ORIGIN = 'http://s3.memory.test';

export interface MemorySigner extends Signer {
  /** What S3 would answer to `method url` with `body` at `now`. */
  present(method: 'PUT' | 'GET', url: string, body: Buffer | undefined, now: Date): Promise<{ status: number; etag?: string; body?: Buffer }>;
}

export function memorySigner(store: MemoryStore): MemorySigner {
  const secret = randomBytes(32);
  const mac = (s: string) => createHmac('sha256', secret).update(s).digest('hex');

  function signed(method: string, key: string, params: Record<string, string>, expiresIn: number, now: Date): SignedUrl {
    const expiresAt = new Date(now.getTime() + expiresIn * 1000);
    const q = new URLSearchParams({ ...params, 'x-method': method, 'x-expires': String(expiresAt.getTime()) });
    q.sort();
    const path = `/${store.bucket}/${key}`;
    q.set('x-signature', mac(`${path}?${q.toString()}`));
    return { url: `${MEMORY_S3_ORIGIN}${path}?${q.toString()}`, expiresAt };
  }

  function verify(method: string, url: string, now: Date): URLSearchParams | undefined {
    const u = new URL(url);
    const q = new URLSearchParams(u.search);
    const sig = q.get('x-signature') ?? '';
    q.delete('x-signature');
    q.sort();
    const want = Buffer.from(mac(`${u.pathname}?${q.toString()}`), 'hex');
    const got = Buffer.from(sig, 'hex');
    if (got.length !== want.length || !timingSafeEqual(got, want)) return undefined;
    if (q.get('x-method') !== method || Number(q.get('x-expires')) <= now.getTime()) return undefined;
    return q;
  }

  return {
    async signPut(req, now) {
      const params: Record<string, string> = { 'x-content-length': String(req.contentLength) };
      if (req.part) Object.assign(params, { partNumber: String(req.part.partNumber), uploadId: req.part.uploadId });
      return signed('PUT', req.key, params, req.expiresIn, now);
    },
    async signGet(req, now) {
      const params: Record<string, string> = {};
      if (req.responseContentDisposition) params['response-content-disposition'] = req.responseContentDisposition;
      if (req.responseContentType) params['response-content-type'] = req.responseContentType;
      return signed('GET', req.key, params, req.expiresIn, now);
    },
    async signPost(req, now) {
      const { url } = signed('POST', req.key, { 'x-content-length': String(req.size) }, req.expiresIn, now);
      return { url, fields: { key: req.key } };
    },

    async present(method, url, body, now) {
      const q = verify(method, url, now);
      if (!q) return { status: 403 };
      const key = decodeURIComponent(new URL(url).pathname.slice(store.bucket.length + 2));
      if (method === 'GET') {
        const o = store.objects.get(key);
        return o ? { status: 200, body: o.body, etag: o.etag } : { status: 404 };
      }
      if (!body || body.length !== Number(q.get('x-content-length'))) return { status: 403 };
      try {
        const uploadId = q.get('uploadId');
        const etag = uploadId
          ? await store.uploadPart(key, uploadId, Number(q.get('partNumber')), body)
          : await store.put(key, body, { contentType: 'application/octet-stream' });
        return { status: 200, etag };
      } catch (e) {
        return { status: (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 500 };
      }
    },
  };
}
