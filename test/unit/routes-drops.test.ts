/**
 * /v1/drops and the download routes through `inject`, on the in-memory adapters: every
 * answer a client can get — successes, each error code, races and retries after a lost
 * answer. test/integration/drops.test.ts proves the same flows against S3 on the emulator.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dropKeys } from '../../src/core/layout.js';
import { s3Error } from '../../src/memory/index.js';
import { createMessageHandler } from '../../src/worker/handler.js';
import { solid } from '../support/images.js';
import { memoryApp, type MemoryApp } from '../support/memory-app.js';

const MIB = 1024 * 1024;

interface Ticket {
  id: string;
  ownerToken: string;
  status: string;
  upload: { mode: 'single' | 'multipart'; partSize: number; partCount: number; expiresAt: string };
  parts: { partNumber: number; url: string; size: number; expiresAt: string; headers: Record<string, string> }[];
}

let t: MemoryApp;
beforeEach(async () => {
  t = await memoryApp();
});
afterEach(() => t.close());

async function ticket(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Ticket> {
  const r = await t.call('POST', '/v1/drops', { body, headers });
  expect(r.statusCode, r.body).toBe(201);
  return r.json<Ticket>();
}

/** Sends `data` part by part to the ticket's URLs (signing the rest); returns the ETags. */
async function send(tk: Ticket, data: Buffer) {
  const numbers = Array.from({ length: tk.upload.partCount }, (_, i) => i + 1);
  const signed = new Map(tk.parts.map((p) => [p.partNumber, p]));
  const rest = numbers.filter((n) => !signed.has(n));
  if (rest.length) {
    const r = await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: rest }, owner: tk.ownerToken });
    for (const p of r.json<{ parts: Ticket['parts'] }>().parts) signed.set(p.partNumber, p);
  }
  const etags = [];
  for (const n of numbers) {
    const p = signed.get(n)!;
    const start = (n - 1) * tk.upload.partSize;
    const put = await t.put(p.url, data.subarray(start, start + p.size), p.headers);
    expect(put.status).toBe(200);
    etags.push({ partNumber: n, etag: put.etag! });
  }
  return etags;
}

/** The error code of an answer; every error also carries a message for people (never empty). */
const code = (r: { json(): { error?: { code: string; message: string } } }) => {
  const e = r.json().error;
  if (e) expect(e.message.trim().length, `${e.code} without a message`).toBeGreaterThan(5);
  return e?.code;
};

