/**
 * The worker against the real emulator: drops are made as the api makes them (manifest,
 * then the bytes PUT to drops/{id}/original), the bucket notification puts the real S3 event
 * on the real queue, and an in-process worker (startWorker) consumes it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import sharp from 'sharp';
import { destroyAwsClients } from '../../src/aws/clients.js';
import { createObjectStore } from '../../src/aws/store.js';
import { dropKeys } from '../../src/core/layout.js';
import type { Outcome } from '../../src/worker/handler.js';
import type { RunningWorker } from '../../src/worker/worker.js';
import { startTestWorker } from '../support/worker.js';
import { dlqUrl, eventually, queueUrl, testAws, testConfig } from '../support/env.js';
import { dropKit, emptyQueue, queueDepth, testLog } from '../support/drops.js';
import { animatedGif, orientedJpeg, pngBomb, pngImage, regionColour, truncatedJpeg, webpImage } from '../support/images.js';

// A short visibility timeout and no retry backoff: redeliveries within seconds; a 1 s long
// poll: stopping a worker between tests takes a second.
const WORKER_ENV = { DROPSHIP_WORKER_VISIBILITY_TIMEOUT: '5', DROPSHIP_WORKER_RETRY_DELAY: '0', DROPSHIP_WORKER_WAIT_TIME: '1' };
const config = testConfig(WORKER_ENV);
const aws = testAws(config);
const kit = dropKit(config, aws);
const store = createObjectStore(aws.s3, config.DROPSHIP_BUCKET);

const running: RunningWorker[] = [];
/** A worker whose handler records every message body it got and the outcome. */
function runWorker(overrides: Record<string, string> = {}) {
  const c = testConfig({ ...WORKER_ENV, ...overrides });
  const seen: { body: string; outcome: Outcome }[] = [];
  const worker = startTestWorker({
    config: c,
    queueUrl: queueUrl(),
    log: testLog(c),
    handler: (real) => async (body) => {
      const outcome = await real(body);
      seen.push({ body, outcome });
      return outcome;
    },
  });
  running.push(worker);
  const forDrop = (id: string) => seen.filter((s) => s.body.includes(id));
  return { worker, seen, forDrop };
}

beforeAll(async () => {
  await emptyQueue(aws, queueUrl());
});
afterEach(async () => {
  const t0 = Date.now(); await Promise.all(running.splice(0).map((w) => w.stop())); console.log("STOP", Date.now() - t0);
});
afterAll(() => destroyAwsClients(aws));

describe('a 12-megapixel JPEG with EXIF orientation 6', () => {
  it('is ready within 10 s with portrait WebP thumbnails at 256 and 1024', async () => {
    const jpeg = await orientedJpeg(4000, 3000, 6);
    runWorker();
    const id = await kit.announce(jpeg, { name: 'IMG_0001.JPG', type: 'image/jpeg' });
    await kit.upload(id, jpeg, 'image/jpeg');
    const uploaded = Date.now();
    const m = await kit.until(id, ['ready', 'failed'], 10_000);
    const latency = Date.now() - uploaded;
    console.info(`12 MP JPEG (${(jpeg.length / 1e6).toFixed(1)} MB): upload done → ready in ${latency} ms`);

    expect(m).toMatchObject({ status: 'ready', thumbnail: 'ready', sniffedType: 'image/jpeg', width: 3000, height: 4000 });
    expect(m.thumbnails).toEqual([
      { key: dropKeys(id).thumb(256), width: 256, height: 341 },
      { key: dropKeys(id).thumb(1024), width: 1024, height: 1365 },
    ]);
    for (const t of m.thumbnails) {
      const bytes = await kit.get(t.key);
      const meta = await sharp(bytes).metadata();
      expect(meta.format).toBe('webp');
      expect([meta.width, meta.height]).toEqual([t.width, t.height]);
      expect(meta.height).toBeGreaterThan(meta.width);
      // The red block of the source's top-left corner is shown at the top-right.
      const s = Math.floor(t.width / 20);
      expect((await regionColour(bytes, t.width - 2 * s, s, s, s)).r).toBeGreaterThan(200);
      expect((await regionColour(bytes, s, s, s, s)).r).toBeLessThan(150);
    }
  });
});

