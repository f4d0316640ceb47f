/**
 * The Companion-compatible /s3 routes, driven with exactly the requests @uppy/aws-s3 v6
 * makes in Companion mode (node_modules/@uppy/aws-s3/src/s3-client/CompanionS3.ts): create,
 * sign parts, list, complete, abort, and the one-request POST policy — against the emulator.
 * The browser run with real Uppy is test/e2e/uppy.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { dropKeys } from '../../src/core/layout.js';
import { MIB } from '../../src/core/parts.js';
import { uppyPartSize } from '../../src/core/parts.js';
import { api, download, putPart, sha256, startApi, type TestApi } from '../support/app.js';

let t: TestApi;
beforeAll(async () => {
  t = await startApi();
});
afterAll(async () => {
  await t?.close();
});

interface Created {
  key: string;
  uploadId: string;
  id: string;
  shareUrl: string;
  ownerToken: string;
  partSize: number;
  partCount: number;
}

/** What Uppy posts, with the size added to its meta as docs/uppy.md says. */
async function create(name: string, size: number, meta: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const r = await api<Created>(t.base, 'POST', '/s3/multipart', { filename: name, type: 'application/octet-stream', metadata: { name, type: 'application/octet-stream', size, ...meta } }, headers);
  return { ...r, cookie: r.headers.get('set-cookie') ?? '' };
}

/** The cookie as the browser would send it back (name=value only). */
const cookieOf = (setCookie: string) => ({ cookie: setCookie.split(';')[0]! });
const q = (key: string) => `?${new URLSearchParams({ key })}`;
const enc = encodeURIComponent;

