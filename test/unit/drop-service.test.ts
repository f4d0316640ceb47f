/**
 * The drop service's finer rules, through the routes on the in-memory adapters: what a
 * ticket records, how long URLs live, the signing cache, the errors' details, what each
 * terminal transition releases. routes-drops.test.ts covers the flows; this file the edges.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { dropKeys } from '../../src/core/layout.js';
import { memoryApp, type MemoryApp } from '../support/memory-app.js';

const MIB = 1024 * 1024;
let t: MemoryApp;
afterEach(() => t?.close());

/** The error of an answer; every error carries a message for people (never empty). */
const err = (r: { json(): { error: { code: string; message: string; details?: unknown } } }) => {
  const e = r.json().error;
  expect(e.message.trim().length, `${e.code} without a message`).toBeGreaterThan(5);
  return e;
};
const ttlOf = (url: string, now: Date) => (Number(new URL(url).searchParams.get('x-expires')) - now.getTime()) / 1000;

describe('tickets', () => {
  it('record the plan, the source, a lower-case sha256, maxDownloads and the declared type', async () => {
    t = await memoryApp();
    const sha = 'AB'.repeat(32);
    const r = await t.call('POST', '/v1/drops', { body: { name: 'a b.txt', size: 10, type: 'text/plain', sha256: sha, maxDownloads: 3 } });
    const m = (await t.manifests.get(r.json().id))!.manifest;
    expect(m).toMatchObject({ name: 'a b.txt', size: 10, type: 'text/plain', sha256: sha.toLowerCase(), maxDownloads: 3, source: 'ticket', status: 'uploading' });
    expect(m.upload).toMatchObject({ mode: 'single', partSize: 10, partCount: 1 });
    expect(m.upload).not.toHaveProperty('uploadId');
  });

  it('FILE_TOO_LARGE names the limit; exactly the limit is accepted', async () => {
    t = await memoryApp({ DROPSHIP_MAX_FILE_SIZE: '100' });
    expect((await t.call('POST', '/v1/drops', { body: { name: 'x', size: 100 } })).statusCode).toBe(201);
    const r = await t.call('POST', '/v1/drops', { body: { name: 'x', size: 101 } });
    expect(err(r)).toMatchObject({ code: 'FILE_TOO_LARGE', details: { maxSize: 100 } });
  });

  it('NAME_INVALID says why', async () => {
    t = await memoryApp();
    expect(err(await t.call('POST', '/v1/drops', { body: { name: '..', size: 1 } }))).toMatchObject({ code: 'NAME_INVALID', details: { reason: expect.any(String) } });
  });

  it('the ticket lives expiresIn seconds, at most DROPSHIP_TICKET_TTL; the slots answer says 503 with Retry-After', async () => {
    t = await memoryApp({ DROPSHIP_TICKET_TTL: '3600', DROPSHIP_UPLOAD_SLOTS: '2' });
    const short = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 1, expiresIn: 600 } })).json();
    expect(Date.parse(short.upload.expiresAt) - t.now().getTime()).toBe(600_000);
    const long = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 1, expiresIn: 7200 } })).json();
    expect(Date.parse(long.upload.expiresAt) - t.now().getTime()).toBe(3_600_000);
    const full = await t.call('POST', '/v1/drops', { body: { name: 'x', size: 1 } });
    expect([full.statusCode, err(full).code, full.headers['retry-after']]).toEqual([503, 'UPLOAD_SLOTS_FULL', '30']);
  });

  it('the first batch is min(parts, DROPSHIP_TICKET_PARTS, DROPSHIP_PARTS_PER_BATCH) URLs', async () => {
    t = await memoryApp({ DROPSHIP_TICKET_PARTS: '2' });
    expect((await t.call('POST', '/v1/drops', { body: { name: 'x', size: 40 * MIB } })).json().parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1, 2]);
    await t.close();
    t = await memoryApp({ DROPSHIP_PARTS_PER_BATCH: '3' });
    expect((await t.call('POST', '/v1/drops', { body: { name: 'x', size: 40 * MIB } })).json().parts).toHaveLength(3);
  });
});

