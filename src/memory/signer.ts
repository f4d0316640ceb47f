/**
 * A Signer in memory: URLs that say what they allow (method, key, exact length, part,
 * expiry) and carry an HMAC over all of it, so a test can present a URL back and get what S3
 * would answer — 200 with an ETag, or 403 for a tampered URL, an expired one or a body of
 * another length. `present` performs the request against a memory store.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { PreconditionFailed } from '../ports/object-store.js';
import { responseOverrides, type Signer, type SignedUrl } from '../ports/signer.js';
import type { MemoryStore } from './store.js';

export const MEMORY_S3_ORIGIN = 'http://s3.memory.test';

export interface MemorySigner extends Signer {
  /**
   * What S3 would answer to `method url` with `body` and request `headers` at `now`. A URL
   * signed with `If-None-Match: *` needs that header (403 without it, like a signed header
   * missing on S3) and refuses to replace an existing object (412).
   */
  present(
    method: 'PUT' | 'GET',
    url: string,
    body: Buffer | undefined,
    now: Date,
    headers?: Record<string, string>,
  ): Promise<{ status: number; etag?: string; body?: Buffer; headers?: Record<string, string> }>;
}

export function memorySigner(store: MemoryStore): MemorySigner {
  const secret = randomBytes(32);
  const mac = (s: string) => createHmac('sha256', secret).update(s).digest('hex');

  function signed(
    method: string,
    key: string,
    params: Record<string, string>,
    expiresIn: number,
    now: Date,
    headers: Record<string, string> = {},
  ): SignedUrl {
    const expiresAt = new Date(now.getTime() + expiresIn * 1000);
    const q = new URLSearchParams({ ...params, 'x-method': method, 'x-expires': String(expiresAt.getTime()) });
    q.sort();
    const path = `/${store.bucket}/${key}`;
    q.set('x-signature', mac(`${path}?${q.toString()}`));
    return { url: `${MEMORY_S3_ORIGIN}${path}?${q.toString()}`, expiresAt, headers };
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
      const createOnly = req.createOnly === true && !req.part;
      if (createOnly) params['x-if-none-match'] = '*';
      return signed('PUT', req.key, params, req.expiresIn, now, createOnly ? { 'if-none-match': '*' } : {});
    },
    async signGet(req, now) {
      return signed('GET', req.key, responseOverrides(req), req.expiresIn, now);
    },
    async signPost(req, now) {
      const { url } = signed('POST', req.key, { 'x-content-length': String(req.size) }, req.expiresIn, now);
      return { url, fields: { key: req.key } };
    },

    async present(method, url, body, now, headers = {}) {
      const q = verify(method, url, now);
      if (!q) return { status: 403 };
      const key = decodeURIComponent(new URL(url).pathname.slice(store.bucket.length + 2));
      if (method === 'GET') {
        const o = store.objects.get(key);
        if (!o) return { status: 404 };
        // S3's response-* overrides replace whatever the PUT stored.
        const response: Record<string, string> = {};
        for (const [k, v] of q) if (k.startsWith('response-')) response[k.slice('response-'.length)] = v;
        return { status: 200, body: o.body, etag: o.etag, headers: response };
      }
      if (!body || body.length !== Number(q.get('x-content-length'))) return { status: 403 };
      const sent = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      const createOnly = q.get('x-if-none-match') === '*';
      // A signed header the request does not carry (or carries changed) fails the signature.
      if (createOnly && sent.get('if-none-match') !== '*') return { status: 403 };
      try {
        const uploadId = q.get('uploadId');
        const etag = uploadId
          ? await store.uploadPart(key, uploadId, Number(q.get('partNumber')), body)
          : await store.put(key, body, { contentType: 'application/octet-stream', ...(createOnly ? { ifNoneMatch: true } : {}) });
        return { status: 200, etag };
      } catch (e) {
        if (e instanceof PreconditionFailed) return { status: 412 };
        return { status: (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 500 };
      }
    },
  };
}
