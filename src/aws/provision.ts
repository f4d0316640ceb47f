/**
 * Idempotent provisioning of everything dropship needs in AWS (or an emulator). Over 300
 * lines because each resource is read before it is written, so a second run changes nothing:
 *
 *   bucket            private (public access blocked), CORS for the SPA's origins
 *                     (PUT/POST/GET/HEAD, If-None-Match allowed, ExposeHeaders ETag), lifecycle
 *                     rules: abort incomplete multipart uploads (not before DROPSHIP_TICKET_TTL)
 *                     and expire objects by their retention-class tag (lifecycleRules)
 *   queue + DLQ       redrive after 5 receives; a queue policy letting this bucket send
 *   deliveries + DLQ  webhook deliveries: redrive after the retry schedule's length + 1
 *                     receives, kept long enough for the whole schedule
 *   notification      s3:ObjectCreated:* for drops/ ... /original only, so thumbnails and
 *                     manifests never wake the worker
 *
 * Each step reads the current state and writes only what differs, so a second run changes
 * nothing and reports an empty change list. Other notification configurations on the
 * bucket are kept; ours is replaced by its Id.
 *
 * The IAM permissions it needs are the `provisioning` role's in deploy/permissions.ts (the one
 * source of dropship's IAM; docs/operations.md shows them). The CDK app in deploy/ creates the
 * same resources from the same settings (corsRules, lifecycleRules, QUEUE_DEFAULTS,
 * deliveriesRetention) without this code.
 */
import {
  CreateBucketCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketNotificationConfigurationCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutPublicAccessBlockCommand,
  type CORSRule,
  type LifecycleRule,
  type QueueConfiguration,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { isDeepStrictEqual } from 'node:util';
import { abortIncompleteDays, retentionRules } from '../core/retention.js';
import { deliveriesMaxReceiveCount } from '../core/webhooks.js';

export interface ProvisionOptions {
  bucket: string;
  queueName: string;
  dlqName: string;
  region: string;
  corsOrigins: string[];
  maxReceiveCount?: number;
  visibilityTimeout?: number;
  /** DROPSHIP_TICKET_TTL: incomplete multipart uploads are not aborted before it. */
  ticketTtl?: number;
  /** The webhook deliveries queue and its DLQ, and the retry schedule that sizes them. */
  deliveries?: { queueName: string; dlqName: string; retrySchedule: number[] };
}

export interface ProvisionResult {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
  deliveriesUrl?: string;
  deliveriesDlqUrl?: string;
  /** What this run created or changed; empty when everything was already in place. */
  changed: string[];
}

export const NOTIFICATION_ID = 'dropship-original-created';
export const ABORT_RULE_ID = 'dropship-abort-incomplete-multipart';
export const RETENTION_RULE_PREFIX = 'dropship-retention-';

/** The queue settings provisioning applies (and deploy/stack.ts too). */
export const QUEUE_DEFAULTS = {
  /** The events queue: the worker extends it while a job runs. */
  visibilityTimeout: 60,
  receiveWaitTime: 20,
  maxReceiveCount: 5,
  /** Both DLQs: SQS's most. */
  dlqRetention: 14 * 24 * 3600,
  deliveriesVisibilityTimeout: 30,
} as const;

const DAY = 24 * 3600;

/** How long the deliveries queue keeps a message: the whole retry schedule plus a day, at least 4 days (at most SQS's 14). */
export function deliveriesRetention(retrySchedule: readonly number[]): number {
  const total = retrySchedule.reduce((a, b) => a + b, 0);
  return Math.min(14 * DAY, Math.max(4 * DAY, total + DAY));
}

const errName = (e: unknown) => (e as { name?: string; Code?: string }).name ?? (e as { Code?: string }).Code ?? '';
const httpStatus = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

async function ensureBucket(s3: S3Client, o: ProvisionOptions, changed: string[]) {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: o.bucket }));
    return;
  } catch (e) {
    if (httpStatus(e) !== 404 && errName(e) !== 'NotFound' && errName(e) !== 'NoSuchBucket') throw e;
  }
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: o.bucket,
        ...(o.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: o.region as never } }),
      }),
    );
    changed.push(`bucket ${o.bucket} created`);
  } catch (e) {
    if (errName(e) !== 'BucketAlreadyOwnedByYou') throw e;
  }
}

