/**
 * The handler as AWS Lambda runs it: the real S3 events, taken off the real queue and shaped
 * as the SQS event Lambda's event source mapping passes, go through the exported `handler`
 * (configured from the environment, as in a function). Failures come back as
 * batchItemFailures, so with ReportBatchItemFailures only they are retried.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { destroyAwsClients } from '../../src/aws/clients.js';
import { dropKeys } from '../../src/core/layout.js';
import { handler, type SQSEvent } from '../../src/worker/lambda.js';
import { eventually, queueUrl, testAws, testConfig } from '../support/env.js';
import { TEST_ENV } from '../support/names.js';
import { dropKit, emptyQueue } from '../support/drops.js';
import { pngImage } from '../support/images.js';

const config = testConfig();
const aws = testAws(config);
const kit = dropKit(config, aws);
const savedEnv = { ...process.env };

beforeAll(async () => {
  await emptyQueue(aws, queueUrl());
  Object.assign(process.env, TEST_ENV, { AWS_ENDPOINT_URL: inject('awsEndpoint') });
});
afterAll(async () => {
  process.env = savedEnv;
  await emptyQueue(aws, queueUrl());
  destroyAwsClients(aws);
});

/** Receives until a message mentioning each id has been seen. */
async function receiveFor(ids: string[]): Promise<Message[]> {
  const got = new Map<string, Message>();
  await eventually(async () => {
    const r = await aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl(),
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    for (const m of r.Messages ?? []) {
      const id = ids.find((i) => m.Body?.includes(i));
      if (id) got.set(id, m);
    }
    return got.size === ids.length || undefined;
  }, 15_000);
  return ids.map((id) => got.get(id)!);
}

const asLambdaEvent = (messages: Message[]): SQSEvent => ({
  Records: messages.map((m) => ({
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body!,
    attributes: { ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1' },
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:dropship-test-events',
  })),
});

describe('lambda handler', () => {
  it('processes a batch and reports only the failed message in batchItemFailures', async () => {
    const good = await kit.drop(await pngImage(), { name: 'lambda.png', type: 'image/png' });
    const bytes = Buffer.from('bytes with a broken manifest');
    const broken = await kit.announce(bytes);
    await aws.s3.send(
      new PutObjectCommand({ Bucket: config.DROPSHIP_BUCKET, Key: dropKeys(broken).manifest, Body: '{"version":' }),
    );
    await kit.upload(broken, bytes);
    const [goodMessage, brokenMessage] = await receiveFor([good, broken]);

    const result = await handler(asLambdaEvent([goodMessage!, brokenMessage!]));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: brokenMessage!.MessageId }] });
    expect((await kit.manifests.get(good))!.manifest).toMatchObject({ status: 'ready', thumbnail: 'ready' });

    // Redelivered (as Lambda would after a visibility timeout), the done one changes nothing.
    const before = await kit.manifests.get(good);
    expect(await handler(asLambdaEvent([goodMessage!]))).toEqual({ batchItemFailures: [] });
    expect((await kit.manifests.get(good))!.etag).toBe(before!.etag);
  });
});
