/**
 * Retention through `inject` on the in-memory adapters, with the app's movable clock: a drop
 * lives `expiresIn` seconds (bounded by the server), then every route answers as for an
 * expired drop, no URL outlives it, and the sweep deletes its objects through the expiry index.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { dropKeys } from '../../src/core/layout.js';
import { createManifestRepo } from '../../src/ports/manifests.js';
import { createSweep } from '../../src/worker/sweeper.js';
import { createMessageHandler } from '../../src/worker/handler.js';
import { createLambdaHandler } from '../../src/worker/lambda.js';
import { memoryApp, T0, type MemoryApp } from '../support/memory-app.js';
import { solid } from '../support/images.js';

const DAY = 86_400;
const iso = (seconds: number) => new Date(T0.getTime() + seconds * 1000).toISOString();
const code = (r: { json(): { error?: { code: string } } }) => r.json().error?.code;

let t: MemoryApp;
afterEach(() => t.close());

interface Ticket {
  id: string;
  ownerToken: string;
  expiresAt?: string;
  upload: { expiresAt: string };
  parts: { url: string; headers?: Record<string, string> }[];
}

async function ticket(body: Record<string, unknown>): Promise<Ticket> {
  const r = await t.call('POST', '/v1/drops', { body });
  expect(r.statusCode, r.body).toBe(201);
  return r.json<Ticket>();
}

const log = pino({ level: 'silent' });
const handler = () =>
  createMessageHandler({
    store: t.store,
    manifests: createManifestRepo(t.store),
    config: { thumbWidths: [256], DROPSHIP_MAX_PIXELS: 100_000_000, DROPSHIP_MAX_IMAGE_BYTES: 64 * 1024 ** 2 },
    log,
    clock: t.now,
  });
const created = (key: string) => JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key, size: 1, eTag: 'x' } } }] });

/** A drop uploaded, completed and processed by the worker (a PNG, so it has a thumbnail). */
async function readyDrop(body: Record<string, unknown> = {}): Promise<Ticket> {
  const png = await solid(300, 200, '#2a9d8f').png().toBuffer();
  const tk = await ticket({ name: 'p.png', size: png.length, ...body });
  expect((await t.put(tk.parts[0]!.url, png, tk.parts[0]!.headers)).status).toBe(200);
  await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
  expect((await handler()(created(dropKeys(tk.id).original))).outcome).toBe('done');
  expect((await t.call('GET', `/v1/drops/${tk.id}`)).json().status).toBe('ready');
  return tk;
}