async function ensurePublicAccessBlock(s3: S3Client, o: ProvisionOptions, changed: string[]) {
  const want = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
  let have: unknown;
  try {
    have = (await s3.send(new GetPublicAccessBlockCommand({ Bucket: o.bucket }))).PublicAccessBlockConfiguration;
  } catch (e) {
    if (errName(e) !== 'NoSuchPublicAccessBlockConfiguration' && httpStatus(e) !== 404) throw e;
  }
  if (isDeepStrictEqual(have, want)) return;
  await s3.send(new PutPublicAccessBlockCommand({ Bucket: o.bucket, PublicAccessBlockConfiguration: want }));
  changed.push('public access block set');
}

export function corsRules(origins: string[]): CORSRule[] {
  return [
    {
      AllowedOrigins: origins.length ? origins : ['*'],
      AllowedMethods: ['PUT', 'POST', 'GET', 'HEAD'],
      // if-none-match: the single-PUT URL signs `If-None-Match: *` (create only), so the
      // browser sends it and its preflight must be allowed.
      AllowedHeaders: ['content-type', 'content-length', 'content-md5', 'if-none-match', 'x-amz-checksum-*', 'x-amz-content-sha256', 'x-amz-date'],
      ExposeHeaders: ['ETag'],
      MaxAgeSeconds: 3600,
    },
  ];
}

const normCors = (rules: CORSRule[] | undefined) =>
  (rules ?? []).map((r) => ({
    AllowedOrigins: [...(r.AllowedOrigins ?? [])].sort(),
    AllowedMethods: [...(r.AllowedMethods ?? [])].sort(),
    AllowedHeaders: [...(r.AllowedHeaders ?? [])].map((h) => h.toLowerCase()).sort(),
    ExposeHeaders: [...(r.ExposeHeaders ?? [])].map((h) => h.toLowerCase()).sort(),
    MaxAgeSeconds: r.MaxAgeSeconds ?? null,
  }));

async function ensureCors(s3: S3Client, o: ProvisionOptions, changed: string[]) {
  const want = corsRules(o.corsOrigins);
  let have: CORSRule[] | undefined;
  try {
    have = (await s3.send(new GetBucketCorsCommand({ Bucket: o.bucket }))).CORSRules;
  } catch (e) {
    if (errName(e) !== 'NoSuchCORSConfiguration' && httpStatus(e) !== 404) throw e;
  }
  if (isDeepStrictEqual(normCors(have), normCors(want))) return;
  await s3.send(new PutBucketCorsCommand({ Bucket: o.bucket, CORSConfiguration: { CORSRules: want } }));
  changed.push('bucket CORS set');
}

/**
 * The bucket's lifecycle rules: abort incomplete multipart uploads, never before an upload's
 * deadline (DROPSHIP_TICKET_TTL, in S3's whole days), and one Expiration rule per retention
 * class (src/core/retention.ts) — a day-granular backstop to the worker's sweep that only ever
 * fires after the drops it matches have expired.
 */
export function lifecycleRules(ticketTtl: number): LifecycleRule[] {
  return [
    {
      ID: ABORT_RULE_ID,
      Status: 'Enabled',
      Filter: { Prefix: 'drops/' },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: abortIncompleteDays(ticketTtl) },
    },
    ...retentionRules().map(
      (r): LifecycleRule => ({
        ID: r.id,
        Status: 'Enabled',
        Filter: { Tag: { Key: r.tag.key, Value: r.tag.value } },
        Expiration: { Days: r.days },
      }),
    ),
  ];
}

/** What a rule does, for comparing ours with what S3 echoes back (which may add empty fields). */
const ruleShape = (r: LifecycleRule) => ({
  id: r.ID,
  status: r.Status,
  prefix: r.Filter?.Prefix ?? '',
  tag: r.Filter?.Tag ? `${r.Filter.Tag.Key}=${r.Filter.Tag.Value}` : '',
  abortDays: r.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
  expirationDays: r.Expiration?.Days,
});

const ours = (r: LifecycleRule) => r.ID === ABORT_RULE_ID || (r.ID ?? '').startsWith(RETENTION_RULE_PREFIX);

