/**
 * The routes answer what the OpenAPI document says: every answer of a walk through the api —
 * successes and the errors a client meets — has a declared status, its declared content type
 * and, for JSON, a body its schema accepts (test/support/openapi.ts).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { s3Error } from '../../src/memory/index.js';
import { conformance, type Answer } from '../support/openapi.js';
import { memoryApp, type MemoryApp } from '../support/memory-app.js';

const MIB = 1024 * 1024;
let t: MemoryApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** An app whose every call is checked against the document it serves. */
async function checkedApp(env: Record<string, string> = {}) {
  t = await memoryApp(env);
  const app = t;
  const doc = (await app.app.inject({ method: 'GET', url: '/openapi.json' })).json();
  const { problems } = conformance(doc);
  const found: string[] = [];
  const seen: string[] = [];
  const record = (method: string, url: string, res: Answer) => {
    found.push(...problems(method, url, res));
    seen.push(`${method} ${url.split('?')[0]} ${res.statusCode}`);
    return res;
  };
  type Opts = Parameters<MemoryApp['call']>[2];
  return {
    t: app,
    found,
    seen,
    call: async (method: string, url: string, opts?: Opts) => record(method, url, await app.call(method, url, opts)) as Awaited<ReturnType<MemoryApp['call']>>,
    raw: async (opts: { method: string; url: string; headers?: Record<string, string>; payload?: string | Buffer }) =>
      record(opts.method, opts.url, await app.app.inject(opts as never)),
  };
}

