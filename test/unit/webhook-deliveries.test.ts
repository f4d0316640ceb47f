/**
 * Webhook deliveries over the in-memory adapters: the worker's handler, the sweep and the api
 * announce on the deliveries queue; the delivery consumer (src/worker/deliveries.ts) signs,
 * sends through a fake fetch, retries on the schedule and gives up into a dead-letter queue.
 * test/integration/webhooks.test.ts does the same against the emulator and a real receiver.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { memoryQueue, memoryStore, type MemoryQueue } from '../../src/memory/index.js';
import { createManifestRepo } from '../../src/ports/manifests.js';
import { createAnnouncer } from '../../src/ports/announcer.js';
import { indexExpiry } from '../../src/ports/expiry-index.js';
import { apply, newManifest, type Manifest } from '../../src/core/manifest.js';
import { dropKeys } from '../../src/core/layout.js';
import { webhookTargets, type Receiver } from '../../src/core/webhooks.js';
import { createMessageHandler } from '../../src/worker/handler.js';
import { createSweep } from '../../src/worker/sweeper.js';
import { createDeliveryHandler, receiverLookup, startDeliveries } from '../../src/worker/deliveries.js';
import type { RunningWorker } from '../../src/worker/worker.js';
import { createLambdaHandler } from '../../src/worker/lambda.js';
import { memoryApp } from '../support/memory-app.js';

const log = pino({ level: 'silent' });
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'V1StGXR8_Z5jdHi6B-myT';
const T0 = new Date('2030-01-01T00:00:00.000Z');

interface Seen {
  url: string;
  headers: Record<string, string>;
  body: string;
  redirect: RequestRedirect | undefined;
}

/** A fake fetch: `answer(url, attempt)` gives the status (or 'hang'); every request is recorded. */
function fakeFetch(answer: (url: string, attempt: number) => number | 'hang') {
  const seen: Seen[] = [];
  const fn = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    seen.push({ url, headers: init!.headers as Record<string, string>, body: String(init!.body), redirect: init!.redirect });
    const a = answer(url, seen.filter((s) => s.url === url).length);
    if (a === 'hang') {
      return new Promise<Response>((_, reject) =>
        init!.signal!.addEventListener('abort', () => reject(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))),
      );
    }
    return new Response(a === 204 ? null : 'ok', { status: a });
  }) as typeof fetch;
  return { fn, seen };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(fn: () => boolean, ms = 8000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met');
    await sleep(20);
  }
}

function drop(over: Partial<Manifest> = {}): Manifest {
  return {
    ...newManifest({
      id: ID,
      name: 'notes.txt',
      size: 5,
      type: 'text/plain',
      ownerTokenHash: 'a'.repeat(64),
      upload: { mode: 'single', partSize: 5, partCount: 1 },
      source: 'ticket',
      now: T0,
      expiresAt: new Date(T0.getTime() + 3600_000),
    }),
    ...over,
  };
}

const rx = (url: string, events: Receiver['events'] = ['drop.ready', 'drop.failed', 'drop.deleted', 'drop.expired']): Receiver => ({ url, secret: SECRET, events });

const running: RunningWorker[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop()));
});

function consumer(opts: {
  queue: MemoryQueue;
  receivers: Receiver[];
  fetch: typeof fetch;
  schedule?: number[];
  timeoutMs?: number;
  manifests?: ReturnType<typeof createManifestRepo>;
}) {
  const w = startDeliveries({
    config: {
      DROPSHIP_WEBHOOK_CONCURRENCY: 4,
      DROPSHIP_WEBHOOK_TIMEOUT_MS: opts.timeoutMs ?? 2000,
      DROPSHIP_WORKER_WAIT_TIME: 1,
      webhookRetrySchedule: opts.schedule ?? [0, 0],
    },
    queue: opts.queue,
    handle: createDeliveryHandler({
      manifests: opts.manifests ?? createManifestRepo(memoryStore()),
      receiver: receiverLookup(opts.receivers),
      requeue: (body, delaySeconds) => opts.queue.send(body, { delaySeconds }),
      timeoutMs: opts.timeoutMs ?? 2000,
      clock: () => new Date(),
      log,
      fetch: opts.fetch,
    }),
    log,
    shutdownGraceMs: 1000,
  });
  running.push(w);
  return w;
}

function readyDrop(over: Partial<Manifest> = {}): Manifest {
  const r = apply(drop(over), { type: 'processed', at: new Date(), sniffedType: 'text/plain', thumbnail: 'none', thumbnails: [] });
  if (!r.ok) throw new Error('not ready');
  return r.manifest;
}

