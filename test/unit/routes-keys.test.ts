/**
 * Per-key policies on every upload route, through `inject` on the in-memory adapters: a key
 * limited to image/* and 1 MiB is refused a 2 MiB ticket and a declared PDF on POST /v1/drops,
 * both Uppy routes and the streaming route; expiry bounds per key; the worker fails a drop
 * whose bytes are of a type the key may not upload and deletes them.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keySha256 } from '../../src/config.js';
import { dropKeys } from '../../src/core/layout.js';
import { keyIndexPrefix } from '../../src/core/key-index.js';
import { createManifestRepo } from '../../src/ports/manifests.js';
import { createMessageHandler } from '../../src/worker/handler.js';
import { pngImage } from '../support/images.js';
import { memoryApp, type MemoryApp } from '../support/memory-app.js';

const MIB = 1024 * 1024;
const DAY = 86_400;
const IMAGES = 'images-key-0123456789abcdef';
const OPEN = 'open-key-0123456789abcdef';
const keysFile = {
  keys: [
    { id: 'images', key: IMAGES, maxFileSize: MIB, allowedTypes: ['image/*'], defaultExpiresIn: DAY, maxExpiresIn: 2 * DAY },
    { id: 'open', keySha256: keySha256(OPEN) },
  ],
};
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
const code = (r: { json(): { error?: { code?: string } } }) => r.json().error?.code;
// A PDF as file-type recognises it.
const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');

let t: MemoryApp;
beforeEach(async () => {
  t = await memoryApp({ DROPSHIP_PUBLIC_UPLOADS: 'false', DROPSHIP_API_KEYS: 'legacy-key' }, { keysFile });
});
afterEach(() => t.close());

const noDropWritten = () => expect([...t.store.objects.keys()].filter((k) => k.startsWith('drops/'))).toEqual([]);

describe('a key limited to image/* and 1 MiB', () => {
  it('POST /v1/drops: 413 for 2 MiB, 415 for a declared PDF or no type; nothing is created', async () => {
    const big = await t.call('POST', '/v1/drops', { body: { name: 'a.png', size: 2 * MIB, type: 'image/png' }, headers: bearer(IMAGES) });
    expect([big.statusCode, code(big)]).toEqual([413, 'FILE_TOO_LARGE']);
    expect(big.json().error.details).toEqual({ maxSize: MIB });
    const pdf = await t.call('POST', '/v1/drops', { body: { name: 'a.pdf', size: 100, type: 'application/pdf' }, headers: bearer(IMAGES) });
    expect([pdf.statusCode, code(pdf)]).toEqual([415, 'TYPE_NOT_ALLOWED']);
    expect(pdf.json().error.details).toEqual({ allowedTypes: ['image/*'], type: 'application/pdf' });
    const none = await t.call('POST', '/v1/drops', { body: { name: 'a', size: 100 }, headers: bearer(IMAGES) });
    expect([none.statusCode, code(none)]).toEqual([415, 'TYPE_NOT_ALLOWED']);
    noDropWritten();
    expect(t.store.uploads.size).toBe(0);
    const ok = await t.call('POST', '/v1/drops', { body: { name: 'a.png', size: MIB, type: 'image/png' }, headers: bearer(IMAGES) });
    expect(ok.statusCode, ok.body).toBe(201);
  });

  it('POST /s3/multipart (Uppy): 413 for 2 MiB, 415 for a PDF', async () => {
    const big = await t.call('POST', '/s3/multipart', {
      body: { filename: 'a.png', type: 'image/png', metadata: { size: 2 * MIB } },
      headers: bearer(IMAGES),
    });
    expect([big.statusCode, code(big)]).toEqual([413, 'FILE_TOO_LARGE']);
    const pdf = await t.call('POST', '/s3/multipart', {
      body: { filename: 'a.pdf', type: 'application/pdf', metadata: { size: 1000 } },
      headers: bearer(IMAGES),
    });
    expect([pdf.statusCode, code(pdf)]).toEqual([415, 'TYPE_NOT_ALLOWED']);
    noDropWritten();
    expect(t.store.uploads.size).toBe(0);
  });

  it('GET /s3/params (Uppy): 413 for 2 MiB, 415 for a PDF', async () => {
    const big = await t.call('GET', `/s3/params?filename=a.png&type=image/png&metadata[size]=${2 * MIB}`, { headers: bearer(IMAGES) });
    expect([big.statusCode, code(big)]).toEqual([413, 'FILE_TOO_LARGE']);
    const pdf = await t.call('GET', '/s3/params?filename=a.pdf&type=application/pdf&metadata[size]=10', { headers: bearer(IMAGES) });
    expect([pdf.statusCode, code(pdf)]).toEqual([415, 'TYPE_NOT_ALLOWED']);
    noDropWritten();
    const ok = await t.call('GET', '/s3/params?filename=a.png&type=image/png&metadata[size]=10', { headers: bearer(IMAGES) });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('PUT /v1/stream/:name and PUT /:name: 413 for a 2 MiB body, 415 for a PDF or no Content-Type, before reading', async () => {
    const put = (url: string, body: Buffer, type?: string) =>
      t.app.inject({ method: 'PUT', url, payload: body, headers: { ...bearer(IMAGES), ...(type ? { 'content-type': type } : {}) } });
    const big = await put('/v1/stream/a.png', Buffer.alloc(2 * MIB), 'image/png');
    expect([big.statusCode, code(big)]).toEqual([413, 'FILE_TOO_LARGE']);
    const pdf = await put('/a.pdf', PDF, 'application/pdf');
    expect([pdf.statusCode, code(pdf)]).toEqual([415, 'TYPE_NOT_ALLOWED']);
    const none = await put('/a.png', Buffer.alloc(10));
    expect([none.statusCode, code(none)]).toEqual([415, 'TYPE_NOT_ALLOWED']);
    noDropWritten();
    const ok = await put('/a.png', await pngImage(), 'image/png');
    expect(ok.statusCode, ok.body).toBe(201);
    const m = (await t.manifests.get(String(ok.headers['x-drop-id'])))!.manifest;
    expect(m).toMatchObject({ keyId: 'images', allowedTypes: ['image/*'], type: 'image/png', source: 'stream' });
    // The key's default lifetime, not the server's.
    expect(Date.parse(m.expiresAt!) - Date.parse(m.createdAt)).toBe(DAY * 1000);
  });

  it('cuts a chunked stream at the key\'s limit and rolls it back', async () => {
    const { Readable } = await import('node:stream');
    const body = Readable.from([Buffer.alloc(MIB), Buffer.alloc(MIB)]);
    const r = await t.app.inject({ method: 'PUT', url: '/a.png', payload: body, headers: { ...bearer(IMAGES), 'content-type': 'image/png' } });
    expect([r.statusCode, code(r)]).toEqual([413, 'FILE_TOO_LARGE']);
    expect([...t.store.objects.keys()].filter((k) => k.endsWith('/original') || k.startsWith(keyIndexPrefix('images')))).toEqual([]);
  });

  it('lifetimes: the key\'s default, at most its maximum', async () => {
    const r = await t.call('POST', '/v1/drops', { body: { name: 'a.png', size: 10, type: 'image/png' }, headers: bearer(IMAGES) });
    const tk = r.json();
    const m = (await t.manifests.get(tk.id))!.manifest;
    expect(Date.parse(m.expiresAt!) - Date.parse(m.createdAt)).toBe(DAY * 1000);
    const long = await t.call('POST', '/v1/drops', {
      body: { name: 'a.png', size: 10, type: 'image/png', expiresIn: 2 * DAY + 1 },
      headers: bearer(IMAGES),
    });
    expect([long.statusCode, code(long)]).toEqual([400, 'VALIDATION_FAILED']);
    expect(long.json().error.details).toMatchObject({ field: 'body/expiresIn', max: 2 * DAY });
    // Another key keeps the server's bounds.
    const other = await t.call('POST', '/v1/drops', { body: { name: 'a.pdf', size: 10, type: 'application/pdf', expiresIn: 20 * DAY }, headers: bearer(OPEN) });
    expect(other.statusCode, other.body).toBe(201);
  });
});

describe('the manifest records the key', () => {
  it('its id (keys file) and allowed types; a DROPSHIP_API_KEYS key gets an id from its hash', async () => {
    const a = await t.call('POST', '/v1/drops', { body: { name: 'a.png', size: 10, type: 'image/png' }, headers: bearer(IMAGES) });
    expect((await t.manifests.get(a.json().id))!.manifest).toMatchObject({ keyId: 'images', allowedTypes: ['image/*'] });
    const b = await t.call('POST', '/v1/drops', { body: { name: 'b', size: 10 }, headers: bearer(OPEN) });
    const mb = (await t.manifests.get(b.json().id))!.manifest;
    expect(mb.keyId).toBe('open');
    expect(mb.allowedTypes).toBeUndefined();
    const c = await t.call('POST', '/v1/drops', { body: { name: 'c', size: 10 }, headers: bearer('legacy-key') });
    expect((await t.manifests.get(c.json().id))!.manifest.keyId).toBe(`key-${keySha256('legacy-key').slice(0, 16)}`);
    const bad = await t.call('POST', '/v1/drops', { body: { name: 'c', size: 10 }, headers: bearer('not-a-key') });
    expect([bad.statusCode, code(bad)]).toEqual([401, 'UNAUTHORIZED']);
  });
});

describe('the worker checks the sniffed type against the key\'s', () => {
  const handler = () =>
    createMessageHandler({
      store: t.store,
      manifests: createManifestRepo(t.store),
      config: { thumbWidths: [256], DROPSHIP_MAX_PIXELS: 100_000_000, DROPSHIP_MAX_IMAGE_BYTES: 64 * 1024 ** 2 },
      log: pino({ level: 'silent' }),
      clock: t.now,
    });
  const created = (key: string) => JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key, size: 1, eTag: 'x' } } }] });

  async function upload(bytes: Buffer) {
    const r = await t.call('POST', '/v1/drops', { body: { name: 'a.png', size: bytes.length, type: 'image/png' }, headers: bearer(IMAGES) });
    const tk = r.json();
    expect((await t.put(tk.parts[0].url, bytes, tk.parts[0].headers)).status).toBe(200);
    return { tk, outcome: await handler()(created(dropKeys(tk.id).original)) };
  }

  it('a PNG-declared upload whose bytes are a PDF ends failed with a reason; its object is deleted', async () => {
    const { tk, outcome } = await upload(PDF);
    expect(outcome).toMatchObject({ outcome: 'done', reason: expect.stringMatching(/^failed: type not allowed: the bytes are application\/pdf/) });
    const view = (await t.call('GET', `/v1/drops/${tk.id}`)).json();
    expect(view).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/type not allowed.*application\/pdf.*image\/\*/) });
    expect(t.store.objects.has(dropKeys(tk.id).original)).toBe(false);
    // A redelivered event finds a failed drop and nothing to remove.
    expect((await handler()(created(dropKeys(tk.id).original))).outcome).toBe('skipped');
  });

  it('real PNG bytes make a ready drop', async () => {
    const { tk, outcome } = await upload(await pngImage());
    expect(outcome.outcome).toBe('done');
    expect((await t.call('GET', `/v1/drops/${tk.id}`)).json().status).toBe('ready');
  });
});