describe('Uppy multipart upload through /s3/multipart', () => {
  it('plans parts the way Uppy cuts the file (default getChunkSize, or metadata.partSize)', () => {
    expect(uppyPartSize(12 * MIB)).toBe(5 * MIB);
    expect(uppyPartSize(100 * 1024 ** 3)).toBe(Math.ceil((100 * 1024 ** 3) / 10_000));
    expect(uppyPartSize(12 * MIB, 6 * MIB)).toBe(6 * MIB);
    expect(uppyPartSize(12 * MIB, 1)).toBe(5 * MIB); // Uppy raises anything below S3's minimum
    expect(uppyPartSize(100 * 1024 ** 3, 5 * MIB)).toBe(Math.ceil((100 * 1024 ** 3) / 10_000)); // and anything over 10,000 parts
  });

  it('creates a drop, signs parts one by one and in a batch, lists, completes: bytes round-trip', async () => {
    const data = randomBytes(12 * MIB + 7);
    const c = await create('uppy file.bin', data.length);
    expect(c.status).toBe(200);
    const { key, uploadId, id } = c.body;
    expect(key).toBe(dropKeys(id).original);
    expect(c.body).toMatchObject({ partSize: 5 * MIB, partCount: 3, shareUrl: `${t.base}/d/${id}` });
    // The owner token comes back as an HttpOnly cookie that only this upload's routes get.
    expect(c.cookie).toContain(`Path=/s3/multipart/${enc(uploadId)}`);
    expect(c.cookie).toMatch(/HttpOnly/);
    expect(c.cookie).toMatch(/SameSite=Strict/);
    const auth = cookieOf(c.cookie);

    const one = await api<{ url: string; expires: number }>(t.base, 'GET', `/s3/multipart/${enc(uploadId)}/1${q(key)}`, undefined, auth);
    expect(one.status).toBe(200);
    expect(one.body.expires).toBeGreaterThan(0);
    const p1 = await putPart(one.body.url, data.subarray(0, 5 * MIB));
    expect(p1.status).toBe(200);

    const batch = await api<{ presignedUrls: Record<string, string> }>(
      t.base, 'GET', `/s3/multipart/${enc(uploadId)}/batch?${new URLSearchParams({ key, partNumbers: '2,3' })}`, undefined, auth);
    expect(batch.status).toBe(200);
    expect(Object.keys(batch.body.presignedUrls).sort()).toEqual(['2', '3']);
    const p2 = await putPart(batch.body.presignedUrls['2']!, data.subarray(5 * MIB, 10 * MIB));
    const p3 = await putPart(batch.body.presignedUrls['3']!, data.subarray(10 * MIB));
    expect([p2.status, p3.status]).toEqual([200, 200]);

    const listed = await api<{ PartNumber: number; Size: number; ETag: string }[]>(t.base, 'GET', `/s3/multipart/${enc(uploadId)}${q(key)}`, undefined, auth);
    expect(listed.body.map((p) => [p.PartNumber, p.Size])).toEqual([[1, 5 * MIB], [2, 5 * MIB], [3, 2 * MIB + 7]]);

    const done = await api<{ location: string; key: string }>(t.base, 'POST', `/s3/multipart/${enc(uploadId)}/complete${q(key)}`, {
      parts: [p1, p2, p3].map((p, i) => ({ PartNumber: i + 1, ETag: p.etag })),
    }, auth);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ location: `${t.base}/d/${id}`, key });
    expect(done.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    const view = await api<{ status: string; name: string; size: number }>(t.base, 'GET', `/v1/drops/${id}`);
    expect(view.body).toMatchObject({ name: 'uppy file.bin', size: data.length });
    expect(['processing', 'ready']).toContain(view.body.status);
    expect(sha256((await download(t.base, id)).data!)).toBe(sha256(data));
  });

  it('a part of any other length than the plan says is refused by S3', async () => {
    const c = await create('a.bin', 12 * MIB, { partSize: 6 * MIB });
    expect(c.body.partSize).toBe(6 * MIB);
    const one = await api<{ url: string }>(t.base, 'GET', `/s3/multipart/${enc(c.body.uploadId)}/1${q(c.body.key)}`, undefined, cookieOf(c.cookie));
    expect((await putPart(one.body.url, randomBytes(5 * MIB))).status).toBe(403);
    expect((await putPart(one.body.url, randomBytes(6 * MIB))).status).toBe(200);
  });

  it('a small file is one part; an empty or unsized one is refused with a reason', async () => {
    const small = await create('tiny.txt', 1000);
    expect(small.body).toMatchObject({ partCount: 1, partSize: 5 * MIB });
    const empty = await create('empty.txt', 0);
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ error: { code: 'SIZE_INVALID' } });
    const unsized = await api(t.base, 'POST', '/s3/multipart', { filename: 'x.bin', type: 'text/plain', metadata: { name: 'x.bin' } });
    expect(unsized.status).toBe(400);
    expect(unsized.body).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: { field: 'body/metadata/size' } } });
  });

  it('the upload id alone authorises nothing; the key/uploadId pair must belong to the token\'s drop', async () => {
    const a = await create('a.bin', 6 * MIB);
    const b = await create('b.bin', 6 * MIB);
    const sign = (uploadId: string, key: string, headers: Record<string, string>) =>
      api(t.base, 'GET', `/s3/multipart/${enc(uploadId)}/1${q(key)}`, undefined, headers);
    const code = (r: { body: unknown }) => (r.body as { error: { code: string } }).error.code;

    const none = await sign(a.body.uploadId, a.body.key, {});
    expect([none.status, code(none)]).toEqual([401, 'UNAUTHORIZED']);
    const wrong = await sign(a.body.uploadId, a.body.key, cookieOf(b.cookie));
    expect([wrong.status, code(wrong)]).toEqual([403, 'OWNER_TOKEN_INVALID']);
    const header = await sign(a.body.uploadId, a.body.key, { 'x-owner-token': b.body.ownerToken });
    expect(header.status).toBe(403);
    // B's token with B's key but A's upload id: a pair that does not exist.
    const mixed = await sign(a.body.uploadId, b.body.key, cookieOf(b.cookie));
    expect([mixed.status, code(mixed)]).toEqual([404, 'DROP_NOT_FOUND']);
    const foreignKey = await sign(a.body.uploadId, 'uploads/secret.txt', cookieOf(a.cookie));
    expect(foreignKey.status).toBe(404);
    for (const [method, path, body] of [
      ['GET', `/s3/multipart/${enc(a.body.uploadId)}${q(a.body.key)}`, undefined],
      ['POST', `/s3/multipart/${enc(a.body.uploadId)}/complete${q(a.body.key)}`, { parts: [] }],
      ['DELETE', `/s3/multipart/${enc(a.body.uploadId)}${q(a.body.key)}`, undefined],
    ] as const) {
      expect((await api(t.base, method, path, body)).status, `${method} ${path}`).toBe(401);
    }
    expect((await api(t.base, 'GET', `/v1/drops/${a.body.id}`)).body).toMatchObject({ status: 'uploading' });
  });

  it('abort cancels the drop and leaves no multipart upload in S3', async () => {
    const c = await create('abort.bin', 11 * MIB);
    const auth = cookieOf(c.cookie);
    const one = await api<{ url: string }>(t.base, 'GET', `/s3/multipart/${enc(c.body.uploadId)}/1${q(c.body.key)}`, undefined, auth);
    await putPart(one.body.url, randomBytes(5 * MIB));
    const del = await api(t.base, 'DELETE', `/s3/multipart/${enc(c.body.uploadId)}${q(c.body.key)}`, undefined, auth);
    expect(del.status).toBe(200);
    expect(await t.store.listMultipartUploads(dropKeys(c.body.id).prefix)).toEqual([]);
    expect((await api(t.base, 'GET', `/v1/drops/${c.body.id}`)).body).toMatchObject({ status: 'cancelled' });
  });

  it('needs an API key like POST /v1/drops when public uploads are off', async () => {
    const s = await startApi({ DROPSHIP_PUBLIC_UPLOADS: 'false', DROPSHIP_API_KEYS: 'k1' });
    try {
      const body = { filename: 'k.bin', type: 'text/plain', metadata: { size: 10 } };
      expect((await api(s.base, 'POST', '/s3/multipart', body)).status).toBe(401);
      expect((await api(s.base, 'POST', '/s3/multipart', body, { authorization: 'Bearer k1' })).status).toBe(200);
      expect((await api(s.base, 'GET', '/s3/params?filename=a&metadata%5Bsize%5D=1')).status).toBe(401);
    } finally {
      await s.close();
    }
  });

  it('part signing has ten times the general rate limit (Uppy signs every part on its own)', async () => {
    const s = await startApi({ DROPSHIP_RATE_LIMIT: '3' });
    try {
      const r = await api<Created>(s.base, 'POST', '/s3/multipart', { filename: 'r.bin', metadata: { size: 30 * MIB } });
      const auth = cookieOf(r.headers.get('set-cookie')!);
      const codes = [];
      for (let n = 1; n <= 6; n++) {
        codes.push((await api(s.base, 'GET', `/s3/multipart/${enc(r.body.uploadId)}/${n}${q(r.body.key)}`, undefined, auth)).status);
      }
      expect(codes).toEqual([200, 200, 200, 200, 200, 200]);
      const other = [];
      for (let i = 0; i < 3; i++) other.push((await api(s.base, 'GET', `/v1/drops/${r.body.id}`)).status);
      expect(other).toContain(429);
    } finally {
      await s.close();
    }
  });

  it('refuses a file over the configured maximum with 413', async () => {
    const s = await startApi({ DROPSHIP_MAX_FILE_SIZE: String(10 * MIB) });
    try {
      const r = await api(s.base, 'POST', '/s3/multipart', { filename: 'big.bin', metadata: { size: 10 * MIB + 1 } });
      expect(r.status).toBe(413);
      expect(r.body).toMatchObject({ error: { code: 'FILE_TOO_LARGE' } });
    } finally {
      await s.close();
    }
  });
});