describe('part URLs', () => {
  it('live DROPSHIP_PART_URL_TTL seconds, never past the ticket, and at least one second', async () => {
    t = await memoryApp({ DROPSHIP_PART_URL_TTL: '900' });
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB, expiresIn: 1000 } })).json();
    expect(ttlOf(tk.parts[0].url, t.now())).toBe(900);
    expect(Date.parse(tk.parts[0].expiresAt) - t.now().getTime()).toBe(900_000);
    t.advance(400);
    const later = await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [2] }, owner: tk.ownerToken });
    expect(ttlOf(later.json().parts[0].url, t.now())).toBe(600);
    t.advance(599.5);
    const last = await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [3] }, owner: tk.ownerToken });
    expect(ttlOf(last.json().parts[0].url, t.now())).toBe(1);
  });

  it('numbers outside the plan are listed in the error; a batch larger than allowed is refused, one of that size is not', async () => {
    t = await memoryApp({ DROPSHIP_PARTS_PER_BATCH: '2' });
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB } })).json();
    const sign = (partNumbers: number[]) => t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers }, owner: tk.ownerToken });
    expect(err(await sign([5, 6, 2]))).toMatchObject({ code: 'PART_NUMBER_INVALID', details: { invalid: [5, 6] } });
    expect(err(await sign([1, 2, 3])).code).toBe('PART_NUMBER_INVALID');
    expect((await sign([1, 2])).statusCode).toBe(200);
  });

  it('signing reads a copy of the manifest at most 10 s old: a change made by another replica shows after that', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB } })).json();
    const sign = () => t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [1] }, owner: tk.ownerToken });
    expect((await sign()).statusCode).toBe(200);
    // Another replica cancels the drop: this process has not seen it.
    await t.manifests.applyEvent(tk.id, { type: 'cancel', at: t.now() });
    t.advance(9);
    expect((await sign()).statusCode).toBe(200);
    t.advance(1);
    expect(err(await sign()).code).toBe('DROP_NOT_UPLOADING');
  });

  it('the cache holds each drop once and forgets the oldest past 10,000 drops', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB } })).json();
    await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [1] }, owner: tk.ownerToken });
    const reads = () => t.store.calls.filter((c) => c.op === 'getText' && c.key === dropKeys(tk.id).manifest).length;
    const before = reads();
    await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [2] }, owner: tk.ownerToken });
    expect(reads()).toBe(before);
  });
});