describe('POST /v1/drops', () => {
  it('a small file gets one signed PUT, a large one multipart parts of the plan', async () => {
    const small = await ticket({ name: 'a.txt', size: 10 });
    expect(small).toMatchObject({ status: 'uploading', upload: { mode: 'single', partCount: 1, partSize: 10 }, parts: [{ partNumber: 1, size: 10 }] });
    const big = await ticket({ name: 'b.bin', size: 20 * MIB });
    // Mid-size: four 5 MiB parts rather than 8 + 8 + 4, so a reload keeps more of the work.
    expect(big.upload).toMatchObject({ mode: 'multipart', partSize: 5 * MIB, partCount: 4 });
    expect(big.parts.map((p) => p.size)).toEqual([5 * MIB, 5 * MIB, 5 * MIB, 5 * MIB]);
    expect(t.store.uploads.size).toBe(1);
  });

  it.each([
    [{ name: 'x', size: -1 }, 400, 'SIZE_INVALID', 'size must be at least 0 B (0 bytes)'],
    [{ name: 'x', size: '10' }, 400, 'SIZE_INVALID', 'size must be a whole number'],
    [{ name: 'x', size: 1, extra: true }, 400, 'VALIDATION_FAILED', 'unknown field "extra" in the request body'],
    [{ name: '', size: 1 }, 400, 'NAME_INVALID', 'name must not be empty'],
    [{ name: '..', size: 1 }, 400, 'NAME_INVALID', undefined],
    [{ name: 'x', size: 6 * 1024 ** 4 }, 400, 'SIZE_INVALID', 'size must be at most 5.00 TiB (5497558138880 bytes)'],
  ])('%j → %i %s, and nothing is stored', async (body, status, expected, message) => {
    const r = await t.call('POST', '/v1/drops', { body });
    expect(r.statusCode).toBe(status);
    expect(code(r)).toBe(expected);
    if (message) expect(r.json().error.message).toBe(message);
    expect(t.store.objects.size + t.store.uploads.size).toBe(0);
  });

  it('over the server limit: FILE_TOO_LARGE', async () => {
    const small = await memoryApp({ DROPSHIP_MAX_FILE_SIZE: '1000' });
    const r = await small.call('POST', '/v1/drops', { body: { name: 'x', size: 1001 } });
    expect([r.statusCode, code(r)]).toEqual([413, 'FILE_TOO_LARGE']);
    await small.close();
  });

  it('without public uploads an API key is needed, and an unknown key is refused even with them', async () => {
    const keyed = await memoryApp({ DROPSHIP_PUBLIC_UPLOADS: 'false', DROPSHIP_API_KEYS: 'k1' });
    expect(code(await keyed.call('POST', '/v1/drops', { body: { name: 'x', size: 1 } }))).toBe('UNAUTHORIZED');
    const ok = await keyed.call('POST', '/v1/drops', { body: { name: 'x', size: 1 }, headers: { authorization: 'Bearer k1' } });
    expect(ok.statusCode).toBe(201);
    await keyed.close();
    const r = await t.call('POST', '/v1/drops', { body: { name: 'x', size: 1 }, headers: { authorization: 'Bearer nope' } });
    expect([r.statusCode, code(r)]).toEqual([401, 'UNAUTHORIZED']);
  });

  it('open tickets per uploader and per process are limited, with Retry-After; finishing one frees its slot', async () => {
    const limited = await memoryApp({ DROPSHIP_MAX_OPEN_TICKETS: '2', DROPSHIP_UPLOAD_SLOTS: '3' });
    const a = (await limited.call('POST', '/v1/drops', { body: { name: 'a', size: 1 } })).json<Ticket>();
    await limited.call('POST', '/v1/drops', { body: { name: 'b', size: 1 } });
    const third = await limited.call('POST', '/v1/drops', { body: { name: 'c', size: 1 } });
    expect([third.statusCode, code(third), third.headers['retry-after']]).toEqual([429, 'TOO_MANY_OPEN_TICKETS', '60']);
    await limited.put(a.parts[0]!.url, Buffer.from('x'), a.parts[0]!.headers);
    expect((await limited.call('POST', `/v1/drops/${a.id}/complete`, { owner: a.ownerToken })).statusCode).toBe(200);
    expect((await limited.call('POST', '/v1/drops', { body: { name: 'c', size: 1 } })).statusCode).toBe(201);
    const other = await limited.call('POST', '/v1/drops', { body: { name: 'd', size: 1 }, headers: { 'x-forwarded-for': '1' }, });
    expect(other.statusCode).toBe(429);
    await limited.close();
  });

  it('105 small uploads finished by the worker (never completed through the api) do not exhaust the uploader\'s slots', async () => {
    expect(t.config.DROPSHIP_MAX_OPEN_TICKETS).toBe(100);
    for (let i = 0; i < 105; i++) {
      const r = await t.call('POST', '/v1/drops', { body: { name: `f${i}.txt`, size: 3 } });
      expect([i, r.statusCode, code(r)]).toEqual([i, 201, undefined]);
      const tk = r.json<Ticket>();
      expect((await t.put(tk.parts[0]!.url, Buffer.from('abc'), tk.parts[0]!.headers)).status).toBe(200);
      // What the worker does on the S3 event: uploading → ready, the api never told.
      await t.manifests.applyEvent(tk.id, { type: 'processed', at: t.now(), sniffedType: 'text/plain', thumbnail: 'none', thumbnails: [] });
    }
    // Uploads still open keep counting: 100 more that nobody finishes fill the slots again.
    for (let i = 0; i < 100; i++) expect((await t.call('POST', '/v1/drops', { body: { name: `o${i}`, size: 3 } })).statusCode).toBe(201);
    const over = await t.call('POST', '/v1/drops', { body: { name: 'over', size: 3 } });
    expect([over.statusCode, code(over)]).toEqual([429, 'TOO_MANY_OPEN_TICKETS']);
  });

  it('a storage outage while creating answers 503 STORAGE_UNAVAILABLE and leaves nothing behind', async () => {
    t.store.failNext('put', s3Error(503, 'ServiceUnavailable'));
    const r = await t.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB } });
    expect([r.statusCode, code(r), r.headers['retry-after']]).toEqual([503, 'STORAGE_UNAVAILABLE', '5']);
    expect(t.store.uploads.size).toBe(0);
    expect(t.store.objects.size).toBe(0);
  });

  it('a ticket sends its multipart upload, expiry marker and index entry at once, then the manifest', async () => {
    const keyed = await memoryApp({ DROPSHIP_PUBLIC_UPLOADS: 'false', DROPSHIP_API_KEYS: 'k1' });
    // Storage holds the multipart upload until the other two writes have arrived: one after
    // the other, this ticket would never be answered.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    keyed.store.beforeCall = async (op, key) => {
      seen.push(`${op} ${key.split('/').slice(0, 2).join('/')}`);
      if (op === 'createMultipart') await held;
      if (seen.filter((s) => s.startsWith('put index/')).length === 2) release();
    };
    const r = await keyed.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB }, headers: { authorization: 'Bearer k1' } });
    expect(r.statusCode).toBe(201);
    expect(seen.slice(0, 3).sort()).toEqual(['createMultipart drops/' + r.json().id, 'put index/expiry', 'put index/keys']);
    expect(seen[3]).toMatch(/^(put|putIfAbsent|create)\w* drops\//);
    await keyed.close();
  });

  it.each([
    ['the multipart upload', 'createMultipart', 1],
    ['one of the index writes', 'put', 1],
    ['both index writes', 'put', 2],
  ])('%s failing while the others succeed answers 503 and leaves nothing behind', async (_what, op, times) => {
    const keyed = await memoryApp({ DROPSHIP_PUBLIC_UPLOADS: 'false', DROPSHIP_API_KEYS: 'k1' });
    keyed.store.failNext(op, s3Error(503, 'ServiceUnavailable'), times);
    const r = await keyed.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB }, headers: { authorization: 'Bearer k1' } });
    expect([r.statusCode, code(r)]).toEqual([503, 'STORAGE_UNAVAILABLE']);
    expect([...keyed.store.objects.keys()]).toEqual([]);
    expect(keyed.store.uploads.size).toBe(0);
    // The ticket's slot was given back.
    const ok = await keyed.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB }, headers: { authorization: 'Bearer k1' } });
    expect(ok.statusCode).toBe(201);
    await keyed.close();
  });

  it('signing the first batch failing after the manifest was written leaves a cancelled drop and no upload', async () => {
    const sign = t.signer.signPut;
    t.signer.signPut = async () => {
      throw s3Error(500, 'InternalError');
    };
    const r = await t.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB } });
    t.signer.signPut = sign;
    expect(r.statusCode).toBe(503);
    expect(t.store.uploads.size).toBe(0);
    const [key] = [...t.store.objects.keys()].filter((k) => k.startsWith('drops/'));
    expect(JSON.parse(t.store.objects.get(key!)!.body.toString()).status).toBe('cancelled');
  });
});

