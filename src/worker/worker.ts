/**
 * The SQS consumer (bbc/sqs-consumer, batch mode) around the message handler.
 *
 *   receive    long polls (DROPSHIP_WORKER_WAIT_TIME) for up to min(10, concurrency)
 *              messages, asking for ApproximateReceiveCount; concurrency above 10 runs
 *              several consumers, since SQS hands out at most 10 messages per receive
 *   handle     every message of a batch at once; each ends done / skipped / retry
 *   heartbeat  while a batch runs its messages' visibility is extended every third of the
 *              visibility timeout, so a long job is never handed to a second worker, and a
 *              killed worker's messages come back one visibility timeout later
 *   delete     done and skipped messages with one DeleteMessageBatch
 *   retry      the rest get a visibility timeout that doubles with each receive; the queue's
 *              redrive policy moves a message to the DLQ after maxReceiveCount receives
 *   stop       polls no more, lets the in-flight batch finish and be deleted, hands back at
 *              once (visibility 0) whatever the last receive brings, and past the grace period
 *              hands back the unfinished batch too instead of abandoning it
 *
 * Why stop waits for the last long poll instead of aborting it: SQS does not notice a client
 * hanging up on a ReceiveMessage. The abandoned receive still takes messages that arrive
 * during its wait and hides them for a whole visibility timeout from every other worker
 * (seen here with LocalStack: each message sent after a stop came back 5 s late; real SQS
 * does the same — aws/aws-sdk-js#2350, aws/aws-sdk-java-v2#1395). So shutdown takes up to
 * DROPSHIP_WORKER_WAIT_TIME seconds, which is why that wait is 10 s rather than SQS's
 * maximum of 20. Only a receive that outlives its wait by 5 s (a stalled connection) is
 * aborted — on a client whose ReceiveMessage calls alone obey that signal, since
 * sqs-consumer's own abort would also cancel the in-flight batch's heartbeats and deletes.
 *
 * This file talks to SQS directly for the two calls sqs-consumer lacks (per-message retry
 * delays, releasing messages at shutdown): it is this process's queue adapter, and the
 * handler it drives sees only the storage ports.
 */