describe('complete and status', () => {
  it('a single upload whose object is missing is PART_MISSING [1]; one of another size says both sizes', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 10 } })).json();
    expect(err(await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken }))).toMatchObject({ code: 'PART_MISSING', details: { missing: [1] } });
    await t.store.put(dropKeys(tk.id).original, Buffer.alloc(4), { contentType: 'x' });
    expect(err(await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken }))).toMatchObject({ code: 'PART_SIZE_MISMATCH', details: { expected: 10, actual: 4 } });
  });

  it('a multipart upload gone with no object (or the wrong one) is DROP_NOT_UPLOADING, not a success', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB } })).json();
    const m = (await t.manifests.get(tk.id))!.manifest;
    await t.store.abortMultipart(dropKeys(tk.id).original, m.upload.uploadId!);
    expect(err(await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken }))).toMatchObject({
      code: 'DROP_NOT_UPLOADING',
      message: 'the multipart upload no longer exists',
    });
    await t.store.put(dropKeys(tk.id).original, Buffer.alloc(5), { contentType: 'x' });
    expect(err(await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken })).code).toBe('DROP_NOT_UPLOADING');
    expect((await t.manifests.get(tk.id))!.manifest.status).toBe('uploading');
  });

  it('a complete losing to a concurrent one still answers processing when the object is whole', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB } })).json();
    const data = randomBytes(20 * MIB);
    const signed = (await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [1, 2, 3, 4] }, owner: tk.ownerToken })).json().parts;
    const parts = [];
    for (const p of signed) parts.push({ partNumber: p.partNumber, etag: (await t.put(p.url, data.subarray((p.partNumber - 1) * tk.upload.partSize, (p.partNumber - 1) * tk.upload.partSize + p.size))).etag! });
    const complete = t.store.completeMultipart;
    t.store.completeMultipart = async (k, id, ps) => {
      await complete(k, id, ps); // the other request publishes first…
      throw Object.assign(new Error('NoSuchUpload'), { name: 'NoSuchUpload', $metadata: { httpStatusCode: 404 } });
    };
    const r = await t.call('POST', `/v1/drops/${tk.id}/complete`, { body: { parts }, owner: tk.ownerToken });
    expect([r.statusCode, r.json().status]).toEqual([200, 'processing']);
  });

  it('completing releases the ticket slot; so do cancel and expiry', async () => {
    t = await memoryApp({ DROPSHIP_MAX_OPEN_TICKETS: '1' });
    const open = async () => (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 3 } })).json();
    const a = await open();
    expect(err(await t.call('POST', '/v1/drops', { body: { name: 'x', size: 3 } })).code).toBe('TOO_MANY_OPEN_TICKETS');
    await t.call('DELETE', `/v1/drops/${a.id}`, { owner: a.ownerToken });
    const b = await open();
    t.advance(t.config.DROPSHIP_TICKET_TTL + 1);
    expect((await t.call('GET', `/v1/drops/${b.id}`)).json().status).toBe('expired');
    const c = await open();
    await t.put(c.parts[0].url, Buffer.from('abc'), c.parts[0].headers);
    await t.call('POST', `/v1/drops/${c.id}/complete`, { owner: c.ownerToken });
    expect((await t.call('POST', '/v1/drops', { body: { name: 'x', size: 3 } })).statusCode).toBe(201);
  });

  it('a ticket whose manifest is still being written keeps its slot when admission rechecks', async () => {
    t = await memoryApp({ DROPSHIP_MAX_OPEN_TICKETS: '1' });
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    let holding = true;
    t.store.beforeCall = async (op, key) => {
      if (holding && op === 'put' && key.endsWith('manifest.json')) {
        holding = false;
        await held;
      }
    };
    const first = t.call('POST', '/v1/drops', { body: { name: 'a', size: 3 } });
    await new Promise((r) => setTimeout(r, 20));
    const second = await t.call('POST', '/v1/drops', { body: { name: 'b', size: 3 } });
    release();
    expect((await first).statusCode).toBe(201);
    expect([second.statusCode, err(second).code]).toEqual([429, 'TOO_MANY_OPEN_TICKETS']);
  });

  it('resume of a single upload lists the stored object as part 1', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 3 } })).json();
    expect((await t.call('GET', `/v1/drops/${tk.id}/parts`, { owner: tk.ownerToken })).json().parts).toEqual([]);
    const put = await t.put(tk.parts[0].url, Buffer.from('abc'), tk.parts[0].headers);
    expect((await t.call('GET', `/v1/drops/${tk.id}/parts`, { owner: tk.ownerToken })).json().parts).toEqual([{ partNumber: 1, size: 3, etag: put.etag }]);
  });
});