describe('part signing and resume', () => {
  it('signs requested parts for their planned sizes; refuses numbers outside the plan, repeats and oversized batches', async () => {
    const tk = await ticket({ name: 'b.bin', size: 18 * MIB });
    const ok = await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [4, 1] }, owner: tk.ownerToken });
    expect(ok.json().parts.map((p: { partNumber: number; size: number }) => [p.partNumber, p.size])).toEqual([
      [4, 3 * MIB],
      [1, 5 * MIB],
    ]);
    for (const partNumbers of [[0], [5], [1, 1]]) {
      const r = await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers }, owner: tk.ownerToken });
      expect([r.statusCode, code(r)]).toEqual([400, expect.stringMatching(/PART_NUMBER_INVALID|VALIDATION_FAILED/)]);
    }
  });

  it('a URL sent a body of another length, tampered with, or used after it expired is refused by storage', async () => {
    const tk = await ticket({ name: 'a.txt', size: 10 });
    const url = tk.parts[0]!.url;
    expect((await t.put(url, Buffer.alloc(11))).status).toBe(403);
    expect((await t.put(url.replace('x-content-length=10', 'x-content-length=11'), Buffer.alloc(11))).status).toBe(403);
    t.advance(t.config.DROPSHIP_PART_URL_TTL + 1);
    expect((await t.put(url, Buffer.alloc(10))).status).toBe(403);
  });

  it('owner token: missing 401, wrong 403, for an unknown or malformed id 404', async () => {
    const tk = await ticket({ name: 'b.bin', size: 20 * MIB });
    const body = { partNumbers: [1] };
    expect(code(await t.call('POST', `/v1/drops/${tk.id}/parts`, { body }))).toBe('UNAUTHORIZED');
    expect(code(await t.call('POST', `/v1/drops/${tk.id}/parts`, { body, owner: 'x'.repeat(43) }))).toBe('OWNER_TOKEN_INVALID');
    expect(code(await t.call('POST', '/v1/drops/AAAAAAAAAAAAAAAAAAAAA/parts', { body, owner: tk.ownerToken }))).toBe('DROP_NOT_FOUND');
    expect((await t.call('GET', '/v1/drops/not-an-id')).statusCode).toBe(404);
  });

  it('lists the parts already stored, for resuming', async () => {
    const tk = await ticket({ name: 'b.bin', size: 20 * MIB });
    const data = randomBytes(20 * MIB);
    await t.put(tk.parts[1]!.url, data.subarray(5 * MIB, 10 * MIB));
    const r = await t.call('GET', `/v1/drops/${tk.id}/parts`, { owner: tk.ownerToken });
    expect(r.json()).toMatchObject({ partSize: 5 * MIB, partCount: 4, parts: [{ partNumber: 2, size: 5 * MIB }] });
  });

  it('no part is signed for a drop this process cancelled, even while its manifest is cached for signing', async () => {
    const tk = await ticket({ name: 'b.bin', size: 20 * MIB });
    expect((await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [2] }, owner: tk.ownerToken })).statusCode).toBe(200);
    expect((await t.call('DELETE', `/v1/drops/${tk.id}`, { owner: tk.ownerToken })).statusCode).toBe(200);
    const r = await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [3] }, owner: tk.ownerToken });
    expect([r.statusCode, code(r)]).toEqual([409, 'DROP_NOT_UPLOADING']);
  });

  it('past the ticket deadline the drop is expired: 410, and its multipart upload is aborted', async () => {
    const tk = await ticket({ name: 'b.bin', size: 20 * MIB, expiresIn: 60 });
    t.advance(61);
    const r = await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [1] }, owner: tk.ownerToken });
    expect([r.statusCode, code(r)]).toEqual([410, 'DROP_EXPIRED']);
    expect(t.store.uploads.size).toBe(0);
    expect((await t.call('GET', `/v1/drops/${tk.id}`)).json().status).toBe('expired');
  });
});