import { Consumer } from 'sqs-consumer';
import {
  ChangeMessageVisibilityBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { AwsClients } from '../aws/clients.js';
import { createObjectStore } from '../aws/store.js';
import { createManifestRepo } from '../aws/manifests.js';
import { createMessageHandler, type MessageHandler, type Outcome } from './handler.js';
import { retry, retryDelaySeconds } from './decisions.js';

export interface RunningWorker {
  stop(): Promise<void>;
}

/** A handler stuck this long (hung connection, runaway decode) gives its message back. */
const JOB_TIMEOUT_MS = 10 * 60_000;
const SQS_MAX_BATCH = 10;

/** How `slots` concurrent jobs split into consumers of at most 10 messages per receive. */
export function consumerBatchSizes(slots: number): number[] {
  const sizes: number[] = [];
  for (let left = slots; left > 0; left -= SQS_MAX_BATCH) sizes.push(Math.min(SQS_MAX_BATCH, left));
  return sizes;
}

const receiveCount = (m: Message) => Number(m.Attributes?.ApproximateReceiveCount ?? 1);

export function startWorker(opts: {
  config: Config;
  aws: AwsClients;
  queueUrl: string;
  log: Logger;
  /** How long stop() lets in-flight messages finish before handing them back. */
  shutdownGraceMs?: number;
  /** Replaces the S3 handler (tests of the consumer's plumbing). */
  handler?: MessageHandler;
}): RunningWorker {
  const { config, aws, queueUrl, log } = opts;
  const store = createObjectStore(aws.s3, config.DROPSHIP_BUCKET);
  const handle =
    opts.handler ??
    createMessageHandler({ store, manifests: createManifestRepo(store), config, log: log.child({ part: 'handler' }) });

  const visibilityTimeout = config.DROPSHIP_WORKER_VISIBILITY_TIMEOUT;
  const heartbeatInterval = Math.max(1, Math.floor(visibilityTimeout / 3));
  const retryDelay = (m: Message) => retryDelaySeconds(receiveCount(m), config.DROPSHIP_WORKER_RETRY_DELAY);

  const waitTimeSeconds = config.DROPSHIP_WORKER_WAIT_TIME;
  const stalledReceive = new AbortController();
  const sqs = {
    send(command: Parameters<SQSClient['send']>[0], options?: { abortSignal?: AbortSignal }) {
      if (!(command instanceof ReceiveMessageCommand)) return aws.sqs.send(command, options ?? {});
      const signals = [stalledReceive.signal, ...(options?.abortSignal ? [options.abortSignal] : [])];
      return aws.sqs.send(command, { ...options, abortSignal: AbortSignal.any(signals) });
    },
  } as unknown as SQSClient;

  const inFlight = new Set<Message>();
  let stopping = false;

  async function changeVisibility(messages: Message[], seconds: (m: Message) => number) {
    for (let i = 0; i < messages.length; i += SQS_MAX_BATCH) {
      const batch = messages.slice(i, i + SQS_MAX_BATCH);
      try {
        const r = await aws.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: seconds(m) })),
          }),
        );
        if (r.Failed?.length) log.warn({ failed: r.Failed }, 'could not change the visibility of some messages');
      } catch (err) {
        // Not fatal: each message still comes back when its current visibility timeout ends.
        log.warn({ err }, 'could not change message visibility');
      }
    }
  }

  async function runOne(message: Message): Promise<Outcome> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    let outcome: Outcome;
    try {
      outcome = await Promise.race([
        handle(message.Body ?? ''),
        new Promise<Outcome>((resolve) => {
          timer = setTimeout(() => resolve(retry(`handler took longer than ${JOB_TIMEOUT_MS} ms`)), JOB_TIMEOUT_MS);
        }),
      ]);
    } catch (e) {
      // The handler turns S3 failures into outcomes itself; this is a bug's last line.
      outcome = retry(`handler threw: ${(e as Error)?.message ?? String(e)}`);
    } finally {
      clearTimeout(timer);
    }
    const fields = { messageId: message.MessageId, receiveCount: receiveCount(message), ms: Date.now() - started, ...outcome };
    if (outcome.outcome === 'retry') log.warn(fields, 'message left for retry');
    else log.info(fields, 'message handled');
    return outcome;
  }

  async function handleBatch(messages: Message[]): Promise<Message[]> {
    if (stopping) {
      // The last receive of a stopping worker: start nothing, let another worker have them now.
      await changeVisibility(messages, () => 0);
      return [];
    }
    for (const m of messages) inFlight.add(m);
    try {
      const outcomes = await Promise.all(messages.map(runOne));
      const failed = messages.filter((_, i) => outcomes[i]!.outcome === 'retry');
      // The batch heartbeat is still running here and could, in a rare tick, restore the full
      // visibility timeout: such a retry only waits longer than its backoff.
      if (failed.length) await changeVisibility(failed, retryDelay);
      return messages.filter((_, i) => outcomes[i]!.outcome !== 'retry');
    } finally {
      for (const m of messages) inFlight.delete(m);
    }
  }

  const consumers = consumerBatchSizes(config.DROPSHIP_WORKER_CONCURRENCY).map((batchSize) => {
    const consumer = Consumer.create({
      queueUrl,
      sqs,
      batchSize,
      waitTimeSeconds,
      visibilityTimeout,
      heartbeatInterval,
      messageSystemAttributeNames: ['ApproximateReceiveCount'],
      handleMessageBatch: handleBatch,
      // Only if handleBatch itself throws: every message of the batch backs off.
      terminateVisibilityTimeout: (messages) => Math.max(0, ...messages.map(retryDelay)),
      pollingCompleteWaitTimeMs: opts.shutdownGraceMs ?? 25_000,
      strictReturn: true,
    });
    consumer.on('error', (err) => {
      if (stalledReceive.signal.aborted && /abort/i.test(`${err.name} ${err.message}`)) return;
      log.error({ err }, 'consumer error');
    });
    consumer.on('processing_error', (err) => log.error({ err }, 'processing error'));
    consumer.start();
    return consumer;
  });

  let stopped: Promise<void> | undefined;
  return {
    stop() {
      stopped ??= (async () => {
        stopping = true;
        const stalled = setTimeout(() => stalledReceive.abort(), (waitTimeSeconds + 5) * 1000);
        await Promise.all(
          consumers.map(
            (c) =>
              new Promise<void>((resolve) => {
                c.once('stopped', () => resolve());
                c.stop({ abort: false });
              }),
          ),
        );
        clearTimeout(stalled);
        if (inFlight.size) {
          log.warn({ messages: inFlight.size }, 'shutdown grace period over: handing in-flight messages back');
          await changeVisibility([...inFlight], () => 0);
        }
      })();
      return stopped;
    },
  };
}