describe('answers conform to the OpenAPI document', () => {
  it('the check finds what the document does not promise', async () => {
    const { problems } = conformance((await (t = await memoryApp()).app.inject({ method: 'GET', url: '/openapi.json' })).json());
    const json = { 'content-type': 'application/json; charset=utf-8' };
    const error = (code: string) => JSON.stringify({ error: { code, message: 'm' } });
    expect(problems('GET', '/v1/drops/x', { statusCode: 404, headers: json, body: error('DROP_NOT_FOUND') })).toEqual([]);
    expect(problems('GET', '/v1/drops/x', { statusCode: 418, headers: json, body: error('DROP_NOT_FOUND') })).toHaveLength(1);
    expect(problems('GET', '/v1/drops/x', { statusCode: 404, headers: json, body: error('NO_SUCH_CODE') })).toHaveLength(1);
    expect(problems('GET', '/v1/drops/x', { statusCode: 404, headers: json, body: error('DROP_EXPIRED') })).toHaveLength(1);
    expect(problems('GET', '/v1/drops/x', { statusCode: 503, headers: json, body: error('STORAGE_UNAVAILABLE') })).toEqual(['GET /v1/drops/x → 503: no Retry-After']);
    expect(problems('GET', '/v1/drops/x', { statusCode: 200, headers: json, body: '{"id":"x"}' })).toHaveLength(1);
    expect(problems('GET', '/d/x', { statusCode: 200, headers: json, body: '{}' })).toHaveLength(1);
  });

  it('the native flow and its errors', async () => {
    const a = await checkedApp();
    const { call, t } = a;
    const photo = await call('POST', '/v1/drops', { body: { name: 'photo.jpg', size: 3 * MIB, type: 'image/jpeg' } });
    expect(photo.statusCode).toBe(201);
    const video = await call('POST', '/v1/drops', { body: { name: 'holiday.mp4', size: 20 * MIB } });
    expect(video.statusCode).toBe(201);
    const { id, ownerToken } = video.json();

    await call('POST', '/v1/drops', { body: { name: '', size: 1 } });
    await call('POST', '/v1/drops', { body: { name: 'a/b', size: 1 } });
    await call('POST', '/v1/drops', { body: { name: 'x', size: 1, colour: 'red' } });
    await call('POST', '/v1/drops', { body: { name: 'x', size: 1 }, headers: { authorization: 'Bearer nope' } });
    await call('POST', '/v1/drops', { body: { name: 'x', size: 1, expiresIn: 10 } });
    await a.raw({ method: 'POST', url: '/v1/drops', headers: { 'content-type': 'application/xml' }, payload: '<drop/>' });
    await a.raw({ method: 'POST', url: '/v1/drops', headers: { 'content-type': 'application/json' }, payload: '{"name":' });
    await a.raw({ method: 'POST', url: '/v1/drops', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(3 * MIB) }) });

    const signed = await call('POST', `/v1/drops/${id}/parts`, { body: { partNumbers: [1, 2, 3, 4] }, owner: ownerToken });
    expect(signed.statusCode).toBe(200);
    await call('POST', `/v1/drops/${id}/parts`, { body: { partNumbers: [1] } });
    await call('POST', `/v1/drops/${id}/parts`, { body: { partNumbers: [1] }, owner: 'x'.repeat(43) });
    await call('POST', `/v1/drops/${id}/parts`, { body: { partNumbers: [9] }, owner: ownerToken });
    await call('POST', `/v1/drops/${'A'.repeat(21)}/parts`, { body: { partNumbers: [1] }, owner: ownerToken });
    await call('POST', `/v1/drops/${'A'.repeat(65)}/parts`, { body: { partNumbers: [1] }, owner: ownerToken });
    await call('GET', `/v1/drops/${id}/parts`, { owner: ownerToken });
    await call('POST', `/v1/drops/${id}/complete`, { body: {}, owner: ownerToken });

    const data = randomBytes(20 * MIB);
    const parts = signed.json().parts as { partNumber: number; url: string; size: number; headers: Record<string, string> }[];
    let offset = 0;
    const etags = [];
    for (const p of parts) {
      const put = await t.put(p.url, data.subarray(offset, offset + p.size), p.headers);
      offset += p.size;
      etags.push({ partNumber: p.partNumber, etag: put.etag! });
    }
    await call('POST', `/v1/drops/${id}/complete`, { body: { parts: [{ partNumber: 1, etag: '"nope"' }] }, owner: ownerToken });
    expect((await call('POST', `/v1/drops/${id}/complete`, { body: { parts: etags }, owner: ownerToken })).statusCode).toBe(200);
    await call('POST', `/v1/drops/${id}/complete`, { owner: ownerToken });
    await call('POST', `/v1/drops/${id}/parts`, { body: { partNumbers: [1] }, owner: ownerToken });

    await call('GET', `/v1/drops/${id}`);
    await call('GET', `/v1/drops/${'A'.repeat(21)}`);
    await call('GET', `/d/${id}/download`);
    await call('GET', `/d/${'A'.repeat(21)}/download`);
    await call('GET', `/d/${id}/thumb/256`);
    await call('GET', `/d/${id}/thumb/0`);
    await call('GET', `/d/${id}`);
    await call('GET', `/d/${'A'.repeat(21)}`);
    await call('GET', `/v1/drops/${'A'.repeat(21)}/events`);
    await call('DELETE', `/v1/drops/${id}`, { owner: ownerToken });
    await call('DELETE', `/v1/drops/${id}`, { owner: ownerToken });
    await a.raw({ method: 'DELETE', url: `/v1/drops/${id}`, headers: { 'x-owner-token': ownerToken, 'content-type': 'application/xml' }, payload: '<x/>' });
    await call('GET', `/v1/drops/${id}/events`);
    await call('DELETE', `/v1/drops/${id}`);

    const { id: photoId, ownerToken: photoToken } = photo.json();
    t.advance(8 * 24 * 3600);
    await call('POST', `/v1/drops/${photoId}/parts`, { body: { partNumbers: [1] }, owner: photoToken });
    await call('GET', `/v1/drops/${photoId}`);
    await call('GET', `/d/${photoId}/download`);

    await call('DELETE', `/v1/drops/${photoId}`, { owner: photoToken });
    await call('GET', `/d/${photoId}/thumb/256`);
    const small = (await call('POST', '/v1/drops', { body: { name: 'a.txt', size: 5 } })).json();
    await call('GET', `/v1/drops/${small.id}/parts`, { owner: small.ownerToken });
    await call('POST', `/v1/drops/${small.id}/complete`, { owner: small.ownerToken });
    t.store.failNext('getText', s3Error(503, 'ServiceUnavailable'));
    await call('GET', `/v1/drops/${small.id}`);
    await call('GET', '/healthz');
    await call('GET', '/readyz');
    t.store.failNext('probe', s3Error(500));
    await call('GET', '/readyz');

    expect(a.found).toEqual([]);
    // The walk met what it meant to: a few statuses it must have seen.
    for (const s of ['POST /v1/drops 201', 'POST /v1/drops 415', 'POST /v1/drops 413', 'POST /v1/drops 401', `GET /v1/drops/${small.id} 503`, `DELETE /v1/drops/${id} 415`]) expect(a.seen).toContain(s);
  });

  it('Uppy, the curl route, the rate limit', async () => {
    const a = await checkedApp({ DROPSHIP_RATE_LIMIT: '60' });
    const { call, t } = a;
    const created = await call('POST', '/s3/multipart', { body: { filename: 'big.bin', metadata: { size: 12 * MIB } } });
    expect(created.statusCode).toBe(200);
    const u = created.json();
    const q = `key=${encodeURIComponent(u.key)}`;
    const cookie = { cookie: `dropship_uppy=${u.ownerToken}` };
    await call('POST', '/s3/multipart', { body: { filename: 'big.bin' } });
    await call('GET', `/s3/multipart/${u.uploadId}?${q}`, { headers: cookie });
    await call('GET', `/s3/multipart/${u.uploadId}?${q}`);
    await call('GET', `/s3/multipart/${u.uploadId}/1?${q}`, { headers: cookie });
    const batch = await call('GET', `/s3/multipart/${u.uploadId}/batch?${q}&partNumbers=1,2,3`, { headers: cookie });
    const urls = batch.json().presignedUrls as Record<string, string>;
    const data = randomBytes(12 * MIB);
    const parts = [];
    for (const n of [1, 2, 3]) {
      const put = await t.put(urls[String(n)]!, data.subarray((n - 1) * 5 * MIB, Math.min(n * 5 * MIB, 12 * MIB)));
      parts.push({ PartNumber: n, ETag: put.etag! });
    }
    await call('POST', `/s3/multipart/${u.uploadId}/complete?${q}`, { body: { parts }, headers: cookie });
    const other = (await call('POST', '/s3/multipart', { body: { filename: 'b.bin', metadata: { size: 6 * MIB } } })).json();
    await call('DELETE', `/s3/multipart/${other.uploadId}?key=${encodeURIComponent(other.key)}`, { owner: other.ownerToken });
    await call('GET', '/s3/params?filename=a.txt&metadata[size]=5', { headers: { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' } });
    await call('GET', '/s3/params?filename=a.txt&metadata[size]=5', { headers: { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'image' } });

    await a.raw({ method: 'PUT', url: '/note.txt', payload: 'hello' });
    await a.raw({ method: 'PUT', url: '/v1/stream/note.txt', payload: 'hello' });
    await a.raw({ method: 'PUT', url: '/..', payload: 'hello' });
    await a.raw({ method: 'PUT', url: '/big.bin', headers: { 'content-length': String(100 * 1024 ** 3) }, payload: '' });

    for (let i = 0; i < 60; i++) await call('GET', `/v1/drops/${'A'.repeat(21)}`);
    expect(a.seen).toContain(`GET /v1/drops/${'A'.repeat(21)} 429`);
    expect(a.found).toEqual([]);
  });

  it('admission refusals carry Retry-After', async () => {
    const limited = await checkedApp({ DROPSHIP_MAX_OPEN_TICKETS: '1' });
    await limited.call('POST', '/v1/drops', { body: { name: 'a.bin', size: 5 } });
    await limited.call('POST', '/v1/drops', { body: { name: 'b.bin', size: 5 } });
    await limited.call('POST', '/s3/multipart', { body: { filename: 'c.bin', metadata: { size: 6 * MIB } } });
    expect(limited.seen).toEqual(expect.arrayContaining(['POST /v1/drops 429', 'POST /s3/multipart 429']));
    expect(limited.found).toEqual([]);
  });
});