describe('downloads and thumbnails', () => {
  async function ready(extra: Record<string, unknown> = {}) {
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'p.png', size: 3, ...extra } })).json();
    await t.put(tk.parts[0].url, Buffer.from('abc'), tk.parts[0].headers);
    await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    return tk;
  }

  it('a processing drop can already be downloaded; the URL lives DROPSHIP_DOWNLOAD_URL_TTL seconds, typed octet-stream until sniffed', async () => {
    t = await memoryApp({ DROPSHIP_DOWNLOAD_URL_TTL: '120' });
    const tk = await ready();
    const r = await t.call('GET', `/d/${tk.id}/download`);
    const url = r.headers.location as string;
    expect(ttlOf(url, t.now())).toBe(120);
    expect(new URL(url).searchParams.get('response-content-type')).toBe('application/octet-stream');
  });

  it('an expired upload answers DROP_EXPIRED (410); a cancelled (deleted) one DROP_DELETED (410)', async () => {
    t = await memoryApp();
    const late = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 3 } })).json();
    const gone = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 3 } })).json();
    await t.call('DELETE', `/v1/drops/${gone.id}`, { owner: gone.ownerToken });
    t.advance(t.config.DROPSHIP_TICKET_TTL + 1);
    const e = await t.call('GET', `/d/${late.id}/download`);
    expect([e.statusCode, err(e).code]).toEqual([410, 'DROP_EXPIRED']);
    const r = await t.call('GET', `/d/${gone.id}/download`);
    expect([r.statusCode, err(r).code]).toEqual([410, 'DROP_DELETED']);
  });

  it('a ready drop serves each listed thumbnail width as a WebP GET, and no other width', async () => {
    t = await memoryApp();
    const tk = await ready();
    await t.manifests.applyEvent(tk.id, {
      type: 'processed',
      at: t.now(),
      sniffedType: 'image/png',
      thumbnail: 'ready',
      thumbnails: [
        { width: 256, height: 128, key: dropKeys(tk.id).thumb(256) },
        { width: 1024, height: 512, key: dropKeys(tk.id).thumb(1024) },
      ],
    });
    const r = await t.call('GET', `/d/${tk.id}/thumb/1024`);
    expect(r.statusCode).toBe(302);
    const url = new URL(r.headers.location as string);
    expect(url.pathname).toBe(`/memory/${dropKeys(tk.id).thumb(1024)}`);
    expect(url.searchParams.get('response-content-type')).toBe('image/webp');
    expect((await t.call('GET', `/d/${tk.id}/thumb/512`)).statusCode).toBe(404);
  });

  it('a drop that is not ready has no thumbnails to serve', async () => {
    t = await memoryApp();
    const tk = await ready();
    expect(err(await t.call('GET', `/d/${tk.id}/thumb/256`)).code).toBe('THUMBNAIL_NOT_FOUND');
  });
});

describe('service edges', () => {
  it('a plan the client chose outside S3 rules is SIZE_INVALID or FILE_TOO_LARGE; Uppy-style creates sign nothing up front', async () => {
    t = await memoryApp();
    const base = { name: 'x', owner: 'ip:1', size: 20 * MIB };
    await expect(t.app.drops.create({ ...base, plan: { mode: 'multipart', partSize: 1 } })).rejects.toMatchObject({ code: 'SIZE_INVALID' });
    await expect(t.app.drops.create({ ...base, size: 6 * 1024 ** 3, plan: { mode: 'single' } })).rejects.toMatchObject({ code: 'FILE_TOO_LARGE' });
    const quiet = await t.app.drops.create({ ...base, signFirstBatch: false, plan: { mode: 'multipart', partSize: 5 * MIB } });
    expect(quiet.parts).toEqual([]);
    expect(quiet.manifest.upload).toMatchObject({ partSize: 5 * MIB, partCount: 4 });
  });

  it('a create that fails frees its ticket slot, and an id collision is a plain 500 INTERNAL', async () => {
    t = await memoryApp({ DROPSHIP_MAX_OPEN_TICKETS: '1' });
    const { PreconditionFailed } = await import('../../src/ports/object-store.js');
    t.store.failNext('put', new PreconditionFailed('drops/x/manifest.json'));
    const r = await t.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB } });
    expect([r.statusCode, err(r).code]).toEqual([500, 'INTERNAL']);
    expect(t.store.uploads.size).toBe(0);
    expect((await t.call('POST', '/v1/drops', { body: { name: 'x', size: 3 } })).statusCode).toBe(201);
  });

  it('complete after the drop was processed answers it as it is; after the deadline it is 410', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 3 } })).json();
    await t.put(tk.parts[0].url, Buffer.from('abc'), tk.parts[0].headers);
    await t.manifests.applyEvent(tk.id, { type: 'processed', at: t.now(), sniffedType: 'text/plain', thumbnail: 'none', thumbnails: [] });
    const r = await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    expect([r.statusCode, r.json().status]).toEqual([200, 'ready']);
    const late = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 3 } })).json();
    t.advance(t.config.DROPSHIP_TICKET_TTL + 1);
    const e = await t.call('POST', `/v1/drops/${late.id}/complete`, { owner: late.ownerToken });
    expect([e.statusCode, err(e).code]).toEqual([410, 'DROP_EXPIRED']);
  });

  it('a complete whose S3 call fails with nothing published surfaces the failure (503), and the drop stays uploading', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB } })).json();
    const data = randomBytes(20 * MIB);
    const signed = (await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [1, 2, 3, 4] }, owner: tk.ownerToken })).json().parts;
    for (const p of signed) await t.put(p.url, data.subarray((p.partNumber - 1) * tk.upload.partSize, (p.partNumber - 1) * tk.upload.partSize + p.size), p.headers);
    t.store.failNext('completeMultipart', Object.assign(new Error('InternalError'), { $metadata: { httpStatusCode: 500 } }));
    const r = await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    expect([r.statusCode, err(r).code]).toEqual([503, 'STORAGE_UNAVAILABLE']);
    expect((await t.manifests.get(tk.id))!.manifest.status).toBe('uploading');
    expect((await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken })).json().status).toBe('processing');
  });
});

