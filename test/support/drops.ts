/**
 * Drops made the way the api makes them, without the api: a manifest written with
 * newManifest + ManifestRepo.create, then the bytes PUT to drops/{id}/original, so the real
 * bucket notification puts the real event on the real queue.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import pino from 'pino';
import type { Config } from '../../src/config.js';
import type { AwsClients } from '../../src/aws/clients.js';
import { createObjectStore } from '../../src/aws/store.js';
import { testManifests, type TestManifests } from './manifests.js';
import { hashOwnerToken, newDropId, newOwnerToken } from '../../src/core/ids.js';
import { dropKeys } from '../../src/core/layout.js';
import { newManifest, type DropStatus, type Manifest } from '../../src/core/manifest.js';
import { planUpload } from '../../src/core/parts.js';
import { eventually } from './env.js';

export interface DropKit {
  config: Config;
  aws: AwsClients;
  manifests: TestManifests;
  /** Writes a manifest (status uploading) for `bytes`; `size` overrides the announced size. */
  announce(bytes: Buffer, opts?: { name?: string; type?: string; size?: number }): Promise<string>;
  /** PUTs the original, which makes S3 send the event. */
  upload(id: string, bytes: Buffer, contentType?: string): Promise<void>;
  /** announce + upload. */
  drop(bytes: Buffer, opts?: { name?: string; type?: string; size?: number }): Promise<string>;
  /** Waits for the drop's manifest to reach one of `statuses`. */
  until(id: string, statuses: DropStatus[], ms?: number): Promise<Manifest>;
  /**
   * The same for many drops, polling them one after the other: fifty concurrent 50 ms polls
   * would load the emulator more than the worker under test does.
   */
  untilAll(ids: string[], statuses: DropStatus[], ms?: number): Promise<Manifest[]>;
  exists(key: string): Promise<boolean>;
  get(key: string): Promise<Buffer>;
  lastModified(key: string): Promise<string>;
}

export function dropKit(config: Config, aws: AwsClients): DropKit {
  const store = createObjectStore(aws.s3, config.DROPSHIP_BUCKET);
  const manifests = testManifests(store);
  const Bucket = config.DROPSHIP_BUCKET;

  const announce: DropKit['announce'] = async (bytes, opts = {}) => {
    const id = newDropId();
    const size = opts.size ?? bytes.length;
    const plan = planUpload(size);
    const now = new Date();
    await manifests.create(
      newManifest({
        id,
        name: opts.name ?? 'file.bin',
        size,
        type: opts.type ?? 'application/octet-stream',
        ownerTokenHash: hashOwnerToken(newOwnerToken()),
        upload: { mode: 'single', partSize: plan.partSize, partCount: 1 },
        source: 'ticket',
        now,
        expiresAt: new Date(now.getTime() + 3600_000),
      }),
    );
    return id;
  };
  const upload: DropKit['upload'] = async (id, bytes, contentType = 'application/octet-stream') => {
    await aws.s3.send(new PutObjectCommand({ Bucket, Key: dropKeys(id).original, Body: bytes, ContentType: contentType }));
  };
  return {
    config,
    aws,
    manifests,
    announce,
    upload,
    async drop(bytes, opts = {}) {
      const id = await announce(bytes, opts);
      await upload(id, bytes, opts.type);
      return id;
    },
    until: (id, statuses, ms = 10_000) =>
      eventually(async () => {
        const r = await manifests.get(id);
        return r && statuses.includes(r.manifest.status) ? r.manifest : undefined;
      }, ms, 50),
    async untilAll(ids, statuses, ms = 30_000) {
      const found = new Map<string, Manifest>();
      await eventually(async () => {
        for (const id of ids) {
          if (found.has(id)) continue;
          const r = await manifests.get(id);
          if (r && statuses.includes(r.manifest.status)) found.set(id, r.manifest);
        }
        return found.size === ids.length || undefined;
      }, ms, 250);
      return ids.map((id) => found.get(id)!);
    },
    async exists(key) {
      try {
        await aws.s3.send(new HeadObjectCommand({ Bucket, Key: key }));
        return true;
      } catch (e) {
        if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
        throw e;
      }
    },
    async get(key) {
      const r = await aws.s3.send(new GetObjectCommand({ Bucket, Key: key }));
      return Buffer.from(await r.Body!.transformToByteArray());
    },
    async lastModified(key) {
      const r = await aws.s3.send(new HeadObjectCommand({ Bucket, Key: key }));
      return `${r.LastModified?.toISOString()} ${r.ETag}`;
    },
  };
}

/**
 * Empties a queue. PurgeQueue may be refused (real SQS allows one per 60 s) — then the
 * messages are received and deleted until the queue stays empty for a moment.
 */
export async function emptyQueue(aws: AwsClients, url: string): Promise<void> {
  try {
    await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
  } catch {
    // fall through to draining
  }
  for (let quiet = 0; quiet < 2; ) {
    const r = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 30 }),
    );
    const messages = r.Messages ?? [];
    if (!messages.length) {
      quiet++;
      continue;
    }
    quiet = 0;
    await aws.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

export async function queueDepth(aws: AwsClients, url: string): Promise<{ visible: number; inFlight: number }> {
  const r = await aws.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(r.Attributes?.ApproximateNumberOfMessages ?? NaN),
    inFlight: Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? NaN),
  };
}

/** The logger the in-process workers get: quiet unless LOG_LEVEL says otherwise. */
export const testLog = (config: Config) => pino({ level: config.LOG_LEVEL, base: { proc: 'test-worker' } });
