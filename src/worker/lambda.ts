/**
 * The same message handler as an AWS Lambda SQS handler (and this entry's composition root). Use it with an event source mapping
 * that has `FunctionResponseTypes: ["ReportBatchItemFailures"]`: done and skipped messages
 * are deleted by Lambda, and only the ones returned in `batchItemFailures` come back (after
 * the queue's visibility timeout) and, after maxReceiveCount, go to the DLQ.
 * Without ReportBatchItemFailures one failure would redeliver the whole batch — still
 * correct, since every step is idempotent, but wasteful. See docs/worker.md.
 *
 * The retention sweep (sweeper.ts) runs when the function is invoked by a schedule instead
 * (an EventBridge rule or EventBridge Scheduler with `source: "aws.events"`, e.g. every minute),
 * since a Lambda has no loop of its own to run it in.
 *
 * Webhook deliveries: give the function a second event source mapping on the deliveries
 * queue; records whose eventSourceARN names DROPSHIP_DELIVERIES_QUEUE_NAME are deliveries. A
 * failed attempt's message gets the schedule's next delay (a visibility change by its receipt
 * handle) and is reported in `batchItemFailures`.
 *
 * Lambda extends nothing: the queue's visibility timeout must exceed the function's timeout
 * (AWS recommends six times it), which takes the place of the consumer's heartbeat.
 */
import pino, { type Logger } from 'pino';
import { loadConfig, webhooksForKey } from '../config.js';
import { createAwsAdapters } from '../aws/adapters.js';
import { createManifestRepo } from '../ports/manifests.js';
import { systemClock } from '../ports/clock.js';
import { createMessageHandler, type MessageHandler } from './handler.js';
import { createSweep, type Sweep, type SweepResult } from './sweeper.js';
import { createAnnouncer } from '../ports/announcer.js';
import type { Queue } from '../ports/queue.js';
import { deliveryRetryDelay, webhookTargets } from '../core/webhooks.js';
import { createDeliveryHandler, receiverLookup } from './deliveries.js';

// The few fields of the Lambda SQS event this handler reads (a local type, not @types/aws-lambda).
export interface SQSRecord {
  messageId: string;
  receiptHandle?: string;
  body: string;
  attributes?: { ApproximateReceiveCount?: string };
  eventSourceARN?: string;
}
export interface SQSEvent {
  Records: SQSRecord[];
}
export interface SQSBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}
/** A scheduled invocation (EventBridge): runs the retention sweep. */
export interface ScheduledEvent {
  source: 'aws.events' | 'aws.scheduler';
  'detail-type'?: string;
}
export type LambdaEvent = SQSEvent | ScheduledEvent;

const isScheduled = (e: LambdaEvent): e is ScheduledEvent =>
  !('Records' in e) && ((e as ScheduledEvent).source === 'aws.events' || (e as ScheduledEvent).source === 'aws.scheduler');

export interface LambdaDeliveries {
  /** Whether a record comes from the deliveries queue (by its eventSourceARN). */
  isDelivery: (record: SQSRecord) => boolean;
  handle: MessageHandler;
  /** Sets a failed delivery's next delay. */
  queue: Pick<Queue, 'setVisibility'>;
  schedule: number[];
}

export function createLambdaHandler(opts: { handle: MessageHandler; log: Logger; concurrency: number; sweep?: Sweep; deliveries?: LambdaDeliveries }) {
  async function handleEvent(event: ScheduledEvent): Promise<SweepResult>;
  async function handleEvent(event: SQSEvent): Promise<SQSBatchResponse>;
  async function handleEvent(event: LambdaEvent): Promise<SQSBatchResponse | SweepResult>;
  async function handleEvent(event: LambdaEvent): Promise<SQSBatchResponse | SweepResult> {
    if (isScheduled(event)) {
      if (!opts.sweep) throw new Error('scheduled invocation, but this handler has no sweep');
      const result = await opts.sweep();
      opts.log.info(result, 'sweep done');
      return result;
    }
    const records = event.Records ?? [];
    const failures: { itemIdentifier: string }[] = [];
    let next = 0;
    // A fixed number of lanes pull records in turn: at most `concurrency` decodes at once.
    const lane = async () => {
      for (let i = next++; i < records.length; i = next++) {
        const record = records[i]!;
        let outcome;
        const delivery = opts.deliveries?.isDelivery(record) ? opts.deliveries : undefined;
        try {
          outcome = await (delivery ? delivery.handle : opts.handle)(record.body);
        } catch (e) {
          outcome = { outcome: 'retry' as const, reason: `handler threw: ${(e as Error)?.message ?? String(e)}` };
        }
        const fields = { messageId: record.messageId, receiveCount: record.attributes?.ApproximateReceiveCount, ...outcome };
        if (outcome.outcome === 'retry') {
          opts.log.warn(fields, 'message left for retry');
          failures.push({ itemIdentifier: record.messageId });
          if (delivery && record.receiptHandle) {
            const seconds = deliveryRetryDelay(Number(record.attributes?.ApproximateReceiveCount ?? 1), delivery.schedule);
            await delivery.queue.setVisibility([{ receipt: record.receiptHandle, seconds }]).catch((err: unknown) => {
              opts.log.warn({ err, messageId: record.messageId }, 'could not set the delivery retry delay');
            });
          }
        } else {
          opts.log.info(fields, 'message handled');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, records.length)) }, lane));
    return { batchItemFailures: failures };
  }
  return handleEvent;
}

let fromEnvironment: ReturnType<typeof createLambdaHandler> | undefined;

/** Built on the first invocation and kept for the container's life (one set of clients). */
export async function handler(event: LambdaEvent): Promise<SQSBatchResponse | SweepResult> {
  if (!fromEnvironment) {
    const config = loadConfig();
    const log = pino({ level: config.LOG_LEVEL, base: { proc: 'worker-lambda' } });
    const { store, deliveries } = createAwsAdapters(config);
    const manifests = createManifestRepo(store);
    const webhooksOfKey = webhooksForKey(config);
    const announce = createAnnouncer({ queue: deliveries, targetsFor: webhookTargets(config.webhooks, webhooksOfKey), publicUrl: config.publicUrl });
    const handle = createMessageHandler({ store, manifests, config, log, clock: systemClock, announce });
    const sweep = createSweep({ store, manifests, clock: systemClock, log: log.child({ part: 'sweep' }), announce });
    const deliver = createDeliveryHandler({
      manifests,
      receiver: receiverLookup(config.webhooks, webhooksOfKey),
      requeue: (body, delaySeconds) => deliveries.send(body, { delaySeconds }),
      timeoutMs: config.DROPSHIP_WEBHOOK_TIMEOUT_MS,
      clock: systemClock,
      log: log.child({ part: 'deliveries' }),
    });
    fromEnvironment = createLambdaHandler({
      handle,
      log,
      concurrency: config.DROPSHIP_WORKER_CONCURRENCY,
      sweep,
      deliveries: {
        isDelivery: (r) => r.eventSourceARN?.split(':').pop() === config.DROPSHIP_DELIVERIES_QUEUE_NAME,
        handle: deliver,
        queue: deliveries,
        schedule: config.webhookRetrySchedule,
      },
    });
  }
  return fromEnvironment(event);
}