describe('records: owners, races and expiry on the way', () => {
  it('the owner errors say what is missing or wrong', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 3 } })).json();
    const none = await t.call('DELETE', `/v1/drops/${tk.id}`);
    expect([none.statusCode, err(none)]).toEqual([401, { code: 'UNAUTHORIZED', message: 'this needs the X-Owner-Token header returned when the drop was created' }]);
    const wrong = await t.call('DELETE', `/v1/drops/${tk.id}`, { owner: 'A'.repeat(43) });
    expect([wrong.statusCode, err(wrong)]).toEqual([403, { code: 'OWNER_TOKEN_INVALID', message: 'the owner token does not match this drop' }]);
    expect((await t.manifests.get(tk.id))!.manifest.status).toBe('uploading');
  });

  it('signing for a drop that is no longer uploading is 409 with its status in the details', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 3 } })).json();
    await t.put(tk.parts[0].url, Buffer.from('abc'), tk.parts[0].headers);
    await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    const r = await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [1] }, owner: tk.ownerToken });
    expect([r.statusCode, err(r)]).toEqual([409, { code: 'DROP_NOT_UPLOADING', message: 'the drop is processing', details: { status: 'processing' } }]);
  });

  async function uploaded() {
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB } })).json();
    const data = randomBytes(20 * MIB);
    const signed = (await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [1, 2, 3, 4] }, owner: tk.ownerToken })).json().parts;
    for (const p of signed) await t.put(p.url, data.subarray((p.partNumber - 1) * tk.upload.partSize, (p.partNumber - 1) * tk.upload.partSize + p.size), p.headers);
    return tk;
  }

  it('a drop cancelled by another request while its complete runs: 409 naming the status it found', async () => {
    t = await memoryApp();
    const tk = await uploaded();
    t.store.beforeCall = async (op) => {
      if (op !== 'listParts') return;
      t.store.beforeCall = undefined;
      await t.manifests.applyEvent(tk.id, { type: 'cancel', at: t.now() });
    };
    const r = await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    expect([r.statusCode, err(r)]).toEqual([409, { code: 'DROP_NOT_UPLOADING', message: 'the drop is cancelled', details: { status: 'cancelled' } }]);
    expect((await t.manifests.get(tk.id))!.manifest.status).toBe('cancelled');
  });

  it('a drop deleted (its manifest gone) while its complete runs: 404 DROP_NOT_FOUND, not a 500', async () => {
    t = await memoryApp();
    const tk = await uploaded();
    t.store.beforeCall = async (op) => {
      if (op !== 'listParts') return;
      t.store.beforeCall = undefined;
      await t.store.deleteKeys([dropKeys(tk.id).manifest]);
    };
    const r = await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    expect([r.statusCode, err(r)]).toEqual([404, { code: 'DROP_NOT_FOUND', message: 'no drop with this id' }]);
  });

  it('reading an expired upload records it once and aborts its multipart upload once; later reads change nothing', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB } })).json();
    t.advance(t.config.DROPSHIP_TICKET_TTL + 1);
    const writes = () => t.store.calls.filter((c) => c.op === 'put' || c.op === 'abortMultipart').map((c) => c.op);
    const before = writes().length;
    expect((await t.call('GET', `/v1/drops/${tk.id}`)).json().status).toBe('expired');
    expect(writes().slice(before)).toEqual(['put', 'abortMultipart']);
    expect(t.store.uploads.size).toBe(0);
    const after = writes().length;
    expect((await t.call('GET', `/v1/drops/${tk.id}`)).json().status).toBe('expired');
    expect(writes().length).toBe(after);
  });

  it('an expired single-PUT drop has no multipart upload to abort: none is asked for', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 3 } })).json();
    t.advance(t.config.DROPSHIP_TICKET_TTL + 1);
    expect((await t.call('GET', `/v1/drops/${tk.id}`)).json().status).toBe('expired');
    expect(t.store.calls.filter((c) => c.op === 'abortMultipart')).toEqual([]);
    expect((await t.manifests.get(tk.id))!.manifest.status).toBe('expired');
  });

  it('an expired upload whose manifest disappears as it is recorded is answered from the copy read, not a 500', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB } })).json();
    t.advance(t.config.DROPSHIP_TICKET_TTL + 1);
    let reads = 0;
    t.store.beforeCall = async (op, key) => {
      // The sweep deletes the drop between the status read and the expire write's read.
      if (key === dropKeys(tk.id).manifest && op.startsWith('get') && ++reads === 2) await t.store.deleteKeys([key]);
    };
    const r = await t.call('GET', `/v1/drops/${tk.id}`);
    expect([r.statusCode, r.json().id]).toEqual([200, tk.id]);
    expect(reads).toBe(2);
  });
});

