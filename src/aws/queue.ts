/**
 * The Queue port (src/ports/queue.ts) over SQS. The queue URL comes from configuration or
 * is looked up by name once (and looked up again after a failed lookup).
 *
 * IAM (worker): sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility,
 * sqs:GetQueueUrl, and on the deliveries queues sqs:SendMessage and sqs:GetQueueAttributes
 * (the DLQ's depth); api: sqs:GetQueueAttributes, sqs:GetQueueUrl (readiness), and
 * sqs:SendMessage on the deliveries queue (drop.deleted).
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Queue } from '../ports/queue.js';

const SQS_MAX_BATCH = 10;

export function createQueue(sqs: SQSClient, where: { url?: string; name: string }): Queue & { url(): Promise<string> } {
  let url: Promise<string> | undefined = where.url ? Promise.resolve(where.url) : undefined;
  const queueUrl = () => {
    url ??= sqs.send(new GetQueueUrlCommand({ QueueName: where.name })).then((r) => {
      if (!r.QueueUrl) throw new Error(`queue ${where.name} not found`);
      return r.QueueUrl;
    });
    url.catch(() => (url = undefined));
    return url;
  };

  /** Runs `batch` over groups of at most 10 entries; collects the ids SQS reports as failed. */
  async function batched<T>(items: T[], send: (group: T[], ids: string[]) => Promise<{ Failed?: { Id?: string }[] }>) {
    const failed: T[] = [];
    for (let i = 0; i < items.length; i += SQS_MAX_BATCH) {
      const group = items.slice(i, i + SQS_MAX_BATCH);
      const ids = group.map((_, j) => String(j));
      const r = await send(group, ids);
      for (const f of r.Failed ?? []) failed.push(group[Number(f.Id)]!);
    }
    return failed;
  }

  return {
    url: queueUrl,

    async receive({ max, waitSeconds, visibilitySeconds, signal }) {
      const r = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: await queueUrl(),
          MaxNumberOfMessages: Math.min(SQS_MAX_BATCH, max),
          WaitTimeSeconds: waitSeconds,
          VisibilityTimeout: visibilitySeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
        signal ? { abortSignal: signal } : {},
      );
      return (r.Messages ?? []).map((m) => ({
        id: m.MessageId ?? '',
        receipt: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
      }));
    },

    async delete(receipts) {
      const QueueUrl = await queueUrl();
      return batched(receipts, (group, ids) =>
        sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: group.map((ReceiptHandle, j) => ({ Id: ids[j]!, ReceiptHandle })) })),
      );
    },

    async setVisibility(entries) {
      const QueueUrl = await queueUrl();
      const failed = await batched(entries, (group, ids) =>
        sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl,
            Entries: group.map((e, j) => ({ Id: ids[j]!, ReceiptHandle: e.receipt, VisibilityTimeout: e.seconds })),
          }),
        ),
      );
      return failed.map((e) => e.receipt);
    },

    async send(body, opts = {}) {
      const r = await sqs.send(
        new SendMessageCommand({ QueueUrl: await queueUrl(), MessageBody: body, ...(opts.delaySeconds ? { DelaySeconds: opts.delaySeconds } : {}) }),
      );
      return r.MessageId ?? '';
    },

    async size() {
      const r = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: await queueUrl(),
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
        }),
      );
      const a = r.Attributes ?? {};
      return (
        Number(a.ApproximateNumberOfMessages ?? 0) +
        Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
        Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
      );
    },

    async probe(signal) {
      await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: await queueUrl(), AttributeNames: ['QueueArn'] }),
        signal ? { abortSignal: signal } : {},
      );
    },
  };
}