describe('expiresIn is the drop lifetime', () => {
  it('defaults to DROPSHIP_DEFAULT_EXPIRES_IN; the upload deadline is the ticket TTL, never past the expiry', async () => {
    t = await memoryApp();
    const tk = await ticket({ name: 'a.txt', size: 3 });
    expect(tk.expiresAt).toBe(iso(7 * DAY));
    expect(tk.upload.expiresAt).toBe(iso(DAY));
    expect((await t.call('GET', `/v1/drops/${tk.id}`)).json().expiresAt).toBe(iso(7 * DAY));

    const week = await ticket({ name: 'a.txt', size: 3, expiresIn: 7 * DAY });
    expect([week.expiresAt, week.upload.expiresAt]).toEqual([iso(7 * DAY), iso(DAY)]);
    const minute = await ticket({ name: 'a.txt', size: 3, expiresIn: 60 });
    expect([minute.expiresAt, minute.upload.expiresAt]).toEqual([iso(60), iso(60)]);
    const month = await ticket({ name: 'a.txt', size: 3, expiresIn: 30 * DAY });
    expect(month.expiresAt).toBe(iso(30 * DAY));
  });

  it('more than DROPSHIP_MAX_EXPIRES_IN, less than 60 s, or "never" where not allowed: 400', async () => {
    t = await memoryApp();
    for (const expiresIn of [30 * DAY + 1, 59, 0]) {
      const r = await t.call('POST', '/v1/drops', { body: { name: 'a', size: 1, expiresIn } });
      expect([r.statusCode, code(r)], String(expiresIn)).toEqual([400, 'VALIDATION_FAILED']);
      expect(r.json().error.details).toMatchObject({ field: 'body/expiresIn', max: 30 * DAY });
    }
    expect([...t.store.objects.keys()]).toEqual([]);
  });

  it('the streaming route and Uppy give their drops the default lifetime and an index marker', async () => {
    t = await memoryApp({ DROPSHIP_DEFAULT_EXPIRES_IN: '3600' });
    const put = await t.app.inject({ method: 'PUT', url: '/v1/stream/a.txt', payload: Buffer.from('abc'), headers: { 'content-type': 'application/octet-stream' } });
    expect(put.statusCode, put.body).toBe(201);
    const streamed = put.headers['x-drop-id'] as string;
    const uppy = await t.call('POST', '/s3/multipart', { body: { filename: 'b.bin', type: 'application/octet-stream', metadata: { size: 20 * 1024 * 1024 } } });
    expect(uppy.statusCode, uppy.body).toBe(200);
    for (const id of [streamed, uppy.json().id as string]) {
      expect((await t.call('GET', `/v1/drops/${id}`)).json().expiresAt, id).toBe(iso(3600));
      expect(t.store.objects.has(`index/expiry/${iso(3600).slice(0, 16).replace(/[-T:]/g, '')}/${id}`), id).toBe(true);
    }
  });

  it('DROPSHIP_MAX_EXPIRES_IN=0 permits any lifetime, and expiresIn 0 a drop that never expires', async () => {
    t = await memoryApp({ DROPSHIP_MAX_EXPIRES_IN: '0' });
    const never = await ticket({ name: 'a.txt', size: 3, expiresIn: 0 });
    expect(never.expiresAt).toBeUndefined();
    expect(never.upload.expiresAt).toBe(iso(DAY));
    const long = await ticket({ name: 'a.txt', size: 3, expiresIn: 400 * DAY });
    expect(long.expiresAt).toBe(iso(400 * DAY));
    // No marker for a drop that never expires.
    expect([...t.store.objects.keys()].filter((k) => k.startsWith('index/') && k.endsWith(never.id))).toEqual([]);
  });

  it('a manifest from before drop lifetimes stays readable: no expiry in its view, never expires', async () => {
    t = await memoryApp();
    const tk = await readyDrop();
    await t.manifests.rewrite(tk.id, (m) => {
      const { expiresAt: _drop, ...upload } = m.upload;
      return { ...m, expiresAt: iso(DAY), upload };
    });
    t.advance(60 * DAY);
    const v = (await t.call('GET', `/v1/drops/${tk.id}`)).json();
    expect(v.status).toBe('ready');
    expect(v.expiresAt).toBeUndefined();
    expect((await t.call('GET', `/d/${tk.id}/download`)).statusCode).toBe(302);
  });
});