describe('drop service: what each route may still do', () => {
  async function ready(extra: Record<string, unknown> = {}) {
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'p.png', size: 3, ...extra } })).json();
    await t.put(tk.parts[0].url, Buffer.from('abc'), tk.parts[0].headers);
    await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    return tk;
  }

  it('a drop past its lifetime says so on download', async () => {
    t = await memoryApp();
    const tk = await ready({ expiresIn: 3600 });
    t.advance(3601);
    const r = await t.call('GET', `/d/${tk.id}/download`);
    expect([r.statusCode, err(r)]).toEqual([410, { code: 'DROP_EXPIRED', message: 'this drop has expired' }]);
  });

  it('parts cannot be listed once the drop is no longer uploading; a multipart upload gone from S3 lists none', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB } })).json();
    const list = () => t.call('GET', `/v1/drops/${tk.id}/parts`, { owner: tk.ownerToken });
    const m = (await t.manifests.get(tk.id))!.manifest;
    await t.store.abortMultipart(dropKeys(tk.id).original, m.upload.uploadId!);
    expect([(await list()).statusCode, (await list()).json().parts]).toEqual([200, []]);
    await t.call('DELETE', `/v1/drops/${tk.id}`, { owner: tk.ownerToken });
    const r = await list();
    expect([r.statusCode, err(r)]).toMatchObject([409, { code: 'DROP_NOT_UPLOADING', details: { status: 'cancelled' } }]);
  });

  it('cancelling a single-PUT drop asks S3 for no multipart abort (it has no upload id to give)', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 3 } })).json();
    const before = t.store.calls.length;
    expect((await t.call('DELETE', `/v1/drops/${tk.id}`, { owner: tk.ownerToken })).statusCode).toBe(200);
    expect(t.store.calls.slice(before).filter((c) => c.op === 'abortMultipart')).toEqual([]);
  });

  it('a cancelled drop serves none of the thumbnails it had', async () => {
    t = await memoryApp();
    const tk = await ready();
    await t.manifests.applyEvent(tk.id, {
      type: 'processed',
      at: t.now(),
      sniffedType: 'image/png',
      thumbnail: 'ready',
      thumbnails: [{ width: 256, height: 128, key: dropKeys(tk.id).thumb(256) }],
    });
    expect((await t.call('GET', `/d/${tk.id}/thumb/256`)).statusCode).toBe(302);
    await t.call('DELETE', `/v1/drops/${tk.id}`, { owner: tk.ownerToken });
    const r = await t.call('GET', `/d/${tk.id}/thumb/256`);
    expect([r.statusCode, err(r).code]).toEqual([410, 'DROP_DELETED']);
  });

  /** Runs `change` when the download is counted: between the download's read and its counting write. */
  function duringCount(id: string, change: () => Promise<void>) {
    let reads = 0;
    t.store.beforeCall = async (op, key) => {
      if (key !== dropKeys(id).manifest || !op.startsWith('get') || ++reads !== 2) return;
      t.store.beforeCall = undefined;
      await change();
    };
  }

  it('a limited drop cancelled as its download is counted: 410 DROP_DELETED, not a used-up limit', async () => {
    t = await memoryApp();
    const tk = await ready({ maxDownloads: 2 });
    duringCount(tk.id, async () => void (await t.manifests.applyEvent(tk.id, { type: 'cancel', at: t.now() })));
    const r = await t.call('GET', `/d/${tk.id}/download`);
    expect([r.statusCode, err(r)]).toEqual([410, { code: 'DROP_DELETED', message: 'this drop was deleted by its owner' }]);
  });

  it('a limited drop deleted as its download is counted: 404 DROP_NOT_FOUND', async () => {
    t = await memoryApp();
    const tk = await ready({ maxDownloads: 2 });
    duringCount(tk.id, () => t.store.deleteKeys([dropKeys(tk.id).manifest]).then(() => {}));
    const r = await t.call('GET', `/d/${tk.id}/download`);
    expect([r.statusCode, err(r)]).toEqual([404, { code: 'DROP_NOT_FOUND', message: 'no drop with this id' }]);
  });
});

