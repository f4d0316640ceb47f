/**
 * The message handler's decisions, run against an in-memory object store (the real
 * ManifestRepo on top, so conditional writes behave as on S3). What the emulator cannot
 * produce on demand — a 503 from S3, a cancel landing mid-job — is tested here; everything
 * else is also covered end to end in test/integration/worker*.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createManifestRepo, type ManifestRepo } from '../../src/ports/manifests.js';
import { dropKeys } from '../../src/core/layout.js';
import { apply, newManifest, type DropStatus } from '../../src/core/manifest.js';
import { createMessageHandler, type MessageHandler } from '../../src/worker/handler.js';
import { memoryStore, s3Error, type MemoryStore } from '../support/memory-store.js';
import { orientedJpeg, solid } from '../support/images.js';
import { renderSvg } from '../../src/worker/svg-raster.js';
import { externalSvgs, hugeSvg, plainSvg, scriptedSvg } from '../support/svgs.js';

const ID = 'V1StGXR8_Z5jdHi6B-myT';
const keys = dropKeys(ID);
const T0 = new Date('2030-01-01T00:00:00.000Z');

const event = (key = keys.original, size = 1) =>
  JSON.stringify({
    Records: [
      {
        eventName: 'ObjectCreated:Put',
        s3: { object: { key: encodeURIComponent(key).replace(/%20/g, '+'), size, eTag: 'x' } },
      },
    ],
  });

let store: MemoryStore;
let manifests: ManifestRepo;
let handle: MessageHandler;

beforeEach(() => {
  store = memoryStore();
  manifests = createManifestRepo(store);
  handle = createMessageHandler({
    store,
    manifests,
    config: { thumbWidths: [256, 1024], DROPSHIP_MAX_PIXELS: 100_000_000, DROPSHIP_MAX_IMAGE_BYTES: 64 * 1024 ** 2 },
    log: pino({ level: 'silent' }),
    clock: () => new Date(T0.getTime() + 5000),
  });
});

async function seed(bytes: Buffer | undefined, o: { size?: number; status?: DropStatus; type?: string } = {}) {
  let m = newManifest({
    id: ID,
    name: 'my photo+1 (ü).jpg',
    size: o.size ?? bytes?.length ?? 0,
    type: o.type ?? 'image/jpeg',
    ownerTokenHash: 'a'.repeat(64),
    upload: { mode: 'single', partSize: 1, partCount: 1 },
    source: 'ticket',
    now: T0,
    expiresAt: new Date(T0.getTime() + 3600_000),
  });
  if (o.status === 'processing') m = (apply(m, { type: 'complete', at: T0 }) as { manifest: typeof m }).manifest;
  if (o.status === 'cancelled') m = (apply(m, { type: 'cancel', at: T0 }) as { manifest: typeof m }).manifest;
  if (o.status === 'expired') m = (apply(m, { type: 'expire', at: T0 }) as { manifest: typeof m }).manifest;
  await manifests.create(m);
  if (bytes) await store.put(keys.original, bytes, { contentType: o.type ?? 'image/jpeg' });
  store.calls.length = 0;
}

const writes = () => store.calls.filter((c) => c.op === 'put' || c.op === 'delete');
const manifest = async () => (await manifests.get(ID))!.manifest;

describe('handler: one drop', () => {
  it('makes both thumbnails and marks an uploading drop ready with the oriented size', async () => {
    await seed(await orientedJpeg(800, 600, 6), { status: 'uploading' });
    expect(await handle(event())).toMatchObject({ outcome: 'done' });
    const m = await manifest();
    expect(m).toMatchObject({ status: 'ready', thumbnail: 'ready', sniffedType: 'image/jpeg', width: 600, height: 800 });
    expect(m.thumbnails).toEqual([
      { key: keys.thumb(256), width: 256, height: 341 },
      { key: keys.thumb(1024), width: 600, height: 800 },
    ]);
    expect(store.objects.get(keys.thumb(256))?.contentType).toBe('image/webp');
    expect(m.name).toBe('my photo+1 (ü).jpg');
  });

  it('processes a drop the api already marked processing', async () => {
    await seed(await solid(50, 40, '#fff').png().toBuffer(), { status: 'processing', type: 'image/png' });
    expect(await handle(event())).toMatchObject({ outcome: 'done' });
    expect(await manifest()).toMatchObject({ status: 'ready', width: 50, height: 40, sniffedType: 'image/png' });
  });

  it('sniffs the bytes, not the claimed type: text uploaded as image/png is text, no thumbnail', async () => {
    await seed(Buffer.from('just some notes\n'), { type: 'image/png' });
    expect(await handle(event())).toMatchObject({ outcome: 'done' });
    expect(await manifest()).toMatchObject({ status: 'ready', thumbnail: 'none', sniffedType: 'text/plain', thumbnails: [] });
    expect(writes().filter((w) => w.key !== keys.manifest)).toEqual([]);
  });

  it('refuses to decode an image over the byte limit without downloading it', async () => {
    const big = await orientedJpeg(400, 300, 1);
    handle = createMessageHandler({
      store,
      manifests,
      config: { thumbWidths: [256], DROPSHIP_MAX_PIXELS: 100_000_000, DROPSHIP_MAX_IMAGE_BYTES: big.length - 1 },
      log: pino({ level: 'silent' }),
      clock: () => T0,
    });
    await seed(big);
    expect(await handle(event())).toMatchObject({ outcome: 'done' });
    expect(await manifest()).toMatchObject({
      status: 'ready',
      thumbnail: 'failed',
      thumbnailError: expect.stringMatching(/decode limit/),
    });
    expect(store.calls.filter((c) => c.op === 'getRange')).toHaveLength(1); // the 4100-byte sniff only
  });

  it('marks a size mismatch failed and deletes the object', async () => {
    await seed(Buffer.from('short'), { size: 6 });
    expect(await handle(event())).toMatchObject({ outcome: 'done', reason: expect.stringMatching(/size mismatch/) });
    expect(await manifest()).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/announced 6 bytes, stored 5/) });
    expect(store.objects.has(keys.original)).toBe(false);
  });
});

describe('handler: SVG', () => {
  // Drawn in-process here; the worker draws in a child process (test/integration/svg.test.ts).
  const svgHandler = () =>
    createMessageHandler({
      store,
      manifests,
      config: { thumbWidths: [256, 1024], DROPSHIP_MAX_PIXELS: 100_000_000, DROPSHIP_MAX_IMAGE_BYTES: 64 * 1024 ** 2 },
      log: pino({ level: 'silent' }),
      clock: () => new Date(T0.getTime() + 5000),
      rasteriseSvg: renderSvg,
    });

  it('sniffs an SVG, with or without an XML declaration, and makes WebP thumbnails of every width', async () => {
    for (const bytes of [plainSvg(), Buffer.from(plainSvg().toString().replace(/^<\?xml[^>]*>\n/, ''))]) {
      store = memoryStore();
      manifests = createManifestRepo(store);
      await seed(bytes, { type: 'image/svg+xml' });
      expect(await svgHandler()(event())).toMatchObject({ outcome: 'done', reason: 'ready (image/svg+xml, thumbnail ready)' });
      const m = await manifest();
      expect(m).toMatchObject({ status: 'ready', sniffedType: 'image/svg+xml', thumbnail: 'ready', width: 200, height: 100 });
      expect(m.thumbnails).toEqual([
        { key: keys.thumb(256), width: 256, height: 128 },
        { key: keys.thumb(1024), width: 1024, height: 512 },
      ]);
      expect(store.objects.get(keys.thumb(1024))?.contentType).toBe('image/webp');
    }
  });

  it('an SVG that reaches outside itself is ready without a thumbnail, and says why', async () => {
    const svgs = externalSvgs({ file: 'file:///etc/passwd', path: '/etc/passwd', svgFile: 'file:///tmp/x.svg', http: 'http://127.0.0.1:9' });
    await seed(svgs['image href to a file:// URL'], { type: 'image/svg+xml' });
    expect(await svgHandler()(event())).toMatchObject({ outcome: 'done', reason: 'ready (image/svg+xml, thumbnail failed)' });
    expect(await manifest()).toMatchObject({
      status: 'ready',
      sniffedType: 'image/svg+xml',
      thumbnail: 'failed',
      thumbnails: [],
      thumbnailError: 'SVG refused: it references something outside itself (file:///etc/passwd)',
    });
    expect(store.objects.has(keys.thumb(256))).toBe(false);
    expect(store.objects.has(keys.original)).toBe(true);
  });

  it('a declared size of 100000000 px gets no thumbnail; a scripted SVG is only drawn', async () => {
    await seed(hugeSvg(), { type: 'image/svg+xml' });
    await svgHandler()(event());
    expect(await manifest()).toMatchObject({ thumbnail: 'failed', thumbnailError: expect.stringMatching(/over the 100000000-pixel limit/) });
    store = memoryStore();
    manifests = createManifestRepo(store);
    await seed(scriptedSvg(), { type: 'image/svg+xml' });
    await svgHandler()(event());
    expect(await manifest()).toMatchObject({ sniffedType: 'image/svg+xml', thumbnail: 'ready', width: 100, height: 100 });
  });

  it('an SVG over SVG_MAX_BYTES is not parsed at all', async () => {
    const big = Buffer.from(plainSvg().toString().replace('</svg>', `<!--${'x'.repeat(4 * 1024 ** 2)}--></svg>`));
    await seed(big, { type: 'image/svg+xml' });
    await svgHandler()(event(keys.original, big.length));
    expect(await manifest()).toMatchObject({ thumbnail: 'failed', thumbnailError: `SVG is ${big.length} bytes, over the ${4 * 1024 ** 2}-byte limit` });
    expect(store.calls.filter((c) => c.op === 'getRange')).toHaveLength(1); // the sniff only
  });
});

describe('handler: idempotence and statuses', () => {
  it('writes nothing for a drop that is already ready (duplicate event)', async () => {
    await seed(await solid(50, 40, '#fff').png().toBuffer());
    await handle(event());
    const before = await manifests.get(ID);
    store.calls.length = 0;
    expect(await handle(event())).toEqual({ outcome: 'skipped', reason: 'drop is already ready' });
    expect(writes()).toEqual([]);
    expect(await manifests.get(ID)).toEqual(before);
  });

  it('writes nothing for a failed drop', async () => {
    await seed(Buffer.from('x'), { size: 2 });
    await handle(event());
    store.calls.length = 0;
    expect(await handle(event())).toMatchObject({ outcome: 'skipped' });
    expect(writes()).toEqual([]);
  });

  it.each([
    ['same length, other bytes', (b: Buffer) => Buffer.alloc(b.length, 0x41)],
    ['another length', (b: Buffer) => Buffer.concat([b, Buffer.from('<script>')])],
  ])('a ready drop whose object is replaced (%s) is failed, and the new bytes and the thumbnails are deleted', async (_, other) => {
    const png = await solid(300, 200, '#fff').png().toBuffer();
    await seed(png);
    await handle(event());
    expect(await manifest()).toMatchObject({ status: 'ready', thumbnail: 'ready' });
    await store.put(keys.original, other(png), { contentType: 'text/html' });
    expect(await handle(event())).toMatchObject({ outcome: 'done', reason: expect.stringMatching(/replaced after verification/) });
    expect(await manifest()).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/replaced after verification/), thumbnails: [] });
    expect([...store.objects.keys()]).toEqual([keys.manifest]);
    // A redelivery changes nothing more.
    store.calls.length = 0;
    expect(await handle(event())).toMatchObject({ outcome: 'skipped' });
    expect(writes()).toEqual([]);
  });

  it('bytes stored under a failed drop are deleted; the drop stays failed', async () => {
    await seed(Buffer.from('x'), { size: 2 });
    await handle(event());
    await store.put(keys.original, Buffer.from('xy'), { contentType: 'text/plain' });
    expect(await handle(event())).toMatchObject({ outcome: 'done' });
    expect(store.objects.has(keys.original)).toBe(false);
    expect((await manifest()).status).toBe('failed');
  });

  it.each(['cancelled', 'expired'] as const)('deletes the bytes of a %s drop and keeps its manifest', async (status) => {
    await seed(Buffer.from('bytes'), { status });
    await store.put(keys.thumb(256), Buffer.from('old thumb'), { contentType: 'image/webp' });
    expect(await handle(event())).toMatchObject({ outcome: 'done' });
    expect([...store.objects.keys()]).toEqual([keys.manifest]);
    expect((await manifest()).status).toBe(status);
  });

  it('skips an object without a manifest and leaves it alone', async () => {
    await store.put(keys.original, Buffer.from('stray'), { contentType: 'text/plain' });
    store.calls.length = 0;
    expect(await handle(event())).toEqual({ outcome: 'skipped', reason: 'no manifest for this drop' });
    expect(writes()).toEqual([]);
  });

  it('removes what it wrote when the drop is cancelled while it works', async () => {
    await seed(await solid(300, 200, '#fff').png().toBuffer());
    let cancelled = false;
    store.beforeCall = async (op, key) => {
      if (op === 'put' && key === keys.thumb(256) && !cancelled) {
        cancelled = true;
        await manifests.applyEvent(ID, { type: 'cancel', at: T0 });
      }
    };
    expect(await handle(event())).toMatchObject({ outcome: 'done', reason: expect.stringMatching(/cancelled while processing/) });
    expect([...store.objects.keys()]).toEqual([keys.manifest]);
    expect((await manifest()).status).toBe('cancelled');
  });
});

describe('handler: messages and errors', () => {
  it('skips the S3 test event, junk and keys outside drops', async () => {
    expect(await handle(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }))).toEqual({
      outcome: 'skipped',
      reason: 's3:TestEvent',
    });
    expect(await handle('not json')).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/^invalid message/) });
    expect(await handle(event('uploads/elsewhere.jpg'))).toMatchObject({ outcome: 'skipped' });
    expect(store.calls).toEqual([]);
  });

  it.each([
    ['a 503 from S3', s3Error(503, 'ServiceUnavailable')],
    ['throttling', s3Error(503, 'SlowDown')],
    ['a network error', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ])('retries after %s, and succeeds on the next delivery', async (_what, error) => {
    await seed(await solid(50, 40, '#fff').png().toBuffer());
    store.failNext('head', error);
    expect(await handle(event())).toMatchObject({ outcome: 'retry' });
    expect((await manifest()).status).toBe('uploading');
    expect(await handle(event())).toMatchObject({ outcome: 'done' });
    expect((await manifest()).status).toBe('ready');
  });

  it('retries when the manifest is not JSON (until the queue sends it to the DLQ)', async () => {
    await store.put(keys.manifest, '{"version":1,', { contentType: 'application/json' });
    await store.put(keys.original, Buffer.from('x'), { contentType: 'text/plain' });
    expect(await handle(event())).toMatchObject({ outcome: 'retry', reason: expect.stringMatching(/SyntaxError/) });
  });
});

describe('handler: a form upload (Uppy\'s POST policy) is published once, by the worker', () => {
  const text = (s: string) => Buffer.from(s);
  async function seedForm(size: number) {
    await manifests.create(
      newManifest({
        id: ID,
        name: 'notes.txt',
        size,
        type: 'text/plain',
        ownerTokenHash: 'a'.repeat(64),
        upload: { mode: 'single', partSize: size, partCount: 1 },
        source: 'uppy',
        now: T0,
        expiresAt: new Date(T0.getTime() + 3600_000),
      }),
    );
  }
  const post = (bytes: Buffer) => store.put(keys.posted, bytes, { contentType: 'text/plain' });

  it('copies the posted object to the original and removes it; the copy\'s own event makes the drop ready', async () => {
    await seedForm(5);
    const etag = await post(text('hello'));
    expect(await handle(event(keys.posted, 5))).toMatchObject({ outcome: 'done', reason: expect.stringMatching(/published/) });
    expect(store.objects.get(keys.original)?.body.toString()).toBe('hello');
    expect(store.objects.has(keys.posted)).toBe(false);
    expect((await manifest()).upload.postedEtag).toBe(etag);
    expect((await manifest()).status).toBe('uploading');
    expect(await handle(event(keys.original, 5))).toMatchObject({ outcome: 'done' });
    expect(await manifest()).toMatchObject({ status: 'ready', sniffedType: 'text/plain', etag });
  });

  it('a replay of the POST after the drop is ready is removed and the published bytes stay', async () => {
    await seedForm(5);
    await post(text('hello'));
    await handle(event(keys.posted, 5));
    await handle(event(keys.original, 5));
    await post(text('evil!'));
    expect(await handle(event(keys.posted, 5))).toMatchObject({ outcome: 'done', reason: expect.stringMatching(/never published/) });
    expect(store.objects.get(keys.original)?.body.toString()).toBe('hello');
    expect(store.objects.has(keys.posted)).toBe(false);
    expect((await manifest()).status).toBe('ready');
  });

  it('a second form upload before the first is verified loses: the chosen ETag is recorded once', async () => {
    await seedForm(5);
    await post(text('hello'));
    await handle(event(keys.posted, 5));
    // The replay lands while the drop is still uploading (the copy's event not yet handled).
    await post(text('evil!'));
    expect(await handle(event(keys.posted, 5))).toMatchObject({ outcome: 'done', reason: expect.stringMatching(/second form upload/) });
    expect(store.objects.get(keys.original)?.body.toString()).toBe('hello');
    await handle(event(keys.original, 5));
    expect((await manifest()).status).toBe('ready');
  });

  it('bytes swapped between choosing and copying are never published: the drop fails', async () => {
    await seedForm(5);
    await post(text('hello'));
    // A replay overwrites the posted object just after the worker recorded which one it chose.
    store.beforeCall = async (op, key) => {
      if (op === 'copy' && key === keys.original) {
        store.beforeCall = undefined;
        await post(text('evil!'));
      }
    };
    expect(await handle(event(keys.posted, 5))).toMatchObject({ outcome: 'done', reason: expect.stringMatching(/failed/) });
    expect(store.objects.has(keys.original)).toBe(false);
    expect(store.objects.has(keys.posted)).toBe(false);
    expect(await manifest()).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/changed before it could be published/) });
  });

  it('a redelivered event after a crash between copy and cleanup publishes nothing new', async () => {
    await seedForm(5);
    const etag = await post(text('hello'));
    store.failNext('delete', s3Error(503, 'SlowDown'));
    expect(await handle(event(keys.posted, 5))).toMatchObject({ outcome: 'retry' });
    expect(await handle(event(keys.posted, 5))).toMatchObject({ outcome: 'done' });
    expect(store.objects.get(keys.original)?.etag).toBe(etag);
    expect(store.objects.has(keys.posted)).toBe(false);
  });

  it('an original already there that is not the chosen form upload is never published over or under: the drop fails, both go', async () => {
    await seedForm(5);
    await store.put(keys.original, text('other'), { contentType: 'text/plain' });
    await post(text('hello'));
    expect(await handle(event(keys.posted, 5))).toMatchObject({ outcome: 'done', reason: expect.stringMatching(/second upload/) });
    expect(store.objects.has(keys.original)).toBe(false);
    expect(store.objects.has(keys.posted)).toBe(false);
    expect(await manifest()).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/second upload/) });
  });

  it('storage refusing the copy with a 4xx fails the drop at once; a 5xx is retried', async () => {
    await seedForm(5);
    await post(text('hello'));
    store.failNext('copy', s3Error(503, 'SlowDown'));
    expect(await handle(event(keys.posted, 5))).toMatchObject({ outcome: 'retry' });
    store.failNext('copy', s3Error(403, 'InvalidObjectState'));
    expect(await handle(event(keys.posted, 5))).toMatchObject({ outcome: 'done', reason: expect.stringMatching(/refused.*403/) });
    expect(await manifest()).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/cannot be published/) });
    expect(store.objects.has(keys.posted)).toBe(false);
  });

  it('a form upload for a cancelled drop, or one with no manifest, is removed and never published', async () => {
    await post(text('hello'));
    expect(await handle(event(keys.posted, 5))).toMatchObject({ outcome: 'skipped' });
    expect(store.objects.has(keys.posted)).toBe(false);
    await seedForm(5);
    await manifests.applyEvent(ID, { type: 'cancel', at: T0 });
    await post(text('hello'));
    expect(await handle(event(keys.posted, 5))).toMatchObject({ outcome: 'done', reason: expect.stringMatching(/cancelled/) });
    expect(store.objects.has(keys.posted)).toBe(false);
    expect(store.objects.has(keys.original)).toBe(false);
  });
});