describe('after expiresAt', () => {
  it('a ready drop is expired: status, download, thumbnail, share page; no URL issued before outlives it', async () => {
    t = await memoryApp();
    const tk = await readyDrop({ expiresIn: 120 });
    t.advance(100);
    const dl = await t.call('GET', `/d/${tk.id}/download`);
    expect(dl.statusCode).toBe(302);
    const thumb = await t.call('GET', `/d/${tk.id}/thumb/256`);
    expect(thumb.statusCode).toBe(302);
    // DROPSHIP_DOWNLOAD_URL_TTL is 300 s, but the drop has 20 s left.
    const url = dl.headers.location as string;
    expect((await t.signer.present('GET', url, undefined, new Date(T0.getTime() + 119_000))).status).toBe(200);
    expect((await t.signer.present('GET', url, undefined, new Date(T0.getTime() + 120_000))).status).toBe(403);
    expect((await t.signer.present('GET', thumb.headers.location as string, undefined, new Date(T0.getTime() + 120_000))).status).toBe(403);

    t.advance(20); // exactly at expiresAt
    const view = await t.call('GET', `/v1/drops/${tk.id}`);
    expect([view.statusCode, view.json().status, view.json().expiresAt]).toEqual([200, 'expired', iso(120)]);
    for (const path of [`/d/${tk.id}/download`, `/d/${tk.id}/thumb/256`]) {
      const r = await t.call('GET', path);
      expect([r.statusCode, code(r)], path).toEqual([410, 'DROP_EXPIRED']);
    }
    const complete = await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    expect([complete.statusCode, code(complete)]).toEqual([410, 'DROP_EXPIRED']);
    const page = await t.call('GET', `/d/${tk.id}`);
    expect(page.body).toContain('This drop has expired');
    expect(page.body).not.toContain(`/d/${tk.id}/download"`);
    expect((await t.manifests.get(tk.id))!.manifest.status).toBe('expired');
  });

  it('an upload is expired at the drop expiry even before its ticket TTL: parts and complete are 410', async () => {
    t = await memoryApp();
    const tk = await ticket({ name: 'b.bin', size: 20 * 1024 * 1024, expiresIn: 60 });
    t.advance(60);
    const parts = await t.call('POST', `/v1/drops/${tk.id}/parts`, { body: { partNumbers: [1] }, owner: tk.ownerToken });
    expect([parts.statusCode, code(parts)]).toEqual([410, 'DROP_EXPIRED']);
    expect(t.store.uploads.size).toBe(0);
  });
});