describe('what the bytes are, not what the client said', () => {
  it('PNG, WebP and animated GIF get thumbnails; a text file gets none', async () => {
    runWorker();
    const gif = await animatedGif();
    const [png, webp, first, text] = await Promise.all([
      kit.drop(await pngImage(), { name: 'a.png', type: 'image/png' }),
      kit.drop(await webpImage(), { name: 'b.webp', type: 'image/webp' }),
      kit.drop(gif, { name: 'c.gif', type: 'image/gif' }),
      // The client claims an image; the bytes are text.
      kit.drop(Buffer.from('meeting notes\n- ship the worker\n'), { name: 'notes.png', type: 'image/png' }),
    ]);
    expect(await kit.until(png, ['ready'])).toMatchObject({ thumbnail: 'ready', sniffedType: 'image/png', width: 640, height: 480 });
    expect(await kit.until(webp, ['ready'])).toMatchObject({ thumbnail: 'ready', sniffedType: 'image/webp', width: 500, height: 800 });
    const g = await kit.until(first, ['ready']);
    expect(g).toMatchObject({ thumbnail: 'ready', sniffedType: 'image/gif', width: 300, height: 200 });
    const frame = await regionColour(await kit.get(g.thumbnails[0]!.key), 5, 5, 20, 20);
    expect(frame.r).toBeGreaterThan(200); // the first frame is red, the second blue
    const t = await kit.until(text, ['ready']);
    expect(t).toMatchObject({ thumbnail: 'none', sniffedType: 'text/plain', thumbnails: [] });
    expect(await kit.exists(dropKeys(text).thumb(256))).toBe(false);
  });

  it('handles a file named "my photo+1 (ü).jpg" (the name lives only in the manifest)', async () => {
    runWorker();
    const name = 'my photo+1 (ü).jpg';
    const id = await kit.drop(await orientedJpeg(640, 480, 1), { name, type: 'image/jpeg' });
    const m = await kit.until(id, ['ready']);
    expect(m).toMatchObject({ name, thumbnail: 'ready' });
  });
});

describe('the same event twice', () => {
  it('makes one set of thumbnails and leaves the manifest untouched the second time', async () => {
    const { forDrop } = runWorker();
    const id = await kit.drop(await pngImage(), { name: 'twice.png', type: 'image/png' });
    await kit.until(id, ['ready']);
    const first = await eventually(async () => forDrop(id)[0]);
    expect(first.outcome.outcome).toBe('done');
    const before = await kit.manifests.get(id);
    const thumbsBefore = await Promise.all(before!.manifest.thumbnails.map((t) => kit.lastModified(t.key)));

    await aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl(), MessageBody: first.body }));
    const second = await eventually(async () => forDrop(id)[1]);
    expect(second.outcome).toEqual({ outcome: 'skipped', reason: 'drop is already ready' });

    const after = await kit.manifests.get(id);
    expect(after!.etag).toBe(before!.etag);
    expect(after!.manifest.updatedAt).toBe(before!.manifest.updatedAt);
    expect(await Promise.all(after!.manifest.thumbnails.map((t) => kit.lastModified(t.key)))).toEqual(thumbsBefore);
    expect((await store.listKeys(dropKeys(id).prefix)).sort()).toEqual(
      [dropKeys(id).manifest, dropKeys(id).original, dropKeys(id).thumb(1024), dropKeys(id).thumb(256)].sort(),
    );
  });
});

describe('hostile images', () => {
  it('a truncated JPEG and a decompression bomb end ready without thumbnails, memory stays flat, the worker goes on', async () => {
    runWorker();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    try {
      const bomb = await pngBomb(60_000, 60_000);
      const [truncated, bombId] = await Promise.all([
        kit.drop(await truncatedJpeg(), { name: 'cut.jpg', type: 'image/jpeg' }),
        kit.drop(bomb, { name: 'bomb.png', type: 'image/png' }),
      ]);
      expect(await kit.until(truncated, ['ready', 'failed'])).toMatchObject({
        status: 'ready',
        thumbnail: 'failed',
        thumbnailError: expect.stringMatching(/^corrupt image/),
        thumbnails: [],
      });
      expect(await kit.until(bombId, ['ready', 'failed'])).toMatchObject({
        status: 'ready',
        thumbnail: 'failed',
        thumbnailError: 'image is 60000x60000 pixels, over the 100000000-pixel limit',
      });
    } finally {
      clearInterval(sampler);
    }
    const grewMb = (peak - baseline) / 2 ** 20;
    console.info(`rss while refusing the bomb: +${grewMb.toFixed(0)} MiB (decoding it would take 10 GB)`);
    expect(grewMb).toBeLessThan(200);

    const later = await kit.drop(await pngImage(), { name: 'after.png', type: 'image/png' });
    expect(await kit.until(later, ['ready'])).toMatchObject({ thumbnail: 'ready' });
  });
});

