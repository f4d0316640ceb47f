/**
 * The queue consumer around the message handler, over the Queue port (src/ports/queue.ts).
 *
 *   lanes      DROPSHIP_WORKER_CONCURRENCY jobs at once, split into lanes of at most 10
 *              messages (SQS hands out at most 10 per receive); each lane long-polls
 *              (DROPSHIP_WORKER_WAIT_TIME) and handles what it got before polling again
 *   handle     every message of a batch at once; each ends done / skipped / retry
 *   heartbeat  while a batch runs its messages' visibility is extended every third of the
 *              visibility timeout, so a long job is never handed to a second worker, and a
 *              killed worker's messages come back one visibility timeout later
 *   delete     done and skipped messages, batched
 *   retry      the rest get a visibility timeout that doubles with each receive; the queue's
 *              redrive policy moves a message to the DLQ after maxReceiveCount receives
 *   outage     a failing receive backs off (0.5 s doubling to 10 s) instead of spinning
 *   stop       polls no more, lets the in-flight batches finish and be deleted, hands back at
 *              once (visibility 0) whatever the last receive brings, and past the grace period
 *              hands back the unfinished batches too instead of abandoning them
 *
 * Why stop waits for the last long poll instead of aborting it: SQS does not notice a client
 * hanging up on a ReceiveMessage. The abandoned receive still takes messages that arrive
 * during its wait and hides them for a whole visibility timeout from every other worker
 * (seen with LocalStack: each message sent after a stop came back 5 s late; real SQS does the
 * same — aws/aws-sdk-js#2350, aws/aws-sdk-java-v2#1395). So shutdown takes up to
 * DROPSHIP_WORKER_WAIT_TIME seconds, which is why that wait is 10 s rather than SQS's maximum
 * of 20. Only a receive that outlives its wait by 5 s (a stalled connection) is aborted.
 *
 * Why not sqs-consumer (used before): it wants an SQS client rather than a port, and the two
 * things this worker needs beyond it — per-message retry delays and handing messages back at
 * shutdown — were direct SQS calls beside it. The loop below is the whole of what remains.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Queue, QueueMessage } from '../ports/queue.js';
import { retry, retryDelaySeconds, type Outcome } from '../core/processing.js';
import type { MessageHandler } from './handler.js';

export interface RunningWorker {
  stop(): Promise<void>;
}

export type WorkerSettings = Pick<
  Config,
  | 'DROPSHIP_WORKER_CONCURRENCY'
  | 'DROPSHIP_WORKER_VISIBILITY_TIMEOUT'
  | 'DROPSHIP_WORKER_RETRY_DELAY'
  | 'DROPSHIP_WORKER_WAIT_TIME'
>;

/** A handler stuck this long (hung connection, runaway decode) gives its message back. */
const JOB_TIMEOUT_MS = 10 * 60_000;
const SQS_MAX_BATCH = 10;
const RECEIVE_BACKOFF_MS = { first: 500, max: 10_000 };