describe('the sweep deletes expired drops through the expiry index', () => {
  const sweep = () => createSweep({ store: t.store, manifests: createManifestRepo(t.store), clock: t.now, log });
  const keysOf = (id: string) => [...t.store.objects.keys()].filter((k) => k.includes(id));

  it('creation writes a marker in the bucket of its expiry; every object of the drop carries its retention class', async () => {
    t = await memoryApp();
    const tk = await readyDrop({ expiresIn: 3 * DAY });
    const marker = `index/expiry/${iso(3 * DAY).slice(0, 16).replace(/[-T:]/g, '')}/${tk.id}`;
    expect(keysOf(tk.id).sort()).toEqual([...Object.values({ m: dropKeys(tk.id).manifest, o: dropKeys(tk.id).original, t: dropKeys(tk.id).thumb(256) }), marker].sort());
    for (const key of keysOf(tk.id)) expect(t.store.objects.get(key)!.tags, key).toEqual({ 'dropship-retention': 'd3' });
  });

  it('deletes the file, thumbnails, manifest and marker once due; leaves drops not due; lists only due buckets', async () => {
    t = await memoryApp();
    const due = await readyDrop({ expiresIn: 120 });
    const later = await readyDrop({ expiresIn: DAY });
    const upload = await ticket({ name: 'b.bin', size: 20 * 1024 * 1024, expiresIn: 60 });
    const cancelled = await readyDrop({ expiresIn: 60 });
    await t.call('DELETE', `/v1/drops/${cancelled.id}`, { owner: cancelled.ownerToken });

    expect(await sweep()()).toEqual({ purged: 0, unindexed: 0, waiting: 0, collections: 0 });
    t.advance(180);
    t.store.calls.length = 0;
    const r = await sweep()();
    expect(r).toEqual({ purged: 3, unindexed: 0, waiting: 0, collections: 0 });
    for (const tk of [due, upload, cancelled]) expect(keysOf(tk.id), tk.id).toEqual([]);
    expect(t.store.uploads.size).toBe(0);
    expect(keysOf(later.id)).toHaveLength(4);
    // The drop not due was never read: the listing stopped before its bucket.
    expect(t.store.calls.filter((c) => c.key.includes(later.id))).toEqual([]);
    expect((await t.call('GET', `/v1/drops/${due.id}`)).statusCode).toBe(404);
  });

  it('an expired drop costs the sweep one manifest read, one listing and three deletes', async () => {
    t = await memoryApp({ DROPSHIP_PUBLIC_UPLOADS: 'false', DROPSHIP_API_KEYS: 'k1' });
    const png = await solid(300, 200, '#2a9d8f').png().toBuffer();
    const r = await t.call('POST', '/v1/drops', { body: { name: 'p.png', size: png.length, expiresIn: 60 }, headers: { authorization: 'Bearer k1' } });
    const tk = r.json<Ticket>();
    await t.put(tk.parts[0]!.url, png, tk.parts[0]!.headers);
    await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken });
    expect((await handler()(created(dropKeys(tk.id).original))).outcome).toBe('done');
    expect(keysOf(tk.id).filter((k) => k.startsWith('index/keys/'))).toHaveLength(1);
    t.advance(120);
    // Storage calls as S3 would bill them: one per method call, whatever the number of keys.
    const calls: string[] = [];
    for (const op of ['getText', 'listKeys', 'deleteKeys', 'abortMultipart'] as const) {
      const real = t.store[op].bind(t.store) as (...a: unknown[]) => Promise<unknown>;
      (t.store as unknown as Record<string, unknown>)[op] = (...a: unknown[]) => {
        if (String(a[0]).includes(tk.id) || (op === 'deleteKeys' && (a[0] as string[]).some((k) => k.includes(tk.id)))) calls.push(op);
        return real(...a);
      };
    }
    expect((await sweep()()).purged).toBe(1);
    expect(keysOf(tk.id)).toEqual([]);
    expect(calls.sort()).toEqual(['deleteKeys', 'deleteKeys', 'deleteKeys', 'getText', 'listKeys']);
  });

  it('several workers sweeping at once delete each drop once and fail nowhere', async () => {
    t = await memoryApp();
    const drops = await Promise.all(Array.from({ length: 5 }, () => readyDrop({ expiresIn: 60 })));
    t.advance(120);
    const results = await Promise.all([sweep()(), sweep()(), sweep()()]);
    expect(results.reduce((n, r) => n + r.purged, 0)).toBeGreaterThanOrEqual(5);
    for (const tk of drops) expect(keysOf(tk.id)).toEqual([]);
    expect([...t.store.objects.keys()].filter((k) => k.startsWith('index/'))).toEqual([]);
  });

  it('a sweep that fails half-way leaves the marker, and the next one finishes', async () => {
    t = await memoryApp();
    const tk = await readyDrop({ expiresIn: 60 });
    t.advance(120);
    t.store.failNext('delete', new Error('S3 is down'), 1);
    expect((await sweep()()).purged).toBe(0);
    expect(keysOf(tk.id).some((k) => k.startsWith('index/'))).toBe(true);
    expect((await sweep()()).purged).toBe(1);
    expect(keysOf(tk.id)).toEqual([]);
  });

  it('the Lambda entry sweeps when a schedule invokes it', async () => {
    t = await memoryApp();
    const tk = await readyDrop({ expiresIn: 60 });
    t.advance(120);
    const lambda = createLambdaHandler({ handle: handler(), log, concurrency: 1, sweep: sweep() });
    expect(await lambda({ source: 'aws.events', 'detail-type': 'Scheduled Event' })).toEqual({ purged: 1, unindexed: 0, waiting: 0, collections: 0 });
    expect(keysOf(tk.id)).toEqual([]);
  });

  it('the worker removes what it wrote for a drop deleted while it worked, and never processes an expired drop', async () => {
    t = await memoryApp();
    const png = await solid(300, 200, '#2a9d8f').png().toBuffer();
    const tk = await ticket({ name: 'p.png', size: png.length, expiresIn: 60 });
    await t.put(tk.parts[0]!.url, png, tk.parts[0]!.headers);
    t.advance(60);
    const out = await handler()(created(dropKeys(tk.id).original));
    expect(out.outcome, out.reason).toBe('done');
    expect(keysOf(tk.id).filter((k) => k.startsWith('drops/'))).toEqual([dropKeys(tk.id).manifest]);
  });
});