describe('complete', () => {
  it('multipart: publishes the planned bytes, answers processing, and a retry answers the same', async () => {
    const tk = await ticket({ name: 'b.bin', size: 20 * MIB });
    const data = randomBytes(20 * MIB);
    const parts = await send(tk, data);
    const r = await t.call('POST', `/v1/drops/${tk.id}/complete`, { body: { parts }, owner: tk.ownerToken });
    expect(r.json()).toMatchObject({ id: tk.id, status: 'processing', size: 20 * MIB });
    expect(Buffer.compare(t.store.objects.get(dropKeys(tk.id).original)!.body, data)).toBe(0);
    const again = await t.call('POST', `/v1/drops/${tk.id}/complete`, { body: { parts }, owner: tk.ownerToken });
    expect(again.json()).toEqual(r.json());
  });

  it('single PUT: complete checks the stored size', async () => {
    const tk = await ticket({ name: 'a.txt', size: 10 });
    const early = await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    expect([early.statusCode, code(early), early.json().error.details]).toEqual([409, 'PART_MISSING', { missing: [1] }]);
    await t.store.put(dropKeys(tk.id).original, Buffer.alloc(9), { contentType: 'x' });
    const wrong = await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    expect([wrong.statusCode, code(wrong)]).toEqual([409, 'PART_SIZE_MISMATCH']);
    // The wrong object stands in the way: the create-only URL cannot replace it (412).
    expect((await t.put(tk.parts[0]!.url, Buffer.alloc(10), tk.parts[0]!.headers)).status).toBe(412);
    await t.store.deleteKeys([dropKeys(tk.id).original]);
    await t.put(tk.parts[0]!.url, Buffer.alloc(10), tk.parts[0]!.headers);
    expect((await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken })).json().status).toBe('processing');
  });

  it('missing, oversized, foreign and duplicate parts are refused and nothing is published', async () => {
    const tk = await ticket({ name: 'b.bin', size: 20 * MIB });
    const data = randomBytes(20 * MIB);
    const parts = await send(tk, data);
    const post = (body: unknown) => t.call('POST', `/v1/drops/${tk.id}/complete`, { body, owner: tk.ownerToken });
    expect(code(await post({ parts: parts.slice(0, 2) }))).toBe('PART_MISSING');
    expect(code(await post({ parts: [...parts, { partNumber: 4, etag: '"x"' }] }))).toBe('PART_UNEXPECTED');
    expect(code(await post({ parts: [...parts, parts[0]] }))).toBe('PART_UNEXPECTED');
    expect(code(await post({ parts: parts.map((p, i) => (i === 1 ? { ...p, etag: '"0000"' } : p)) }))).toBe('PART_ETAG_MISMATCH');
    // A part of another size, sent without a signed URL (as a client holding S3 rights could).
    const m = (await t.manifests.get(tk.id))!.manifest;
    await t.store.uploadPart(dropKeys(tk.id).original, m.upload.uploadId!, 3, Buffer.alloc(7));
    expect(code(await post(undefined))).toBe('PART_SIZE_MISMATCH');
    expect(t.store.objects.has(dropKeys(tk.id).original)).toBe(false);
    expect((await t.call('GET', `/v1/drops/${tk.id}`)).json().status).toBe('uploading');
  });

  it('a retry after S3 completed but the answer was lost finishes the bookkeeping', async () => {
    const tk = await ticket({ name: 'b.bin', size: 20 * MIB });
    const parts = await send(tk, randomBytes(20 * MIB));
    const m = (await t.manifests.get(tk.id))!.manifest;
    await t.store.completeMultipart(dropKeys(tk.id).original, m.upload.uploadId!, parts);
    const r = await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    expect([r.statusCode, r.json().status]).toEqual([200, 'processing']);
  });

  it('complete after cancel is 409 and publishes nothing; cancel after complete deletes the file', async () => {
    const a = await ticket({ name: 'a.bin', size: 20 * MIB });
    const aParts = await send(a, randomBytes(20 * MIB));
    await t.call('DELETE', `/v1/drops/${a.id}`, { owner: a.ownerToken });
    const late = await t.call('POST', `/v1/drops/${a.id}/complete`, { body: { parts: aParts }, owner: a.ownerToken });
    expect([late.statusCode, code(late)]).toEqual([409, 'DROP_NOT_UPLOADING']);
    expect(t.store.objects.has(dropKeys(a.id).original)).toBe(false);

    const b = await ticket({ name: 'b.txt', size: 3 });
    await t.put(b.parts[0]!.url, Buffer.from('abc'), b.parts[0]!.headers);
    await t.call('POST', `/v1/drops/${b.id}/complete`, { owner: b.ownerToken });
    expect((await t.call('DELETE', `/v1/drops/${b.id}`, { owner: b.ownerToken })).json().status).toBe('cancelled');
    expect([...t.store.objects.keys()].filter((k) => k.startsWith(dropKeys(b.id).prefix))).toEqual([dropKeys(b.id).manifest]);
  });

  it('complete racing cancel: one wins, and the drop never ends published and cancelled', async () => {
    const tk = await ticket({ name: 'b.bin', size: 20 * MIB });
    const parts = await send(tk, randomBytes(20 * MIB));
    const [c, d] = await Promise.all([
      t.call('POST', `/v1/drops/${tk.id}/complete`, { body: { parts }, owner: tk.ownerToken }),
      t.call('DELETE', `/v1/drops/${tk.id}`, { owner: tk.ownerToken }),
    ]);
    expect(d.statusCode).toBe(200);
    expect([200, 409]).toContain(c.statusCode);
    // The cancel's cleanup runs after its write; a complete that published first is undone by it.
    expect((await t.call('GET', `/v1/drops/${tk.id}`)).json().status).toBe('cancelled');
    expect(t.store.uploads.size).toBe(0);
  });
});