/** How `slots` concurrent jobs split into lanes of at most 10 messages per receive. */
export function consumerBatchSizes(slots: number): number[] {
  const sizes: number[] = [];
  for (let left = slots; left > 0; left -= SQS_MAX_BATCH) sizes.push(Math.min(SQS_MAX_BATCH, left));
  return sizes;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

export function startWorker(opts: {
  config: WorkerSettings;
  queue: Queue;
  handle: MessageHandler;
  log: Logger;
  /** How long stop() lets in-flight messages finish before handing them back. */
  shutdownGraceMs?: number;
  /** Seconds a message waits after its `receiveCount`-th attempt ended in retry (default: DROPSHIP_WORKER_RETRY_DELAY doubling). */
  retryDelay?: (receiveCount: number) => number;
}): RunningWorker {
  const { config, queue, handle, log } = opts;
  const visibilityTimeout = config.DROPSHIP_WORKER_VISIBILITY_TIMEOUT;
  const heartbeatMs = Math.max(1, Math.floor(visibilityTimeout / 3)) * 1000;
  const waitSeconds = config.DROPSHIP_WORKER_WAIT_TIME;
  const graceMs = opts.shutdownGraceMs ?? 25_000;

  const stopping = new AbortController();
  /** Aborts a receive that outlives its long poll by 5 s, once stopping. */
  const stalledReceive = new AbortController();
  const inFlight = new Set<QueueMessage>();

  async function setVisibility(messages: QueueMessage[], seconds: (m: QueueMessage) => number) {
    if (!messages.length) return;
    try {
      const failed = await queue.setVisibility(messages.map((m) => ({ receipt: m.receipt, seconds: seconds(m) })));
      if (failed.length) log.warn({ failed: failed.length }, 'could not change the visibility of some messages');
    } catch (err) {
      // Not fatal: each message still comes back when its current visibility timeout ends.
      log.warn({ err }, 'could not change message visibility');
    }
  }

  async function runOne(message: QueueMessage): Promise<Outcome> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    let outcome: Outcome;
    try {
      outcome = await Promise.race([
        handle(message.body),
        new Promise<Outcome>((resolve) => {
          timer = setTimeout(() => resolve(retry(`handler took longer than ${JOB_TIMEOUT_MS} ms`)), JOB_TIMEOUT_MS);
        }),
      ]);
    } catch (e) {
      // The handler turns storage failures into outcomes itself; this is a bug's last line.
      outcome = retry(`handler threw: ${(e as Error)?.message ?? String(e)}`);
    } finally {
      clearTimeout(timer);
    }
    const fields = { messageId: message.id, receiveCount: message.receiveCount, ms: Date.now() - started, ...outcome };
    if (outcome.outcome === 'retry') log.warn(fields, 'message left for retry');
    else log.info(fields, 'message handled');
    return outcome;
  }

  /** Handles one batch; resolves when its messages are deleted or given their retry delay. */
  async function handleBatch(messages: QueueMessage[]): Promise<void> {
    for (const m of messages) inFlight.add(m);
    const heartbeat = setInterval(() => void setVisibility(messages.filter((m) => inFlight.has(m)), () => visibilityTimeout), heartbeatMs);
    try {
      const outcomes = await Promise.all(messages.map(runOne));
      clearInterval(heartbeat);
      const finished = messages.filter((_, i) => outcomes[i]!.outcome !== 'retry');
      const failed = messages.filter((_, i) => outcomes[i]!.outcome === 'retry');
      const delay = opts.retryDelay ?? ((n: number) => retryDelaySeconds(n, config.DROPSHIP_WORKER_RETRY_DELAY));
      await setVisibility(failed, (m) => delay(m.receiveCount));
      if (finished.length) {
        try {
          const undeleted = await queue.delete(finished.map((m) => m.receipt));
          if (undeleted.length) log.warn({ failed: undeleted.length }, 'could not delete some handled messages');
        } catch (err) {
          // They come back after their visibility timeout; every step is idempotent.
          log.warn({ err }, 'could not delete handled messages');
        }
      }
    } finally {
      clearInterval(heartbeat);
      for (const m of messages) inFlight.delete(m);
    }
  }

  async function lane(batchSize: number): Promise<void> {
    let backoff = 0;
    while (!stopping.signal.aborted) {
      let messages: QueueMessage[];
      try {
        messages = await queue.receive({
          max: batchSize,
          waitSeconds,
          visibilitySeconds: visibilityTimeout,
          signal: stalledReceive.signal,
        });
        backoff = 0;
      } catch (err) {
        if (stalledReceive.signal.aborted) return;
        backoff = Math.min(RECEIVE_BACKOFF_MS.max, backoff ? backoff * 2 : RECEIVE_BACKOFF_MS.first);
        log.error({ err, retryInMs: backoff }, 'could not receive from the queue');
        await sleep(backoff, stopping.signal);
        continue;
      }
      if (stopping.signal.aborted) {
        // The last receive of a stopping worker: start nothing, let another worker have them now.
        await setVisibility(messages, () => 0);
        return;
      }
      if (messages.length) await handleBatch(messages);
    }
  }

  const lanes = consumerBatchSizes(config.DROPSHIP_WORKER_CONCURRENCY).map((size) =>
    lane(size).catch((err: unknown) => log.error({ err }, 'consumer lane failed')),
  );

  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping.abort();
        const stalled = setTimeout(() => stalledReceive.abort(), (waitSeconds + 5) * 1000);
        const all = Promise.all(lanes).finally(() => clearTimeout(stalled));
        const graceOver = await Promise.race([all.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref())]);
        if (graceOver && inFlight.size) {
          log.warn({ messages: inFlight.size }, 'shutdown grace period over: handing in-flight messages back');
          await setVisibility([...inFlight], () => 0);
        }
      })();
      return stopped;
    },
  };
}
