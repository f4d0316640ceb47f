/**
 * The Companion-compatible Uppy routes and the streaming route (`curl -T`) through `inject`
 * on the in-memory adapters: their answers and what each leaves in storage. The emulator
 * versions are test/integration/uppy.test.ts and stream.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dropKeys } from '../../src/core/layout.js';
import { s3Error } from '../../src/memory/index.js';
import { memoryApp, type MemoryApp } from '../support/memory-app.js';

const MIB = 1024 * 1024;
let t: MemoryApp;
beforeEach(async () => {
  t = await memoryApp();
});
afterEach(() => t.close());

/** The error code of an answer; every error also carries a message for people (never empty). */
const code = (r: { json(): { error?: { code: string; message: string } } }) => {
  const e = r.json().error;
  if (e) expect(e.message.trim().length, `${e.code} without a message`).toBeGreaterThan(5);
  return e?.code;
};
const manifestOf = (id: string) => JSON.parse(t.store.objects.get(dropKeys(id).manifest)!.body.toString());

describe('Uppy: /s3/multipart', () => {
  async function create(size: number, extra: Record<string, unknown> = {}) {
    const r = await t.call('POST', '/s3/multipart', { body: { filename: 'big.bin', type: 'application/zip', metadata: { size }, ...extra } });
    expect(r.statusCode, r.body).toBe(200);
    const cookie = String(r.headers['set-cookie']);
    return { ...r.json<{ key: string; uploadId: string; id: string; ownerToken: string; partSize: number; partCount: number }>(), cookie };
  }

  it('create plans parts the way Uppy cuts the file and scopes an HttpOnly owner cookie to the upload', async () => {
    const u = await create(12 * MIB);
    expect(u).toMatchObject({ key: dropKeys(u.id).original, partSize: 5 * MIB, partCount: 3 });
    expect(u.cookie).toMatch(new RegExp(`^dropship_uppy=${u.ownerToken}; Max-Age=\\d+; Path=/s3/multipart/${u.uploadId}; HttpOnly; SameSite=Strict$`));
    expect(manifestOf(u.id)).toMatchObject({ source: 'uppy', upload: { mode: 'multipart', uploadId: u.uploadId, partSize: 5 * MIB } });
  });

  it('without metadata.size create is refused with a clear pointer, and nothing is stored', async () => {
    const r = await t.call('POST', '/s3/multipart', { body: { filename: 'x.bin' } });
    expect([r.statusCode, code(r)]).toEqual([400, 'VALIDATION_FAILED']);
    expect(r.json().error.message).toMatch(/metadata\.size/);
    expect(t.store.objects.size + t.store.uploads.size).toBe(0);
  });

  it('signs, lists, completes with the cookie alone; the pair key/uploadId must match the drop', async () => {
    const u = await create(12 * MIB);
    const cookie = { cookie: `dropship_uppy=${u.ownerToken}` };
    const q = `key=${encodeURIComponent(u.key)}`;
    const batch = await t.call('GET', `/s3/multipart/${u.uploadId}/batch?${q}&partNumbers=1,2,3`, { headers: cookie });
    const urls = batch.json<{ presignedUrls: Record<string, string> }>().presignedUrls;
    const data = randomBytes(12 * MIB);
    const parts = [];
    for (const n of [1, 2, 3]) {
      const put = await t.put(urls[String(n)]!, data.subarray((n - 1) * 5 * MIB, n * 5 * MIB));
      parts.push({ PartNumber: n, ETag: put.etag! });
    }
    const listed = await t.call('GET', `/s3/multipart/${u.uploadId}?${q}`, { headers: cookie });
    expect(listed.json().map((p: { Size: number }) => p.Size)).toEqual([5 * MIB, 5 * MIB, 2 * MIB]);

    const other = await create(12 * MIB);
    const swapped = await t.call('POST', `/s3/multipart/${other.uploadId}/complete?${q}`, { body: { parts }, headers: cookie });
    expect(code(swapped)).toBe('DROP_NOT_FOUND');
    const noToken = await t.call('POST', `/s3/multipart/${u.uploadId}/complete?${q}`, { body: { parts } });
    expect(code(noToken)).toBe('UNAUTHORIZED');

    const done = await t.call('POST', `/s3/multipart/${u.uploadId}/complete?${q}`, { body: { parts }, headers: cookie });
    expect(done.json()).toMatchObject({ id: u.id, status: 'processing', location: `http://drops.test/d/${u.id}` });
    expect(String(done.headers['set-cookie'])).toMatch(/dropship_uppy=; Max-Age=0; Path=\/s3\/multipart\//);
    expect(Buffer.compare(t.store.objects.get(u.key)!.body, data)).toBe(0);
  });

  it('abort cancels the drop and leaves no multipart upload', async () => {
    const u = await create(12 * MIB);
    const r = await t.call('DELETE', `/s3/multipart/${u.uploadId}?key=${encodeURIComponent(u.key)}`, { owner: u.ownerToken });
    expect(r.statusCode).toBe(200);
    expect(manifestOf(u.id).status).toBe('cancelled');
    expect(t.store.uploads.size).toBe(0);
  });
});

describe('Uppy: /s3/params', () => {
  it('answers a POST policy for exactly the declared size, and the drop it made', async () => {
    const r = await t.call('GET', '/s3/params?filename=a.txt&type=text/plain&metadata[size]=3');
    expect(r.statusCode).toBe(200);
    const body = r.json();
    // The policy addresses the drop's posted key, never the published original (a POST policy
    // cannot be create-only; the worker publishes the first form upload, once).
    expect(body).toMatchObject({ method: 'POST', key: dropKeys(body.id).posted, fields: { key: dropKeys(body.id).posted } });
    expect(new URL(body.url).searchParams.get('x-content-length')).toBe('3');
    expect(manifestOf(body.id)).toMatchObject({ source: 'uppy', size: 3, upload: { mode: 'single' } });
  });

  it('the drop has no part URLs: its form policy is its only way in, so nothing else can write its file', async () => {
    const r = await t.call('GET', '/s3/params?filename=cat.png&type=image/png&metadata[size]=3');
    const { id, ownerToken } = r.json<{ id: string; ownerToken: string }>();
    const parts = await t.call('POST', `/v1/drops/${id}/parts`, { body: { partNumbers: [1] }, owner: ownerToken });
    expect([parts.statusCode, code(parts)]).toEqual([409, 'DROP_NOT_UPLOADING']);
    expect(parts.json().error.message).toMatch(/form policy/);
  });

  it('a cross-site <img src>, a link or a frame creates no drop and spends no slot; Uppy\'s fetch works', async () => {
    const small = await memoryApp({ DROPSHIP_MAX_OPEN_TICKETS: '1' });
    const url = '/s3/params?filename=a.txt&type=text/plain&metadata[size]=3';
    for (const headers of [
      { 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image', 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe', 'sec-fetch-site': 'cross-site' },
    ]) {
      const r = await small.call('GET', url, { headers });
      expect([r.statusCode, code(r)]).toEqual([403, 'CROSS_SITE_REFUSED']);
    }
    expect(small.store.objects.size).toBe(0);
    // What Chromium sends for Uppy's same-origin fetch: admitted, and it takes the one slot.
    const uppy = await small.call('GET', url, { headers: { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', 'sec-fetch-site': 'same-origin' } });
    expect(uppy.statusCode).toBe(200);
    await small.close();
  });

  it('a cross-origin fetch is refused unless DROPSHIP_CORS_ORIGINS allows its origin', async () => {
    const strict = await memoryApp({ DROPSHIP_CORS_ORIGINS: 'https://app.example' });
    const url = '/s3/params?filename=a.txt&metadata[size]=3';
    const fetchFrom = (origin: string) => ({ 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', 'sec-fetch-site': 'cross-site', origin });
    expect(code(await strict.call('GET', url, { headers: fetchFrom('https://evil.example') }))).toBe('CROSS_SITE_REFUSED');
    expect((await strict.call('GET', url, { headers: fetchFrom('https://app.example') })).statusCode).toBe(200);
    await strict.close();
  });

  it('over 5 GiB is refused: a single upload cannot hold it', async () => {
    const r = await t.call('GET', `/s3/params?filename=a.bin&metadata[size]=${5 * 1024 ** 3 + 1}`);
    expect([r.statusCode, code(r)]).toEqual([400, 'SIZE_INVALID']);
    expect(t.store.objects.size).toBe(0);
  });
});

describe('PUT /:name (curl -T)', () => {
  const put = (url: string, body: Buffer | Readable, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'PUT', url, payload: body, headers: { 'content-type': 'application/octet-stream', ...headers } });

  it('stores the body and answers the share link as text, after the bytes are in storage', async () => {
    const data = randomBytes(20 * MIB + 3);
    const r = await put('/notes.bin', data);
    expect(r.statusCode).toBe(201);
    const id = String(r.headers['x-drop-id']);
    expect(r.body).toBe(`http://drops.test/d/${id}\n`);
    expect(Buffer.compare(t.store.objects.get(dropKeys(id).original)!.body, data)).toBe(0);
    expect(manifestOf(id)).toMatchObject({ status: 'processing', size: data.length, source: 'stream', upload: { mode: 'multipart' } });
    expect(t.store.uploads.size).toBe(0);
  });

  it('a body that fits one part is one PUT; a chunked body of unknown length works too', async () => {
    const small = await put('/a.txt', Buffer.from('hello'));
    expect(manifestOf(String(small.headers['x-drop-id']))).toMatchObject({ size: 5, upload: { mode: 'single', partCount: 1 } });
    const chunked = await put('/b.bin', Readable.from([randomBytes(1000), randomBytes(24)]));
    expect(chunked.statusCode).toBe(201);
    expect(manifestOf(String(chunked.headers['x-drop-id']))).toMatchObject({ size: 1024 });
  });

  it('over the size limit: 413 before reading, and nothing stored', async () => {
    const small = await memoryApp({ DROPSHIP_STREAM_MAX_SIZE: '1000' });
    const r = await small.app.inject({ method: 'PUT', url: '/big.bin', payload: randomBytes(1001) });
    expect([r.statusCode, r.json().error.code]).toEqual([413, 'FILE_TOO_LARGE']);
    expect(small.store.objects.size + small.store.uploads.size).toBe(0);
    await small.close();
  });

  it('S3 failing mid-body: 503, the multipart upload aborted, the drop cancelled, no object published', async () => {
    t.store.failNext('uploadPart', s3Error(500), 10);
    const r = await put('/fail.bin', randomBytes(20 * MIB));
    expect(r.statusCode).toBe(503);
    expect(t.store.uploads.size).toBe(0);
    const manifests = [...t.store.objects.keys()].filter((k) => k.endsWith('manifest.json'));
    expect(manifests).toHaveLength(1);
    expect(JSON.parse(t.store.objects.get(manifests[0]!)!.body.toString()).status).toBe('cancelled');
    expect([...t.store.objects.keys()].filter((k) => k.endsWith('/original'))).toEqual([]);
  });
});
