/**
 * Load, bounded and on 127.0.0.1 only: 200 uploads at once end to end (ticket → parts →
 * complete → S3 event → worker → ready), none lost; then a burst of ticket creations and
 * status queries against tight limits, answered 2xx/404/429/503 with Retry-After, never
 * another 5xx. Latency percentiles are printed for the record (never asserted: timing
 * belongs in benchmarks).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { GetQueueAttributesCommand, PurgeQueueCommand } from '@aws-sdk/client-sqs';
import pino from 'pino';
import type { RunningWorker } from '../../src/worker/worker.js';
import { startTestWorker } from '../support/worker.js';
import { api, startApi, uploadViaTickets, type TestApi } from '../support/app.js';
import { eventually, isolatedStorage } from '../support/env.js';

let env: Record<string, string> = {};
let s: TestApi;
let worker: RunningWorker;
let queueUrl: string;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

beforeAll(async () => {
  ({ env, queueUrl } = await isolatedStorage('load-test'));
  s = await startApi({ ...env, DROPSHIP_RATE_LIMIT: '100000', DROPSHIP_MAX_OPEN_TICKETS: '1000' });
  await s.aws.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  worker = startTestWorker({
    config: { ...s.config, DROPSHIP_WORKER_CONCURRENCY: 10 },
    queueUrl,
    log: pino({ level: 'warn' }),
  });
});
afterAll(async () => {
  await worker?.stop();
  await s?.close();
});

describe('200 uploads at once', () => {
  it('all become ready; nothing is lost or left in the queue', async () => {
    const files = Array.from({ length: 200 }, (_, i) => randomBytes(1 + ((i * 7919) % 65_536)));
    const t0 = performance.now();
    const results = await Promise.all(files.map((f, i) => uploadViaTickets(s.base, f, { name: `f${i}.bin`, concurrency: 1 })));
    const uploaded = performance.now() - t0;
    expect(results.map((r) => r.complete.status)).toEqual(files.map(() => 200));
    const ids = results.map((r) => r.ticket.id);
    await eventually(
      async () => {
        const views = await Promise.all(ids.map((id) => api<{ status: string }>(s.base, 'GET', `/v1/drops/${id}`)));
        return views.every((v) => v.body.status === 'ready') || undefined;
      },
      120_000,
      1000,
    );
    const allReady = performance.now() - t0;
    const views = await Promise.all(ids.map((id) => api<{ size: number; thumbnail: string }>(s.base, 'GET', `/v1/drops/${id}`)));
    expect(views.map((v) => v.body.size)).toEqual(files.map((f) => f.length));
    const attrs = await eventually(async () => {
      const a = (await s.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))).Attributes!;
      return a.ApproximateNumberOfMessages === '0' && a.ApproximateNumberOfMessagesNotVisible === '0' ? a : undefined;
    }, 30_000);
    expect(attrs.ApproximateNumberOfMessages).toBe('0');
    console.log(`load: 200 uploads completed in ${uploaded.toFixed(0)} ms, all ready after ${allReady.toFixed(0)} ms`);
  }, 180_000);
});

describe('bursts against tight limits', () => {
  it('ticket creation and status queries: 2xx/404/429/503 with Retry-After, never another 5xx', async () => {
    const tight = await startApi({ ...env, DROPSHIP_RATE_LIMIT: '150', DROPSHIP_UPLOAD_SLOTS: '40', DROPSHIP_MAX_OPEN_TICKETS: '1000' });
    try {
      const latencies: number[] = [];
      const statuses: number[] = [];
      let missingRetryAfter = 0;
      const one = async (i: number) => {
        const t = performance.now();
        const r =
          i % 2 === 0
            ? await api(tight.base, 'POST', '/v1/drops', { name: `b${i}.bin`, size: 1000 + i })
            : await api(tight.base, 'GET', '/v1/drops/AAAAAAAAAAAAAAAAAAAAA');
        latencies.push(performance.now() - t);
        statuses.push(r.status);
        if ((r.status === 429 || r.status === 503) && !r.headers.get('retry-after')) missingRetryAfter++;
      };
      // 400 requests, 50 at a time.
      for (let b = 0; b < 8; b++) await Promise.all(Array.from({ length: 50 }, (_, i) => one(b * 50 + i)));
      const count = (c: number) => statuses.filter((x) => x === c).length;
      expect(statuses.every((c) => [201, 404, 429, 503].includes(c))).toBe(true);
      expect(count(201)).toBe(40); // the upload slots
      expect(count(503)).toBeGreaterThan(0);
      expect(count(429)).toBeGreaterThan(0);
      expect(missingRetryAfter).toBe(0);
      console.log(
        `load: 400 requests, 201×${count(201)} 404×${count(404)} 429×${count(429)} 503×${count(503)}; ` +
          `latency p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms`,
      );
    } finally {
      await tight.close();
    }
  }, 60_000);
});