describe('a published single-PUT object never changes (default DROPSHIP_SINGLE_PUT_MAX)', () => {
  it('the part entry carries the If-None-Match header; without it storage refuses the PUT (403)', async () => {
    const tk = await ticket({ name: 'a.txt', size: 3 });
    expect(tk.upload.mode).toBe('single');
    expect(tk.parts[0]!.headers).toEqual({ 'if-none-match': '*' });
    expect((await t.put(tk.parts[0]!.url, Buffer.from('abc'))).status).toBe(403);
    expect((await t.put(tk.parts[0]!.url, Buffer.from('abc'), { 'if-none-match': 'x' })).status).toBe(403);
    const resigned = await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [1] }, owner: tk.ownerToken });
    expect(resigned.json().parts[0].headers).toEqual({ 'if-none-match': '*' });
    // Multipart parts have no conditional form: nothing extra to send.
    const big = await ticket({ name: 'b.bin', size: 20 * MIB });
    expect(big.parts.map((p) => p.headers)).toEqual([{}, {}, {}, {}]);
  });

  it('after the drop is ready the same URL (or a fresh one) cannot replace the bytes: 412, download unchanged', async () => {
    const tk = await ticket({ name: 'a.txt', size: 3 });
    const p = tk.parts[0]!;
    expect((await t.put(p.url, Buffer.from('abc'), p.headers)).status).toBe(200);
    await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    await t.manifests.applyEvent(tk.id, { type: 'processed', at: t.now(), sniffedType: 'text/plain', thumbnail: 'none', thumbnails: [] });
    expect((await t.put(p.url, Buffer.from('<b>'), p.headers)).status).toBe(412);
    const download = await t.call('GET', `/d/${tk.id}/download`);
    const got = await t.signer.present('GET', download.headers.location as string, undefined, t.now());
    expect(got.body?.toString()).toBe('abc');
  });
});