describe('part numbers and a failing complete', () => {
  it('checkPartNumbers: numbers below 1 or past the plan are listed (at most 20), repeats and oversized batches refused, each saying why', async () => {
    const { checkPartNumbers } = await import('../../src/api/services/signing.js');
    const m = { upload: { partCount: 3 } } as never;
    const refusal = (nums: number[], perBatch = 100) => {
      try {
        checkPartNumbers(m, nums, perBatch);
      } catch (e) {
        return e as { code: string; message: string; details?: unknown };
      }
      return undefined;
    };
    expect(refusal([0, 1, -2])).toMatchObject({ code: 'PART_NUMBER_INVALID', message: 'part numbers must be 1..3', details: { invalid: [0, -2] } });
    const many = Array.from({ length: 25 }, (_, i) => 10 + i);
    expect((refusal(many)?.details as { invalid: number[] }).invalid).toEqual(many.slice(0, 20));
    expect(refusal([1, 2, 1])).toMatchObject({ code: 'PART_NUMBER_INVALID', message: 'part numbers must not repeat' });
    expect(refusal([1, 2, 3], 2)).toMatchObject({ code: 'PART_NUMBER_INVALID', message: 'at most 2 parts per request' });
    expect(refusal([1, 2, 3], 3)).toBeUndefined();
  });

  it('a complete whose S3 call fails while an object of another size sits at the key surfaces the failure', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x', size: 20 * MIB } })).json();
    const data = randomBytes(20 * MIB);
    const signed = (await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [1, 2, 3, 4] }, owner: tk.ownerToken })).json().parts;
    for (const p of signed) await t.put(p.url, data.subarray((p.partNumber - 1) * tk.upload.partSize, (p.partNumber - 1) * tk.upload.partSize + p.size), p.headers);
    await t.store.put(dropKeys(tk.id).original, Buffer.alloc(5), { contentType: 'x' });
    t.store.failNext('completeMultipart', Object.assign(new Error('InternalError'), { $metadata: { httpStatusCode: 500 } }));
    const r = await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    expect([r.statusCode, err(r).code]).toEqual([503, 'STORAGE_UNAVAILABLE']);
    expect((await t.manifests.get(tk.id))!.manifest.status).toBe('uploading');
  });
});

