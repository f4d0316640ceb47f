/**
 * The one source of dropship's IAM: which actions each role needs, on which resource, and why.
 *
 * The CDK stack (deploy/stack.ts) attaches exactly these statements to the api's task role and
 * the worker's role; `npm run docs:iam` writes the IAM section of docs/operations.md from them;
 * test/unit/deploy-permissions.test.ts checks every AWS SDK command src/aws sends against
 * SDK_COMMANDS and these grants (a command a role's code sends must be granted to that role,
 * or listed in NOT_SENT with the reason it never is).
 *
 * Only this file's plain data is shared: it imports nothing, so the docs script and the tests
 * need no CDK.
 */

export type Role = 'api' | 'worker' | 'provisioning';

/** What an action applies to; `policyDocument` turns each into ARNs. */
export type ResourceKind =
  /** the bucket itself: listing, multipart listing, bucket configuration */
  | 'bucket'
  /** the objects dropship writes: `drops/*` and `index/*` */
  | 'objects'
  | 'eventsQueue'
  | 'eventsDlq'
  | 'deliveriesQueue'
  | 'deliveriesDlq';

export interface Grant {
  actions: string[];
  resources: ResourceKind[];
  why: string;
}

export const ROLES: Role[] = ['api', 'worker', 'provisioning'];