describe('delivery consumer', () => {
  it('signs the Standard Webhooks way; a receiver answering 500 twice gets the event on the third try with the same webhook-id and body', async () => {
    const queue = memoryQueue();
    const receivers = [rx('https://flaky.example/hook')];
    const f = fakeFetch((_url, attempt) => (attempt <= 2 ? 500 : 204));
    consumer({ queue, receivers, fetch: f.fn });
    const announce = createAnnouncer({ queue, targetsFor: webhookTargets(receivers), publicUrl: 'http://drops.test' });
    expect(await announce.announce('drop.ready', readyDrop({ metadata: { order: '7' } }))).toBe(1);
    await until(() => queue.depth() === 0 && f.seen.length === 3);
    expect(new Set(f.seen.map((s) => s.headers['webhook-id'])).size).toBe(1);
    expect(new Set(f.seen.map((s) => s.body)).size).toBe(1);
    for (const s of f.seen) expect(s.redirect).toBe('manual');
    const last = f.seen[2]!;
    const verified = new Webhook(SECRET).verify(last.body, last.headers) as { type: string; data: { id: string; metadata?: object } };
    expect(verified).toMatchObject({ type: 'drop.ready', data: { id: ID, status: 'ready', metadata: { order: '7' } } });
    expect(() => new Webhook('whsec_' + Buffer.from('another key of 24 bytes!').toString('base64')).verify(last.body, last.headers)).toThrow();
  });

  it('a receiver that never answers 2xx (a 302 included) ends in the dead-letter queue after the schedule; another receiver is not held up', async () => {
    const dlq = memoryQueue();
    const queue = memoryQueue({ deadLetter: { queue: dlq, maxReceiveCount: 3 } });
    const receivers = [rx('https://dead.example/hook'), rx('https://slow.example/hook'), rx('https://fine.example/hook')];
    const f = fakeFetch((url) => (url.includes('dead') ? 302 : url.includes('slow') ? 'hang' : 200));
    consumer({ queue, receivers, fetch: f.fn, schedule: [0, 0], timeoutMs: 300 });
    await createAnnouncer({ queue, targetsFor: webhookTargets(receivers), publicUrl: 'http://drops.test' }).announce('drop.ready', readyDrop());
    // The healthy receiver is served while the slow one is still timing out its first attempt.
    await until(() => f.seen.some((s) => s.url.includes('fine')), 2000);
    await until(() => dlq.depth() === 2 && queue.depth() === 0);
    expect(f.seen.filter((s) => s.url.includes('dead'))).toHaveLength(3);
    expect(f.seen.filter((s) => s.url.includes('slow'))).toHaveLength(3);
    expect(f.seen.filter((s) => s.url.includes('fine'))).toHaveLength(1);
    expect(dlq.bodies().map((b) => (JSON.parse(b) as { receiver: { url: string } }).receiver.url).sort()).toEqual([
      'https://dead.example/hook',
      'https://slow.example/hook',
    ]);
  });

  it('a receiver removed from the configuration is not called; a message that is not a delivery is dropped', async () => {
    const queue = memoryQueue();
    const f = fakeFetch(() => 200);
    const announce = createAnnouncer({ queue, targetsFor: webhookTargets([rx('https://gone.example/')]), publicUrl: 'http://x' });
    await announce.announce('drop.ready', readyDrop());
    await queue.send('not a delivery');
    consumer({ queue, receivers: [rx('https://other.example/')], fetch: f.fn });
    await until(() => queue.depth() === 0);
    expect(f.seen).toEqual([]);
  });
});