describe('a stale signing cache cannot sign a single PUT', () => {
  it('a single-PUT drop finished elsewhere within the cache window gets no new URL; an old URL is refused (412)', async () => {
    const tk = await ticket({ name: 'a.txt', size: 3 });
    // Warm this process's signing cache.
    expect((await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [1] }, owner: tk.ownerToken })).statusCode).toBe(200);
    const p = tk.parts[0]!;
    await t.put(p.url, Buffer.from('abc'), p.headers);
    // Completed and processed by another replica and the worker: this process never heard.
    await t.manifests.applyEvent(tk.id, { type: 'complete', at: t.now() });
    await t.manifests.applyEvent(tk.id, { type: 'processed', at: t.now(), sniffedType: 'text/plain', thumbnail: 'none', thumbnails: [] });
    const again = await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [1] }, owner: tk.ownerToken });
    expect([again.statusCode, code(again)]).toEqual([409, 'DROP_NOT_UPLOADING']);
    expect((await t.put(p.url, Buffer.from('xyz'), p.headers)).status).toBe(412);
    expect(t.store.objects.get(dropKeys(tk.id).original)!.body.toString()).toBe('abc');
  });
});

describe('DELETE /v1/drops/:id', () => {
  it('is idempotent and finishes a cleanup that failed half-way', async () => {
    const tk = await ticket({ name: 'b.bin', size: 20 * MIB });
    await send(tk, randomBytes(20 * MIB));
    t.store.failNext('abortMultipart', s3Error(500));
    expect((await t.call('DELETE', `/v1/drops/${tk.id}`, { owner: tk.ownerToken })).statusCode).toBe(503);
    expect(t.store.uploads.size).toBe(1);
    const again = await t.call('DELETE', `/v1/drops/${tk.id}`, { owner: tk.ownerToken });
    expect([again.statusCode, again.json().status]).toEqual([200, 'cancelled']);
    expect(t.store.uploads.size).toBe(0);
    expect((await t.call('DELETE', `/v1/drops/${tk.id}`, { owner: tk.ownerToken })).statusCode).toBe(200);
  });
});