export const PERMISSIONS: Record<Role, Grant[]> = {
  api: [
    {
      actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject', 's3:PutObjectTagging', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: ['objects'],
      why: 'manifests and index markers (written with their retention tags), multipart uploads, the curl streaming route, deletes; and the presigned part, single-PUT, POST and download URLs, which S3 checks against the signer — the api',
    },
    {
      actions: ['s3:ListBucket'],
      resources: ['bucket'],
      why: 'listings (`GET /v1/drops`), the readiness probe (HeadBucket), and telling a missing key from a forbidden one (without it S3 answers 403 for a missing key)',
    },
    { actions: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes'], resources: ['eventsQueue'], why: 'the readiness probe' },
    { actions: ['sqs:SendMessage', 'sqs:GetQueueUrl'], resources: ['deliveriesQueue'], why: 'webhook deliveries of `drop.deleted`' },
  ],
  worker: [
    {
      actions: ['s3:GetObject', 's3:GetObjectTagging', 's3:PutObject', 's3:PutObjectTagging', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resources: ['objects'],
      why: 'reading originals and manifests, copying a POSTed upload into place (a copy carries the source\'s tags), thumbnails, retention tags, the sweep\'s deletes and aborts',
    },
    {
      actions: ['s3:ListBucket'],
      resources: ['bucket'],
      why: 'the sweep lists `index/expiry/`; and without it S3 answers 403 for a missing key, so an event for a drop deleted since would look like a failure and retry into the DLQ',
    },
    {
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes'],
      resources: ['eventsQueue'],
      why: 'consuming the S3 events (the visibility heartbeat while a job runs)',
    },
    {
      actions: ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes'],
      resources: ['deliveriesQueue'],
      why: 'sending `drop.ready`, `drop.failed`, `drop.expired`; consuming the deliveries and delaying retries',
    },
    { actions: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes'], resources: ['deliveriesDlq'], why: 'logging the deliveries DLQ\'s depth' },
  ],
  provisioning: [
    {
      actions: [
        's3:CreateBucket',
        's3:ListBucket',
        's3:PutBucketCORS',
        's3:GetBucketCORS',
        's3:PutLifecycleConfiguration',
        's3:GetLifecycleConfiguration',
        's3:PutBucketNotification',
        's3:GetBucketNotification',
        's3:PutBucketPublicAccessBlock',
        's3:GetBucketPublicAccessBlock',
      ],
      resources: ['bucket'],
      why: '`npm run provision`: the bucket and its settings (HeadBucket is s3:ListBucket)',
    },
    {
      actions: ['sqs:CreateQueue', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes', 'sqs:SetQueueAttributes'],
      resources: ['eventsQueue', 'eventsDlq', 'deliveriesQueue', 'deliveriesDlq'],
      why: '`npm run provision`: the four queues and their attributes',
    },
  ],
};

/**
 * Every AWS SDK command src/aws sends, with the IAM actions S3/SQS check for it (presigned
 * requests count as the command they sign). A command src/aws sends that is missing here fails
 * test/unit/deploy-permissions.test.ts.
 */
export const SDK_COMMANDS: Record<string, string[]> = {
  AbortMultipartUpload: ['s3:AbortMultipartUpload'],
  CompleteMultipartUpload: ['s3:PutObject'],
  // A copy carries the source's tags: S3 checks tag read and write too when it has any.
  CopyObject: ['s3:GetObject', 's3:GetObjectTagging', 's3:PutObject', 's3:PutObjectTagging'],
  CreateBucket: ['s3:CreateBucket'],
  CreateMultipartUpload: ['s3:PutObject'],
  DeleteObjects: ['s3:DeleteObject'],
  GetBucketCors: ['s3:GetBucketCORS'],
  GetBucketLifecycleConfiguration: ['s3:GetLifecycleConfiguration'],
  GetBucketNotificationConfiguration: ['s3:GetBucketNotification'],
  GetObject: ['s3:GetObject'],
  GetObjectTagging: ['s3:GetObjectTagging'],
  GetPublicAccessBlock: ['s3:GetBucketPublicAccessBlock'],
  HeadBucket: ['s3:ListBucket'],
  HeadObject: ['s3:GetObject'],
  ListMultipartUploads: ['s3:ListBucketMultipartUploads'],
  ListObjectsV2: ['s3:ListBucket'],
  ListParts: ['s3:ListMultipartUploadParts'],
  PutBucketCors: ['s3:PutBucketCORS'],
  PutBucketLifecycleConfiguration: ['s3:PutLifecycleConfiguration'],
  PutBucketNotificationConfiguration: ['s3:PutBucketNotification'],
  PutObject: ['s3:PutObject', 's3:PutObjectTagging'],
  PutObjectTagging: ['s3:PutObjectTagging'],
  PutPublicAccessBlock: ['s3:PutBucketPublicAccessBlock'],
  UploadPart: ['s3:PutObject'],
  ChangeMessageVisibilityBatch: ['sqs:ChangeMessageVisibility'],
  CreateQueue: ['sqs:CreateQueue'],
  DeleteMessageBatch: ['sqs:DeleteMessage'],
  GetQueueAttributes: ['sqs:GetQueueAttributes'],
  GetQueueUrl: ['sqs:GetQueueUrl'],
  ReceiveMessage: ['sqs:ReceiveMessage'],
  SendMessage: ['sqs:SendMessage'],
  SetQueueAttributes: ['sqs:SetQueueAttributes'],
};

/** Which src/aws files each role's process runs (their SDK commands must be granted to it). */
export const MODULES_OF: Record<Role, string[]> = {
  api: ['src/aws/store.ts', 'src/aws/queue.ts', 'src/aws/signer.ts'],
  worker: ['src/aws/store.ts', 'src/aws/queue.ts'],
  provisioning: ['src/aws/provision.ts'],
};

/**
 * Commands in a role's modules that its code never sends, each with the reason — the only way
 * a role may lack a command's actions. (PutObject's s3:PutObjectTagging is needed only with
 * `Tagging`; both roles write tagged objects, so both have it.)
 */
export const NOT_SENT: Record<Role, Record<string, string>> = {
  api: {
    CopyObject: 'only the worker copies (a POSTed upload into place)',
    GetObjectTagging: 'no code reads tags back (the store offers it for tests)',
    ListMultipartUploads: 'no code lists multipart uploads (the store offers it for tests)',
    PutObjectTagging: 'only the worker re-tags an existing object (the api tags what it writes: s3:PutObjectTagging is granted for PutObject)',
    ReceiveMessage: 'the api consumes no queue',
    DeleteMessageBatch: 'the api consumes no queue',
    ChangeMessageVisibilityBatch: 'the api consumes no queue',
  },
  worker: {
    CreateMultipartUpload: 'only the api starts uploads',
    ListParts: 'only the api lists an upload\'s parts',
    UploadPart: 'only the api uploads parts (the curl streaming route)',
    CompleteMultipartUpload: 'only the api completes uploads',
    ListMultipartUploads: 'no code lists multipart uploads (the store offers it for tests)',
    HeadBucket: 'only the api\'s readiness probe sends it (s3:ListBucket is granted anyway)',
  },
  provisioning: {},
};

export type Arns = Record<ResourceKind, string[]>;

/** The ARNs docs/operations.md writes, with placeholders to replace. */
export const PLACEHOLDER_ARNS: Arns = {
  bucket: ['arn:aws:s3:::BUCKET'],
  objects: ['arn:aws:s3:::BUCKET/drops/*', 'arn:aws:s3:::BUCKET/index/*'],
  eventsQueue: ['arn:aws:sqs:REGION:ACCOUNT:QUEUE'],
  eventsDlq: ['arn:aws:sqs:REGION:ACCOUNT:QUEUE-dlq'],
  deliveriesQueue: ['arn:aws:sqs:REGION:ACCOUNT:DELIVERIES'],
  deliveriesDlq: ['arn:aws:sqs:REGION:ACCOUNT:DELIVERIES-dlq'],
};

export interface Statement {
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
}

/** A role's statements, one per grant, over the given ARNs (placeholders or CloudFormation tokens). */
export function statements(role: Role, arns: Arns): Statement[] {
  return PERMISSIONS[role].map((g) => ({
    Effect: 'Allow',
    Action: [...g.actions],
    Resource: g.resources.flatMap((r) => arns[r]),
  }));
}

export function policyDocument(role: Role, arns: Arns) {
  return { Version: '2012-10-17', Statement: statements(role, arns) };
}

/** Every action a role has on a resource kind. */
export function actionsOn(role: Role, kind: ResourceKind): Set<string> {
  return new Set(PERMISSIONS[role].filter((g) => g.resources.includes(kind)).flatMap((g) => g.actions));
}

/**
 * The Signer port's methods (src/aws/signer.ts) and the requests their URLs carry: S3 checks a
 * presigned request against the signer's — the api's — permissions.
 */
export const PRESIGNED: Record<string, string[]> = {
  signPut: ['PutObject', 'UploadPart'],
  signGet: ['GetObject'],
  signPost: ['PutObject'],
};

const ROLE_TITLES: Record<Role, string> = {
  api: 'api (the ECS task role, instance profile or user of `npm start`)',
  worker: 'worker (the Lambda function\'s or worker task\'s role)',
  provisioning: 'provisioning (a deploy role for `npm run provision`, not the running services; a CDK deployment needs none — CloudFormation creates the resources)',
};

/** The IAM section of docs/operations.md (between its `iam:begin` and `iam:end` markers), made by `npm run docs:iam`. */
export function renderIamSection(): string {
  const out: string[] = [];
  for (const role of ROLES) {
    out.push(`${ROLE_TITLES[role]}:`, '```json', '{ "Version": "2012-10-17", "Statement": [');
    const st = statements(role, PLACEHOLDER_ARNS);
    st.forEach((s, i) => {
      const json = JSON.stringify(s).replace(/,"/g, ', "').replace(/":/g, '": ').replace(/^\{/, '{ ').replace(/\}$/, ' }');
      out.push(`  ${json}${i < st.length - 1 ? ',' : ''}`);
    });
    out.push('] }', '```', '', '| actions | on | why |', '|---|---|---|');
    for (const g of PERMISSIONS[role]) {
      out.push(`| ${g.actions.map((a) => `\`${a}\``).join(', ')} | ${g.resources.join(', ')} | ${g.why} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

export const IAM_BEGIN = '<!-- iam:begin (generated from deploy/permissions.ts by `npm run docs:iam`; edit that file, not this section) -->';
export const IAM_END = '<!-- iam:end -->';

/** The document with its IAM section replaced by the generated one. */
export function withIamSection(doc: string): string {
  const a = doc.indexOf(IAM_BEGIN);
  const b = doc.indexOf(IAM_END);
  if (a < 0 || b < a) throw new Error('docs/operations.md has no iam:begin … iam:end markers');
  return `${doc.slice(0, a + IAM_BEGIN.length)}\n${renderIamSection()}${doc.slice(b)}`;
}
