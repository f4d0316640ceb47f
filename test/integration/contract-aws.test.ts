/** The port contracts (test/contract/) against the AWS adapters on the emulator: S3 and SQS as the product uses them. */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createAwsAdapters } from '../../src/aws/adapters.js';
import { createQueue } from '../../src/aws/queue.js';
import { objectStoreContract } from '../contract/object-store.js';
import { queueContract } from '../contract/queue.js';
import { signerContract } from '../contract/signer.js';
import { testConfig } from '../support/env.js';

const config = testConfig();
const aws = createAwsAdapters(config);
const queues: string[] = [];
afterAll(async () => {
  for (const QueueUrl of queues) await aws.clients.sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {});
  aws.close();
});

objectStoreContract('S3 (emulator)', { store: () => aws.store, prefix: `contract/${randomUUID()}/` });

queueContract('SQS (emulator)', {
  async queue() {
    const name = `dropship-contract-${randomUUID()}`;
    const { QueueUrl } = await aws.clients.sqs.send(new CreateQueueCommand({ QueueName: name }));
    queues.push(QueueUrl!);
    return {
      queue: createQueue(aws.clients.sqs, { url: QueueUrl!, name }),
      send: async (body) => void (await aws.clients.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }))),
    };
  },
  async queueWithDeadLetter(maxReceiveCount) {
    const name = `dropship-contract-${randomUUID()}`;
    const dlq = (await aws.clients.sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
    queues.push(dlq);
    const arn = (await aws.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const { QueueUrl } = await aws.clients.sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount }) },
      }),
    );
    queues.push(QueueUrl!);
    return { queue: createQueue(aws.clients.sqs, { url: QueueUrl!, name }), deadLetter: createQueue(aws.clients.sqs, { url: dlq, name: `${name}-dlq` }) };
  },
});

signerContract('SigV4 on S3 (emulator)', {
  signer: () => aws.signer,
  key: () => `contract/${randomUUID()}/original`,
  async send(method, url, body, headers = {}) {
    const r = await fetch(url, { method, headers, ...(body ? { body: body as Uint8Array<ArrayBuffer> } : {}) });
    const bytes = Buffer.from(await r.arrayBuffer());
    return { status: r.status, body: bytes, headers: Object.fromEntries(r.headers) };
  },
});

describe('the S3 adapter', () => {
  it('writes an empty object (an index entry) without the SDK warning about a body of unknown length', async () => {
    // Every ticket writes two empty index objects; a warning per write floods the log and costs CPU.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const key = `contract/${randomUUID()}/empty`;
      await aws.store.put(key, '', { contentType: 'application/octet-stream', tags: { retention: 'x' } });
      await aws.store.put(`${key}-buffer`, Buffer.alloc(0), { contentType: 'application/octet-stream' });
      expect((await aws.store.getText(key))?.text).toBe('');
      expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([]);
      await aws.store.deleteKeys([key, `${key}-buffer`]);
    } finally {
      warn.mockRestore();
    }
  });
});