describe('downloads and thumbnails', () => {
  async function ready(body: Record<string, unknown> = {}) {
    const tk = await ticket({ name: 'report "final".pdf', size: 3, ...body });
    await t.put(tk.parts[0]!.url, Buffer.from('abc'), tk.parts[0]!.headers);
    await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    await t.manifests.applyEvent(tk.id, { type: 'processed', at: t.now(), sniffedType: 'application/pdf', thumbnail: 'none', thumbnails: [] });
    return tk;
  }

  it('302 to a signed GET that serves the bytes as an attachment under the name, typed as sniffed', async () => {
    const tk = await ready();
    const r = await t.call('GET', `/d/${tk.id}/download`);
    expect(r.statusCode).toBe(302);
    const url = new URL(r.headers.location as string);
    expect(url.searchParams.get('response-content-type')).toBe('application/pdf');
    expect(url.searchParams.get('response-content-disposition')).toMatch(/^attachment; filename=.*filename\*=UTF-8''report%20%22final%22\.pdf$/);
    expect((await t.signer.present('GET', url.href, undefined, t.now())).body?.toString()).toBe('abc');
  });

  it('every header of the download and the thumbnail is pinned by the signed URL, none left to the uploader', async () => {
    const tk = await ready();
    const params = (u: string) => Object.fromEntries([...new URL(u).searchParams].filter(([k]) => k.startsWith('response-')));
    const file = params((await t.call('GET', `/d/${tk.id}/download`)).headers.location as string);
    expect(file).toEqual({
      'response-content-type': 'application/pdf',
      'response-content-disposition': expect.stringMatching(/^attachment; /),
      'response-content-encoding': 'identity',
      'response-cache-control': 'private, no-store',
      'response-expires': 'Thu, 01 Jan 1970 00:00:00 GMT',
      'response-content-language': 'und',
    });
    const img = await ticket({ name: 'p.png', size: 3 });
    await t.put(img.parts[0]!.url, Buffer.from('png'), img.parts[0]!.headers);
    const thumb = { key: dropKeys(img.id).thumb(256), width: 256, height: 100 };
    await t.manifests.applyEvent(img.id, { type: 'processed', at: t.now(), sniffedType: 'image/png', thumbnail: 'ready', thumbnails: [thumb] });
    const ttl = t.config.DROPSHIP_DOWNLOAD_URL_TTL;
    expect(params((await t.call('GET', `/d/${img.id}/thumb/256`)).headers.location as string)).toEqual({
      'response-content-type': 'image/webp',
      'response-content-encoding': 'identity',
      'response-cache-control': `private, max-age=${ttl}`,
      'response-expires': new Date(t.now().getTime() + ttl * 1000).toUTCString(),
      'response-content-language': 'und',
    });
  });

  it('an uploading drop is 409 DROP_NOT_READY; an unknown one 404; a thumbnail that does not exist 404', async () => {
    const tk = await ticket({ name: 'a.txt', size: 10 });
    expect(code(await t.call('GET', `/d/${tk.id}/download`))).toBe('DROP_NOT_READY');
    expect((await t.call('GET', '/d/AAAAAAAAAAAAAAAAAAAAA/download')).statusCode).toBe(404);
    const r = await ready();
    expect(code(await t.call('GET', `/d/${r.id}/thumb/256`))).toBe('THUMBNAIL_NOT_FOUND');
  });

  it('maxDownloads: that many downloads, then 410 DOWNLOAD_LIMIT_REACHED', async () => {
    const tk = await ready({ maxDownloads: 2 });
    expect((await t.call('GET', `/d/${tk.id}/download`)).statusCode).toBe(302);
    expect((await t.call('GET', `/d/${tk.id}/download`)).statusCode).toBe(302);
    const third = await t.call('GET', `/d/${tk.id}/download`);
    expect([third.statusCode, code(third)]).toEqual([410, 'DOWNLOAD_LIMIT_REACHED']);
    expect((await t.manifests.get(tk.id))!.manifest.downloads).toBe(2);
  });

  it('HEAD does not count a download (link unfurlers) and hands out no URL for a limited drop', async () => {
    const tk = await ready({ maxDownloads: 1 });
    for (let i = 0; i < 5; i++) {
      const h = await t.call('HEAD', `/d/${tk.id}/download`);
      expect(h.statusCode).toBe(302);
      expect(h.headers.location).toBe(`http://drops.test/d/${tk.id}`);
    }
    expect((await t.manifests.get(tk.id))!.manifest.downloads ?? 0).toBe(0);
    expect((await t.call('GET', `/d/${tk.id}/download`)).statusCode).toBe(302);
    expect((await t.manifests.get(tk.id))!.manifest.downloads).toBe(1);
    // Used up: HEAD tells the truth, still without counting.
    const h = await t.call('HEAD', `/d/${tk.id}/download`);
    expect(h.statusCode).toBe(410);
    expect((await t.manifests.get(tk.id))!.manifest.downloads).toBe(1);
    expect((await t.call('HEAD', '/d/AAAAAAAAAAAAAAAAAAAAA/download')).statusCode).toBe(404);
  });

  it('HEAD on an unlimited drop answers the same redirect as GET', async () => {
    const tk = await ready();
    const h = await t.call('HEAD', `/d/${tk.id}/download`);
    expect(h.statusCode).toBe(302);
    expect(new URL(h.headers.location as string).searchParams.get('response-content-type')).toBe('application/pdf');
  });

  it('a limited drop gets a short download-URL lifetime (DROPSHIP_LIMITED_DOWNLOAD_URL_TTL, 30 s)', async () => {
    const unlimited = await ready();
    const limited = await ready({ maxDownloads: 3 });
    const u = new URL((await t.call('GET', `/d/${unlimited.id}/download`)).headers.location as string);
    const l = new URL((await t.call('GET', `/d/${limited.id}/download`)).headers.location as string);
    expect(t.config.DROPSHIP_LIMITED_DOWNLOAD_URL_TTL).toBe(30);
    expect((await t.signer.present('GET', l.href, undefined, new Date(t.now().getTime() + 29_000))).status).toBe(200);
    expect((await t.signer.present('GET', l.href, undefined, new Date(t.now().getTime() + 31_000))).status).toBe(403);
    expect((await t.signer.present('GET', u.href, undefined, new Date(t.now().getTime() + 31_000))).status).toBe(200);
  });

  it('60 concurrent downloads of a limited drop: only 302, 410 or 503, exactly maxDownloads 302s at most', async () => {
    const tk = await ready({ maxDownloads: 10 });
    const rs = await Promise.all(Array.from({ length: 60 }, () => t.call('GET', `/d/${tk.id}/download`)));
    const statuses = rs.map((r) => r.statusCode);
    expect(statuses.filter((s) => ![302, 410, 503].includes(s)), JSON.stringify(statuses)).toEqual([]);
    const ok = statuses.filter((s) => s === 302).length;
    expect(ok).toBeLessThanOrEqual(10);
    expect(ok).toBe((await t.manifests.get(tk.id))!.manifest.downloads);
    for (const r of rs.filter((x) => x.statusCode === 503)) expect(r.headers['retry-after']).toBeDefined();
  });

  it('a manifest that keeps losing its conditional write answers 503 STORAGE_BUSY with Retry-After, never 500', async () => {
    const tk = await ready({ maxDownloads: 5 });
    const key = dropKeys(tk.id).manifest;
    // Another writer changes the manifest between every read and write.
    t.store.beforeCall = async (op, k) => {
      if (op === 'put' && k === key) {
        const o = t.store.objects.get(key)!;
        t.store.objects.set(key, { ...o, etag: `"${randomBytes(16).toString('hex')}"` });
      }
    };
    const r = await t.call('GET', `/d/${tk.id}/download`);
    t.store.beforeCall = undefined;
    expect([r.statusCode, code(r), r.headers['retry-after']]).toEqual([503, 'STORAGE_BUSY', '1']);
  });
});