async function ensureLifecycle(s3: S3Client, o: ProvisionOptions, changed: string[]) {
  const wanted = lifecycleRules(o.ticketTtl ?? 24 * 3600);
  let rules: LifecycleRule[] = [];
  try {
    rules = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: o.bucket }))).Rules ?? [];
  } catch (e) {
    if (errName(e) !== 'NoSuchLifecycleConfiguration' && httpStatus(e) !== 404) throw e;
  }
  const byId = (a: { id?: string | undefined }, b: { id?: string | undefined }) => ((a.id ?? '') < (b.id ?? '') ? -1 : 1);
  const have = rules.filter(ours).map(ruleShape).sort(byId);
  if (isDeepStrictEqual(have, wanted.map(ruleShape).sort(byId))) return;
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: o.bucket,
      // Rules of others on the same bucket are kept.
      LifecycleConfiguration: { Rules: [...rules.filter((r) => !ours(r)), ...wanted] },
    }),
  );
  const days = wanted[0]!.AbortIncompleteMultipartUpload!.DaysAfterInitiation;
  changed.push(`lifecycle rules set (abort incomplete multipart uploads after ${days} days; ${wanted.length - 1} retention classes)`);
}

/** SQS echoes JSON attributes back with numbers sometimes as strings: compare leaf values as text. */
const normJson = (text: string): unknown =>
  JSON.parse(text, (_k, v: unknown) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v));

async function ensureQueue(
  sqs: SQSClient,
  name: string,
  attributes: Partial<Record<QueueAttributeName, string>>,
  changed: string[],
): Promise<{ url: string; arn: string }> {
  let url: string | undefined;
  try {
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (e) {
    if (!/NonExistentQueue|QueueDoesNotExist/.test(errName(e))) throw e;
  }
  if (!url) {
    url = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
    changed.push(`queue ${name} created`);
  } else {
    const have =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes ?? {};
    const diff = Object.fromEntries(
      Object.entries(attributes).filter(([k, v]) => {
        const h = (have as Record<string, string | undefined>)[k];
        if (k === 'Policy' || k === 'RedrivePolicy') return !h || !isDeepStrictEqual(normJson(h), normJson(v!));
        return h !== v;
      }),
    );
    if (Object.keys(diff).length) {
      await sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: diff }));
      changed.push(`queue ${name} attributes ${Object.keys(diff).join(', ')} set`);
    }
  }
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
    .Attributes?.QueueArn;
  if (!arn) throw new Error(`queue ${name} has no ARN`);
  return { url, arn };
}

async function ensureNotification(s3: S3Client, o: ProvisionOptions, queueArn: string, changed: string[]) {
  const ours: QueueConfiguration = {
    Id: NOTIFICATION_ID,
    QueueArn: queueArn,
    Events: ['s3:ObjectCreated:*'],
    Filter: {
      Key: {
        FilterRules: [
          { Name: 'prefix', Value: 'drops/' },
          { Name: 'suffix', Value: '/original' },
        ],
      },
    },
  };
  const have = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: o.bucket }));
  const existing = (have.QueueConfigurations ?? []).find((q) => q.Id === NOTIFICATION_ID);
  const norm = (q: QueueConfiguration | undefined) =>
    q && {
      arn: q.QueueArn,
      events: [...(q.Events ?? [])].sort(),
      rules: (q.Filter?.Key?.FilterRules ?? [])
        .map((r) => `${(r.Name ?? '').toLowerCase()}=${r.Value}`)
        .sort(),
    };
  if (isDeepStrictEqual(norm(existing), norm(ours))) return;
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: o.bucket,
      NotificationConfiguration: {
        QueueConfigurations: [...(have.QueueConfigurations ?? []).filter((q) => q.Id !== NOTIFICATION_ID), ours],
        ...(have.TopicConfigurations?.length ? { TopicConfigurations: have.TopicConfigurations } : {}),
        ...(have.LambdaFunctionConfigurations?.length
          ? { LambdaFunctionConfigurations: have.LambdaFunctionConfigurations }
          : {}),
        ...(have.EventBridgeConfiguration ? { EventBridgeConfiguration: have.EventBridgeConfiguration } : {}),
      },
    }),
  );
  changed.push('bucket notification (ObjectCreated drops/*/original -> queue) set');
}