describe('who announces', () => {
  const text = Buffer.from('hello');
  const event = JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key: dropKeys(ID).original, size: 5, eTag: 'x' } } }] });

  async function worker(opts: { failSends?: boolean; manifest?: Partial<Manifest> } = {}) {
    const store = memoryStore();
    const manifests = createManifestRepo(store);
    const deliveries = memoryQueue();
    const queue = opts.failSends
      ? { send: async () => Promise.reject(Object.assign(new Error('SQS down'), { name: 'ServiceUnavailable' })) }
      : deliveries;
    const announce = createAnnouncer({ queue, targetsFor: webhookTargets([rx('https://a.example/')]), publicUrl: 'http://x' });
    const handle = createMessageHandler({
      store,
      manifests,
      config: { thumbWidths: [256], DROPSHIP_MAX_PIXELS: 1e8, DROPSHIP_MAX_IMAGE_BYTES: 1e8 },
      log,
      clock: () => new Date(T0.getTime() + 5000),
      announce,
    });
    await manifests.create(drop(opts.manifest));
    await store.put(dropKeys(ID).original, text, { contentType: 'text/plain' });
    return { store, manifests, deliveries, handle };
  }

  it('the worker enqueues drop.ready after marking the drop ready, and again on a duplicate event (same message)', async () => {
    const w = await worker();
    expect(await w.handle(event)).toMatchObject({ outcome: 'done' });
    expect((await w.manifests.get(ID))!.manifest.status).toBe('ready');
    expect(w.deliveries.depth()).toBe(1);
    expect(await w.handle(event)).toMatchObject({ outcome: 'skipped' });
    const [first, second] = w.deliveries.bodies();
    expect(second).toBe(first);
    expect(JSON.parse(first!)).toMatchObject({ event: 'drop.ready', dropId: ID });
  });

  it('an enqueue that fails leaves the S3 event for retry (the drop is ready; the redelivery enqueues)', async () => {
    const w = await worker({ failSends: true });
    expect(await w.handle(event)).toMatchObject({ outcome: 'retry' });
    expect((await w.manifests.get(ID))!.manifest.status).toBe('ready');
  });

  it('a size mismatch fails the drop and announces drop.failed', async () => {
    const w = await worker();
    await w.store.put(dropKeys(ID).original, Buffer.from('longer than five'), { contentType: 'text/plain' });
    expect(await w.handle(event)).toMatchObject({ outcome: 'done' });
    expect(w.deliveries.bodies().map((b) => (JSON.parse(b) as { event: string }).event)).toEqual(['drop.failed']);
  });

  it('bytes of a type the creating key may not upload fail the drop and announce drop.failed', async () => {
    const w = await worker({ manifest: { allowedTypes: ['image/*'], type: 'image/png' } });
    expect(await w.handle(event)).toMatchObject({ outcome: 'done' });
    expect((await w.manifests.get(ID))!.manifest.status).toBe('failed');
    expect(w.deliveries.bodies().map((b) => (JSON.parse(b) as { event: string }).event)).toEqual(['drop.failed']);
  });

  it('other bytes under a ready drop (replaced) fail it and announce drop.failed after drop.ready', async () => {
    const w = await worker();
    await w.handle(event);
    await w.store.put(dropKeys(ID).original, Buffer.from('other bytes!'), { contentType: 'text/plain' });
    expect(await w.handle(event)).toMatchObject({ outcome: 'done' });
    expect((await w.manifests.get(ID))!.manifest.status).toBe('failed');
    expect(w.deliveries.bodies().map((b) => (JSON.parse(b) as { event: string }).event)).toEqual(['drop.ready', 'drop.failed']);
  });

  it('the sweep enqueues drop.expired before it deletes anything; if the enqueue fails the drop and its marker stay', async () => {
    for (const fail of [true, false]) {
      const store = memoryStore();
      const manifests = createManifestRepo(store);
      const deliveries = memoryQueue();
      const m = readyDrop();
      await indexExpiry(store, m, new Date(m.expiresAt!));
      await manifests.create(m);
      const queue = fail ? { send: () => Promise.reject(new Error('SQS down')) } : deliveries;
      const sweep = createSweep({
        store,
        manifests,
        clock: () => new Date(T0.getTime() + 2 * 3600_000),
        log,
        announce: createAnnouncer({ queue, targetsFor: webhookTargets([rx('https://a.example/')]), publicUrl: 'http://x' }),
      });
      const r = await sweep();
      if (fail) {
        expect(r.purged).toBe(0);
        expect(await manifests.get(ID)).toBeDefined();
      } else {
        expect(r.purged).toBe(1);
        expect(await manifests.get(ID)).toBeUndefined();
        const body = JSON.parse((JSON.parse(deliveries.bodies()[0]!) as { body: string }).body) as { type: string; timestamp: string };
        expect(body).toMatchObject({ type: 'drop.expired', timestamp: m.expiresAt });
      }
    }
  });

  it('the api enqueues drop.deleted before the cancel, to be delivered once the manifest confirms it; a repeated DELETE enqueues nothing new', async () => {
    const hooks = JSON.stringify([{ url: 'https://a.example/hook', secret: SECRET, events: ['drop.deleted'] }]);
    const s = await memoryApp({ DROPSHIP_WEBHOOKS: hooks });
    try {
      const created = (await s.call('POST', '/v1/drops', { body: { name: 'a.txt', size: 5 } })).json<{ id: string; ownerToken: string }>();
      expect((await s.call('DELETE', `/v1/drops/${created.id}`, { owner: created.ownerToken })).statusCode).toBe(200);
      expect((await s.call('DELETE', `/v1/drops/${created.id}`, { owner: created.ownerToken })).statusCode).toBe(200);
      expect(s.deliveries.depth()).toBe(1);
      const message = JSON.parse(s.deliveries.bodies()[0]!) as { confirm: object; body: string };
      expect(message.confirm).toEqual({ status: 'cancelled', tries: 0 });
      expect(JSON.parse(message.body)).toMatchObject({ type: 'drop.deleted', data: { id: created.id, status: 'cancelled' } });

      const f = fakeFetch(() => 200);
      consumer({ queue: s.deliveries, receivers: s.config.webhooks, fetch: f.fn, manifests: createManifestRepo(s.store) });
      await until(() => s.deliveries.depth() === 0 && f.seen.length === 1);
    } finally {
      await s.close();
    }
  });

  it('a DELETE whose drop.deleted cannot be enqueued answers 503 and changes nothing; the retry deletes', async () => {
    const hooks = JSON.stringify([{ url: 'https://a.example/hook', secret: SECRET, events: ['drop.deleted'] }]);
    const s = await memoryApp({ DROPSHIP_WEBHOOKS: hooks });
    try {
      const created = (await s.call('POST', '/v1/drops', { body: { name: 'a.txt', size: 5 } })).json<{ id: string; ownerToken: string }>();
      const send = s.deliveries.send.bind(s.deliveries);
      s.deliveries.send = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      const refused = await s.call('DELETE', `/v1/drops/${created.id}`, { owner: created.ownerToken });
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({ error: { code: 'STORAGE_UNAVAILABLE' } });
      expect((await s.manifests.get(created.id))!.manifest.status).toBe('uploading');
      s.deliveries.send = send;
      expect((await s.call('DELETE', `/v1/drops/${created.id}`, { owner: created.ownerToken })).statusCode).toBe(200);
      expect((await s.manifests.get(created.id))!.manifest.status).toBe('cancelled');
      expect(s.deliveries.depth()).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('a drop.deleted whose cancel was never written is checked again, delayed, and never delivered', async () => {
    const store = memoryStore();
    const manifests = createManifestRepo(store);
    await manifests.create(readyDrop());
    const queue = memoryQueue();
    const requeued: number[] = [];
    const f = fakeFetch(() => 200);
    const handle = createDeliveryHandler({
      manifests,
      receiver: receiverLookup([rx('https://a.example/')]),
      requeue: async (body, delay) => {
        requeued.push(delay);
        await queue.send(body);
      },
      timeoutMs: 1000,
      clock: () => new Date(),
      log,
      fetch: f.fn,
    });
    await createAnnouncer({ queue, targetsFor: webhookTargets([rx('https://a.example/')]), publicUrl: 'http://x' }).announce('drop.deleted', readyDrop(), {
      confirm: true,
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 10 && queue.depth(); i++) {
      const [m] = await queue.receive({ max: 1, waitSeconds: 0, visibilitySeconds: 30 });
      outcomes.push((await handle(m!.body)).outcome);
      await queue.delete([m!.receipt]);
    }
    expect(outcomes).toEqual(['done', 'done', 'done', 'done', 'done', 'skipped']);
    expect(requeued.every((d) => d > 0)).toBe(true);
    expect(f.seen).toEqual([]);
  });
});

describe('on Lambda', () => {
  it('records from the deliveries queue are deliveries: a failed one gets the schedule\'s next delay and is reported; S3 events go to the handler', async () => {
    const queue = memoryQueue();
    const receivers = [rx('https://down.example/'), rx('https://up.example/')];
    await createAnnouncer({ queue, targetsFor: webhookTargets(receivers), publicUrl: 'http://x' }).announce('drop.ready', readyDrop());
    const received = await queue.receive({ max: 10, waitSeconds: 0, visibilitySeconds: 30 });
    const f = fakeFetch((url) => (url.includes('down') ? 503 : 200));
    const delays: { receipt: string; seconds: number }[] = [];
    const s3Bodies: string[] = [];
    const lambda = createLambdaHandler({
      handle: async (body) => (s3Bodies.push(body), { outcome: 'done', reason: 'ok' }),
      log,
      concurrency: 2,
      deliveries: {
        isDelivery: (r) => r.eventSourceARN?.endsWith(':dropship-deliveries') ?? false,
        handle: createDeliveryHandler({
          manifests: createManifestRepo(memoryStore()),
          receiver: receiverLookup(receivers),
          requeue: async () => {},
          timeoutMs: 1000,
          clock: () => new Date(),
          log,
          fetch: f.fn,
        }),
        queue: { setVisibility: async (e) => (delays.push(...e), []) },
        schedule: [30, 600],
      },
    });
    const arn = 'arn:aws:sqs:us-east-1:000000000000:dropship-deliveries';
    const r = await lambda({
      Records: [
        ...received.map((m) => ({ messageId: m.id, receiptHandle: m.receipt, body: m.body, attributes: { ApproximateReceiveCount: '2' }, eventSourceARN: arn })),
        { messageId: 's3', body: '{"Records":[]}', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:dropship-events' },
      ],
    });
    const down = received.find((m) => m.body.includes('down.example'))!;
    expect(r).toEqual({ batchItemFailures: [{ itemIdentifier: down.id }] });
    expect(delays).toEqual([{ receipt: down.receipt, seconds: 600 }]);
    expect(s3Bodies).toEqual(['{"Records":[]}']);
    expect(f.seen.map((x) => x.url).sort()).toEqual(['https://down.example/', 'https://up.example/']);
  });
});
