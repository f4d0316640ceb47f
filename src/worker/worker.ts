/**
 * The SQS consumer (bbc/sqs-consumer): long polling, batches of up to 10 handled
 * concurrently, a visibility heartbeat for long jobs, deletes only what the handler
 * acknowledged, and a stop that waits for in-flight messages.
 */
import { Consumer } from 'sqs-consumer';
import type { Message } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { AwsClients } from '../aws/clients.js';
import { parseS3EventMessage } from '../core/events.js';

export interface RunningWorker {
  stop(): Promise<void>;
}

export function startWorker(opts: { config: Config; aws: AwsClients; queueUrl: string; log: Logger }): RunningWorker {
  const { log } = opts;
  const consumer = Consumer.create({
    queueUrl: opts.queueUrl,
    sqs: opts.aws.sqs,
    batchSize: Math.min(10, opts.config.DROPSHIP_WORKER_CONCURRENCY),
    waitTimeSeconds: 20,
    visibilityTimeout: 60,
    heartbeatInterval: 20,
    pollingCompleteWaitTimeMs: 25_000,
    handleMessage: async (message: Message) => {
      const parsed = parseS3EventMessage(message.Body ?? '');
      log.info({ messageId: message.MessageId, kind: parsed.kind }, 'message');
      return message;
    },
  });
  consumer.on('error', (err) => log.error({ err }, 'consumer error'));
  consumer.on('processing_error', (err) => log.error({ err }, 'processing error'));
  consumer.start();
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        consumer.once('stopped', () => resolve());
        consumer.stop({ abort: false });
      }),
  };
}