describe('Uppy one-request upload through /s3/params', () => {
  it('answers an S3 POST policy for exactly the declared size under the drop key', async () => {
    const data = randomBytes(3000);
    const r = await api<{ method: string; url: string; fields: Record<string, string>; key: string; id: string }>(
      t.base, 'GET', `/s3/params?${new URLSearchParams({ filename: 'note.txt', type: 'text/plain', 'metadata[name]': 'note.txt', 'metadata[size]': String(data.length) })}`);
    expect(r.status).toBe(200);
    expect(r.body.method).toBe('POST');
    // The posted key, never the published original: only the worker publishes a form upload.
    expect(r.body.fields.key).toBe(dropKeys(r.body.id).posted);
    expect(r.body.key).toBe(dropKeys(r.body.id).posted);
    const post = async (bytes: Uint8Array) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(r.body.fields)) form.append(k, v);
      form.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>]));
      return (await fetch(r.body.url, { method: 'POST', body: form })).status;
    };
    expect(await post(randomBytes(data.length + 1))).toBe(400);
    expect(await post(data)).toBe(204);
    expect(await t.store.head(r.body.key)).toMatchObject({ size: data.length });
    const m = (await t.manifests.get(r.body.id))!.manifest;
    expect(m.upload).toMatchObject({ mode: 'single', partCount: 1, partSize: data.length });
    expect(m.source).toBe('uppy');
  });

  it('needs metadata[size]', async () => {
    const r = await api(t.base, 'GET', '/s3/params?filename=a.txt&type=text%2Fplain');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
  });
});