export async function provision(clients: { s3: S3Client; sqs: SQSClient }, o: ProvisionOptions): Promise<ProvisionResult> {
  const changed: string[] = [];
  const { s3, sqs } = clients;
  await ensureBucket(s3, o, changed);
  await ensurePublicAccessBlock(s3, o, changed);
  await ensureCors(s3, o, changed);
  await ensureLifecycle(s3, o, changed);

  const dlq = await ensureQueue(sqs, o.dlqName, { MessageRetentionPeriod: String(QUEUE_DEFAULTS.dlqRetention) }, changed);
  const bucketArn = `arn:aws:s3:::${o.bucket}`;
  // The queue's own ARN is needed in its policy, so it is created first and then given it.
  const provisional = await ensureQueue(sqs, o.queueName, {}, changed);
  const queue = await ensureQueue(
    sqs,
    o.queueName,
    {
      VisibilityTimeout: String(o.visibilityTimeout ?? QUEUE_DEFAULTS.visibilityTimeout),
      ReceiveMessageWaitTimeSeconds: String(QUEUE_DEFAULTS.receiveWaitTime),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: o.maxReceiveCount ?? QUEUE_DEFAULTS.maxReceiveCount }),
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AllowBucketNotifications',
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: provisional.arn,
            Condition: { ArnLike: { 'aws:SourceArn': bucketArn } },
          },
        ],
      }),
    },
    changed,
  );
  await ensureNotification(s3, o, queue.arn, changed);
  const deliveries = o.deliveries ? await ensureDeliveries(sqs, o.deliveries, changed) : undefined;
  return {
    queueUrl: queue.url,
    queueArn: queue.arn,
    dlqUrl: dlq.url,
    dlqArn: dlq.arn,
    ...(deliveries ? { deliveriesUrl: deliveries.url, deliveriesDlqUrl: deliveries.dlqUrl } : {}),
    changed,
  };
}

/** The deliveries queue (kept for the whole schedule plus a day, at least 4 days) and its DLQ (14 days, SQS's most). */
async function ensureDeliveries(
  sqs: SQSClient,
  d: NonNullable<ProvisionOptions['deliveries']>,
  changed: string[],
): Promise<{ url: string; dlqUrl: string }> {
  const dlq = await ensureQueue(sqs, d.dlqName, { MessageRetentionPeriod: String(QUEUE_DEFAULTS.dlqRetention) }, changed);
  const retention = deliveriesRetention(d.retrySchedule);
  const q = await ensureQueue(
    sqs,
    d.queueName,
    {
      MessageRetentionPeriod: String(retention),
      VisibilityTimeout: String(QUEUE_DEFAULTS.deliveriesVisibilityTimeout),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: deliveriesMaxReceiveCount(d.retrySchedule) }),
    },
    changed,
  );
  return { url: q.url, dlqUrl: dlq.url };
}

/** The provisioning options a configuration implies. */
export function provisionOptions(config: {
  DROPSHIP_BUCKET: string;
  DROPSHIP_QUEUE_NAME: string;
  DROPSHIP_DLQ_NAME: string;
  AWS_REGION: string;
  DROPSHIP_TICKET_TTL: number;
  DROPSHIP_DELIVERIES_QUEUE_NAME: string;
  DROPSHIP_DELIVERIES_DLQ_NAME: string;
  webhookRetrySchedule: number[];
  corsOrigins: string[];
}): ProvisionOptions {
  return {
    bucket: config.DROPSHIP_BUCKET,
    queueName: config.DROPSHIP_QUEUE_NAME,
    dlqName: config.DROPSHIP_DLQ_NAME,
    region: config.AWS_REGION,
    corsOrigins: config.corsOrigins,
    ticketTtl: config.DROPSHIP_TICKET_TTL,
    deliveries: {
      queueName: config.DROPSHIP_DELIVERIES_QUEUE_NAME,
      dlqName: config.DROPSHIP_DELIVERIES_DLQ_NAME,
      retrySchedule: config.webhookRetrySchedule,
    },
  };
}
