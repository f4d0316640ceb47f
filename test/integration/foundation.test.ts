/**
 * The foundation against the real emulator: provisioning is idempotent, the app's signer
 * makes URLs S3 accepts only for the signed length, and the bucket notification delivers
 * exactly one message for an original and none for a thumbnail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PurgeQueueCommand, ReceiveMessageCommand, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import { provision, provisionOptions } from '../../src/aws/provision.js';
import { createSigner, credentialsOf } from '../../src/aws/signer.js';
import { destroyAwsClients } from '../../src/aws/clients.js';
import { decodeS3Key } from '../../src/core/events.js';
import { newDropId } from '../../src/core/ids.js';
import { queueUrl, testAws, testConfig } from '../support/env.js';

const config = testConfig();
const aws = testAws(config);
const signer = createSigner({
  bucket: config.DROPSHIP_BUCKET,
  region: config.AWS_REGION,
  endpoint: config.AWS_ENDPOINT_URL || undefined,
  pathStyle: config.s3PathStyle,
  credentials: credentialsOf(aws.s3),
  s3: aws.s3,
});

async function drain(ms: number): Promise<{ key: string; eventName: string }[]> {
  const found: { key: string; eventName: string }[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const r = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl(), MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const m of r.Messages ?? []) {
      const body = JSON.parse(m.Body ?? '{}') as { Records?: { eventName: string; s3: { object: { key: string } } }[] };
      for (const rec of body.Records ?? []) found.push({ key: decodeS3Key(rec.s3.object.key) ?? `undecodable:${rec.s3.object.key}`, eventName: rec.eventName });
    }
    if (r.Messages?.length) {
      await aws.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl(),
          Entries: r.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }
  return found;
}

beforeAll(async () => {
  await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl() }));
});
afterAll(() => destroyAwsClients(aws));

describe('provisioning', () => {
  it('is idempotent: a second run changes nothing', async () => {
    const first = await provision(aws, provisionOptions(config));
    const second = await provision(aws, provisionOptions(config));
    expect(second.changed).toEqual([]);
    expect(second.queueUrl).toBe(first.queueUrl);
  });
});

describe('presigned PUT from the app signer', () => {
  it('is accepted with the signed Content-Length and refused (403) with another', async () => {
    const key = `drops/${newDropId()}/original`;
    const body = randomBytes(1000);
    const { url } = await signer.signPut({ key, contentLength: body.length, expiresIn: 60 }, new Date());
    const ok = await fetch(url, { method: 'PUT', body });
    expect(ok.status).toBe(200);
    const bad = await fetch(url, { method: 'PUT', body: body.subarray(0, 999) });
    expect(bad.status).toBe(403);
    const tampered = await fetch(url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604800'), { method: 'PUT', body });
    expect(tampered.status).toBe(403);
  });
});

describe('bucket notification', () => {
  it('delivers exactly one ObjectCreated message per original, with the key decodable', async () => {
    await drain(1500);
    const key = `drops/my photo+1 (ü)/original`;
    await aws.s3.send(new PutObjectCommand({ Bucket: config.DROPSHIP_BUCKET, Key: key, Body: 'x' }));
    const thumb = `drops/${newDropId()}/thumb-256.webp`;
    await aws.s3.send(new PutObjectCommand({ Bucket: config.DROPSHIP_BUCKET, Key: thumb, Body: 'x' }));
    await aws.s3.send(
      new PutObjectCommand({ Bucket: config.DROPSHIP_BUCKET, Key: `drops/${newDropId()}/manifest.json`, Body: '{}' }),
    );
    const got = await drain(6000);
    expect(got).toHaveLength(1);
    expect(got[0]!.key).toBe(key);
    expect(got[0]!.eventName).toMatch(/^ObjectCreated:/);
  });
});