describe('verification', () => {
  it('a size other than announced fails the drop and deletes the object', async () => {
    runWorker();
    const bytes = await pngImage();
    const id = await kit.announce(bytes, { name: 'lie.png', type: 'image/png', size: bytes.length + 10 });
    await kit.upload(id, bytes, 'image/png');
    const m = await kit.until(id, ['failed', 'ready']);
    expect(m).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/size mismatch/) });
    expect(await kit.exists(dropKeys(id).original)).toBe(false);
  });

  it('an original arriving for a cancelled drop is deleted', async () => {
    const { forDrop } = runWorker();
    const bytes = await pngImage();
    const id = await kit.announce(bytes, { name: 'gone.png' });
    await kit.manifests.applyEvent(id, { type: 'cancel', at: new Date() });
    await kit.upload(id, bytes, 'image/png');
    await eventually(async () => forDrop(id)[0]);
    expect(await kit.exists(dropKeys(id).original)).toBe(false);
    expect((await kit.manifests.get(id))!.manifest.status).toBe('cancelled');
  });
});

describe('a message that always fails', () => {
  it('goes to the DLQ after maxReceiveCount (5) deliveries, not round and round', async () => {
    await emptyQueue(aws, dlqUrl());
    const { forDrop } = runWorker();
    const bytes = Buffer.from('fine bytes, broken manifest');
    const id = await kit.announce(bytes);
    await aws.s3.send(
      new PutObjectCommand({ Bucket: config.DROPSHIP_BUCKET, Key: dropKeys(id).manifest, Body: '{"version":1,"id":' }),
    );
    await kit.upload(id, bytes);
    const dead = await eventually(async () => {
      const r = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl(), MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      return r.Messages?.find((m) => m.Body?.includes(id));
    }, 30_000);
    await aws.sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl(), ReceiptHandle: dead.ReceiptHandle! }));
    await eventually(async () => forDrop(id).length >= 5 || undefined, 2000);
    await new Promise((r) => setTimeout(r, 2000));
    expect(forDrop(id).map((s) => s.outcome.outcome)).toEqual(['retry', 'retry', 'retry', 'retry', 'retry']);
    expect(await queueDepth(aws, queueUrl())).toEqual({ visible: 0, inFlight: 0 });
  });
});

describe('50 images at once', () => {
  it('all become ready and the queue ends empty', async () => {
    const images = await Promise.all(Array.from({ length: 50 }, (_, i) => orientedJpeg(1200 + i, 900, 1 + (i % 8), 85)));
    const ids = await Promise.all(images.map((b, i) => kit.announce(b, { name: `batch-${i}.jpg`, type: 'image/jpeg' })));
    runWorker();
    const started = Date.now();
    await Promise.all(ids.map((id, i) => kit.upload(id, images[i]!, 'image/jpeg')));
    const ready = await kit.untilAll(ids, ['ready', 'failed'], 60_000);
    const seconds = (Date.now() - started) / 1000;
    console.info(`50 × 1.1 MP JPEG: all ready in ${seconds.toFixed(1)} s (${(50 / seconds).toFixed(1)} images/s, concurrency ${config.DROPSHIP_WORKER_CONCURRENCY})`);
    expect(ready.every((m) => m.status === 'ready' && m.thumbnail === 'ready')).toBe(true);
    // Orientations 5–8 swap width and height.
    expect(ready.map((m, i) => (i % 8 >= 4 ? m.height : m.width))).toEqual(ids.map((_, i) => 1200 + i));
    await eventually(async () => {
      const d = await queueDepth(aws, queueUrl());
      return d.visible === 0 && d.inFlight === 0 ? d : undefined;
    }, 10_000);
  });
});
