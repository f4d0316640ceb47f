/**
 * The consumer loop (src/worker/worker.ts) over the in-memory queue: what happens to a
 * message after each outcome, the visibility heartbeat, backoff when the queue fails, and
 * shutdown. test/integration/worker*.test.ts run the same loop against SQS on the emulator.
 *
 * Time is vitest's fake clock (timers and Date, which the memory queue's visibility reads):
 * each test moves it as far as the seconds it speaks of, without waiting for them.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryQueue, type MemoryQueue } from '../../src/memory/index.js';
import type { Outcome } from '../../src/core/processing.js';
import type { QueueMessage } from '../../src/ports/queue.js';
import { consumerBatchSizes, startWorker, type RunningWorker } from '../../src/worker/worker.js';

const log = pino({ level: 'silent' });
const settings = {
  DROPSHIP_WORKER_CONCURRENCY: 4,
  DROPSHIP_WORKER_VISIBILITY_TIMEOUT: 3,
  DROPSHIP_WORKER_RETRY_DELAY: 1,
  DROPSHIP_WORKER_WAIT_TIME: 1,
};
/** A handler's own wait: a fake timer, due when the test has moved the clock that far. */
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Moves the fake clock by `ms`, running every timer and promise due on the way. */
const sleep = (ms: number) => vi.advanceTimersByTimeAsync(ms);
/** Moves the fake clock 20 ms at a time until `fn` holds, at most `ms` of fake time. */
async function until(fn: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met');
    await sleep(20);
  }
}

let worker: RunningWorker | undefined;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(async () => {
  // A stop waits for the last long poll: let the clock run while it does.
  if (worker) await stopWorker(worker);
  worker = undefined;
  vi.useRealTimers();
});
/** stop() under the fake clock: moves time until it resolves, answers the fake ms it took. */
async function stopWorker(w: RunningWorker): Promise<number> {
  const started = Date.now();
  let done = false;
  const p = w.stop().then(() => void (done = true));
  while (!done) await sleep(10);
  await p;
  return Date.now() - started;
}

function run(queue: MemoryQueue, handle: (body: string) => Promise<Outcome>, over: Partial<typeof settings> = {}, shutdownGraceMs?: number) {
  worker = startWorker({ config: { ...settings, ...over }, queue, handle, log, ...(shutdownGraceMs ? { shutdownGraceMs } : {}) });
  return worker;
}

describe('consumer', () => {
  it('splits concurrency into receives of at most 10 messages', () => {
    expect(consumerBatchSizes(1)).toEqual([1]);
    expect(consumerBatchSizes(10)).toEqual([10]);
    expect(consumerBatchSizes(25)).toEqual([10, 10, 5]);
  });

  it('deletes done and skipped messages; a retry comes back after its backoff with a higher receive count', async () => {
    const queue = memoryQueue();
    const seen: { body: string; at: number }[] = [];
    let tries = 0;
    run(queue, async (body) => {
      seen.push({ body, at: Date.now() });
      if (body === 'flaky' && ++tries === 1) return { outcome: 'retry', reason: 'S3 503' };
      return { outcome: body === 'junk' ? 'skipped' : 'done', reason: 'ok' };
    });
    for (const b of ['good', 'junk', 'flaky']) queue.send(b);
    await until(() => queue.depth() === 0);
    const flaky = seen.filter((s) => s.body === 'flaky');
    expect(flaky).toHaveLength(2);
    // DROPSHIP_WORKER_RETRY_DELAY 1 s after the first receive.
    expect(flaky[1]!.at - flaky[0]!.at).toBeGreaterThanOrEqual(900);
    expect(seen.filter((s) => s.body === 'good')).toHaveLength(1);
  });

  it('a handler that throws is a retry, not a lost message', async () => {
    const queue = memoryQueue();
    let calls = 0;
    run(queue, async () => {
      if (++calls === 1) throw new Error('bug');
      return { outcome: 'done', reason: 'ok' };
    });
    queue.send('x');
    await until(() => queue.depth() === 0);
    expect(calls).toBe(2);
  });

  it('a job longer than the visibility timeout is kept hidden by the heartbeat and handled once', async () => {
    const queue = memoryQueue();
    let calls = 0;
    // Two lanes: while one works, the other keeps polling and would take the message the
    // moment its 3 s visibility ran out without the heartbeat.
    run(
      queue,
      async () => {
        calls++;
        await wait(4500);
        return { outcome: 'done', reason: 'slow' };
      },
      { DROPSHIP_WORKER_CONCURRENCY: 20 },
    );
    queue.send('slow');
    await until(() => queue.depth() === 0, 8000);
    expect(calls).toBe(1);
  }, 15_000);

  it('backs off while the queue fails instead of spinning', async () => {
    const queue = memoryQueue();
    let receives = 0;
    const failing = { ...queue, receive: async () => (receives++, Promise.reject(new Error('ECONNREFUSED'))) };
    worker = startWorker({ config: { ...settings, DROPSHIP_WORKER_CONCURRENCY: 1 }, queue: failing, handle: async () => ({ outcome: 'done', reason: '' }), log });
    await sleep(2000);
    // 0.5 s, 1 s, 2 s … apart: 3 receives in 2 s, where a spinning loop makes thousands.
    expect(receives).toBeGreaterThanOrEqual(2);
    expect(receives).toBeLessThanOrEqual(4);
  });

  it('stop lets in-flight jobs finish and deletes them, then polls no more', async () => {
    const queue = memoryQueue();
    const done: string[] = [];
    let started = false;
    run(queue, async (body) => {
      started = true;
      await wait(300);
      done.push(body);
      return { outcome: 'done', reason: 'ok' };
    });
    queue.send('a');
    await until(() => started);
    await stopWorker(worker!);
    expect(done).toEqual(['a']);
    expect(queue.depth()).toBe(0);
    queue.send('after');
    await sleep(1200);
    expect(done).toEqual(['a']);
  });

  it('past the grace period stop hands unfinished messages back at once', async () => {
    const queue = memoryQueue();
    const receipts: QueueMessage[] = [];
    const watched = { ...queue, receive: async (o: Parameters<MemoryQueue['receive']>[0]) => {
      const got = await queue.receive(o);
      receipts.push(...got);
      return got;
    } };
    worker = startWorker({ config: settings, queue: watched, handle: () => new Promise<Outcome>(() => {}), log, shutdownGraceMs: 200 });
    queue.send('stuck');
    await until(() => receipts.length === 1);
    expect(await stopWorker(worker)).toBeLessThan(2500);
    // Visible again: another worker can take it now, not one visibility timeout later.
    const again = await queue.receive({ max: 1, waitSeconds: 0, visibilitySeconds: 30 });
    expect(again.map((m) => [m.body, m.receiveCount])).toEqual([['stuck', 2]]);
    worker = undefined;
  });
});