describe('thumbnails of an image smaller than the smallest width', () => {
  it('the drop lists one thumbnail per width and /thumb/:w answers for each listed width', async () => {
    const png = await solid(100, 80, '#123456').png().toBuffer();
    const tk = await ticket({ name: 'icon.png', size: png.length });
    await t.put(tk.parts[0]!.url, png, tk.parts[0]!.headers);
    const handle = createMessageHandler({ store: t.store, manifests: t.manifests, config: t.config, log: pino({ level: 'silent' }), clock: t.now });
    const key = dropKeys(tk.id).original;
    const outcome = await handle(JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key, size: png.length } } }] }));
    expect(outcome.outcome).toBe('done');
    const view = (await t.call('GET', `/v1/drops/${tk.id}`)).json();
    expect(view.thumbnails).toEqual([{ width: 100, height: 80, url: `http://drops.test/d/${tk.id}/thumb/100` }]);
    for (const th of view.thumbnails) {
      const r = await t.call('GET', new URL(th.url).pathname);
      expect(r.statusCode).toBe(302);
    }
  });
});

describe('readiness', () => {
  it('/readyz is 200 while storage and queue answer, 503 naming the one that does not', async () => {
    expect((await t.call('GET', '/readyz')).json()).toMatchObject({ ok: true, checks: { s3: { ok: true }, sqs: { ok: true } } });
    t.store.failNext('probe', s3Error(500));
    const r = await t.call('GET', '/readyz');
    expect(r.statusCode).toBe(503);
    expect(r.json().checks).toMatchObject({ s3: { ok: false }, sqs: { ok: true } });
  });
});