describe('creating a drop: the plan and what a failure leaves', () => {
  it('DROPSHIP_SINGLE_PUT_MAX decides between one PUT and multipart', async () => {
    t = await memoryApp({ DROPSHIP_SINGLE_PUT_MAX: String(MIB) });
    const at = (size: number) => t.call('POST', '/v1/drops', { body: { name: 'x', size } }).then((r) => r.json().upload.mode);
    expect([await at(MIB), await at(MIB + 1)]).toEqual(['single', 'multipart']);
  });

  it('a full house says so: 503 UPLOAD_SLOTS_FULL with a message', async () => {
    t = await memoryApp({ DROPSHIP_UPLOAD_SLOTS: '1' });
    await t.call('POST', '/v1/drops', { body: { name: 'x', size: 1 } });
    expect(err(await t.call('POST', '/v1/drops', { body: { name: 'x', size: 1 } }))).toMatchObject({
      code: 'UPLOAD_SLOTS_FULL',
      message: 'the server is at its upload capacity; retry shortly',
    });
  });

  it('a multipart upload is stored as application/octet-stream, whatever type was declared', async () => {
    t = await memoryApp();
    const tk = (await t.call('POST', '/v1/drops', { body: { name: 'x.png', size: 20 * MIB, type: 'image/png' } })).json();
    const m = (await t.manifests.get(tk.id))!.manifest;
    expect(t.store.uploads.get(m.upload.uploadId!)?.contentType).toBe('application/octet-stream');
  });

  it('a single-PUT ticket that fails to be written asks S3 for no multipart abort', async () => {
    t = await memoryApp();
    t.store.failNext('put', Object.assign(new Error('InternalError'), { $metadata: { httpStatusCode: 500 } }), 2);
    expect((await t.call('POST', '/v1/drops', { body: { name: 'x', size: 3 } })).statusCode).toBe(503);
    expect(t.store.calls.filter((c) => c.op === 'abortMultipart')).toEqual([]);
  });

  it('an id collision leaves the drop that holds the id untouched', async () => {
    t = await memoryApp();
    const other = (await t.call('POST', '/v1/drops', { body: { name: 'other', size: 3 } })).json();
    const theirs = t.store.objects.get(dropKeys(other.id).manifest)!;
    let taken: string | undefined;
    t.store.beforeCall = async (op, key) => {
      if (op !== 'put' || !key.endsWith('/manifest.json') || key === dropKeys(other.id).manifest) return;
      t.store.beforeCall = undefined;
      // Another drop got this id first.
      taken = key;
      const id = key.split('/')[1]!;
      const m = { ...JSON.parse(theirs.body.toString()), id };
      await t.store.put(key, Buffer.from(JSON.stringify(m)), { contentType: 'application/json' });
    };
    const r = await t.call('POST', '/v1/drops', { body: { name: 'x', size: 3 } });
    expect([r.statusCode, err(r).code]).toEqual([500, 'INTERNAL']);
    expect(JSON.parse(t.store.objects.get(taken!)!.body.toString()).status).toBe('uploading');
  });
});

describe('signing cache', () => {
  it('keeps at most 10,000 drops and forgets the oldest first', async () => {
    const { createSigningCache } = await import('../../src/api/services/signing.js');
    const loads: string[] = [];
    const cache = createSigningCache(async (id) => (loads.push(id), { manifest: { id } as never, etag: '"e"' }), () => new Date(0));
    for (let i = 0; i < 10_000; i++) await cache.get(`d${i}`);
    await cache.get('d0');
    expect(loads).toHaveLength(10_000);
    await cache.get('d10000'); // the 10,001st: d0, the oldest, goes
    await cache.get('d1');
    expect(loads.slice(-1)).toEqual(['d10000']);
    await cache.get('d0');
    expect(loads.slice(-1)).toEqual(['d0']);
  });
});
