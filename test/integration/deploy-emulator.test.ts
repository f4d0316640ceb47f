/**
 * The CDK stack's storage part deployed into the emulator's CloudFormation, then used: a drop
 * created through the api lands in the bucket CloudFormation made, the bucket's own
 * notification puts the S3 event on the events queue it made, and a worker on that queue
 * makes the drop ready.
 *
 * What the emulator (LocalStack 4.13.1, community, host mode) cannot do, exactly (also in
 * docs/deploy.md):
 * - The compute part does not deploy. CreateStack of the whole template fails at once with
 *   "Could not describe zones availability whilst evaluating Fn::GetAZs" (the VPC's subnets;
 *   the emulator runs without ec2). Enabling ec2 would not be enough: AWS::ECS::* and
 *   AWS::ElasticLoadBalancingV2::* have no provider in the community emulator, and an
 *   AWS::Lambda::Function runs only in Docker, which this machine has no engine for. The
 *   compute part is synthesized and checked in test/unit/deploy-stack*.test.ts and linted in
 *   deploy-cfn-lint.test.ts; the worker's Lambda handler is tested in worker-lambda.test.ts.
 * - The storage part deploys (CREATE_COMPLETE) and needs no custom resource (the notification
 *   is the bucket's own NotificationConfiguration, not CDK's Lambda-backed helper). But the
 *   emulator's AWS::S3::Bucket handler applies only NotificationConfiguration,
 *   CorsConfiguration, VersioningConfiguration, ObjectLockConfiguration, Tags and
 *   WebsiteConfiguration: it accepts LifecycleConfiguration, BucketEncryption,
 *   PublicAccessBlockConfiguration and OwnershipControls and applies none of them —
 *   GetBucketLifecycleConfiguration answers "NoSuchLifecycleConfiguration: The lifecycle
 *   configuration does not exist". Those are checked on the synthesized template
 *   (deploy-stack.test.ts); the public access block read back here is also what the emulator
 *   gives any new bucket. Nor does the emulator enforce the bucket's and queues' policies.
 */
import { BootstraplessSynthesizer } from 'aws-cdk-lib';
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  waitUntilStackCreateComplete,
} from '@aws-sdk/client-cloudformation';
import {
  GetBucketCorsCommand,
  GetBucketNotificationConfigurationCommand,
  GetPublicAccessBlockCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { corsRules, deliveriesRetention } from '../../src/aws/provision.js';
import { destroyAwsClients } from '../../src/aws/clients.js';
import { DEFAULT_RETRY_SCHEDULE } from '../../deploy/stack.js';
import { startApi, uploadViaTickets, api, type TestApi } from '../support/app.js';
import { synthStack } from '../support/deploy.js';
import { dropKit, testLog } from '../support/drops.js';
import { eventually, testAws, testConfig } from '../support/env.js';
import { pngImage } from '../support/images.js';
import { startTestWorker } from '../support/worker.js';

const prefix = `dropship-cfn-${Date.now().toString(36)}`;
const stackName = prefix;
const cf = new CloudFormationClient({ endpoint: inject('awsEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
let outputs: Record<string, string> = {};

beforeAll(async () => {
  // The emulator has no CDK bootstrap: a synthesizer that needs none (the storage part has no assets).
  const { template } = synthStack({ prefix, bucketName: `${prefix}-bucket`, synthesizer: new BootstraplessSynthesizer(), destroyOnRemoval: true });
  await cf.send(new CreateStackCommand({ StackName: stackName, TemplateBody: JSON.stringify(template.toJSON()) }));
  try {
    await waitUntilStackCreateComplete({ client: cf, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { StackName: stackName });
  } catch (e) {
    const events = (await cf.send(new DescribeStackEventsCommand({ StackName: stackName }))).StackEvents ?? [];
    const failed = events.filter((ev) => ev.ResourceStatus?.endsWith('FAILED')).map((ev) => `${ev.ResourceType} ${ev.LogicalResourceId}: ${ev.ResourceStatusReason}`);
    throw new Error(`stack ${stackName} not created: ${String(e)}\n${failed.join('\n')}`, { cause: e });
  }
  const stack = (await cf.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks![0]!;
  outputs = Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!]));
}, 180_000);

afterAll(async () => {
  await cf.send(new DeleteStackCommand({ StackName: stackName })).catch(() => undefined);
  cf.destroy();
});

/** The settings of a deployment whose resources the stack made. */
const stackEnv = () => ({
  DROPSHIP_BUCKET: outputs.BucketName!,
  DROPSHIP_QUEUE_NAME: `${prefix}-events`,
  DROPSHIP_QUEUE_URL: outputs.EventsQueueUrl!,
  DROPSHIP_DLQ_NAME: `${prefix}-events-dlq`,
  DROPSHIP_DELIVERIES_QUEUE_NAME: `${prefix}-deliveries`,
  DROPSHIP_DELIVERIES_QUEUE_URL: outputs.DeliveriesQueueUrl!,
  DROPSHIP_DELIVERIES_DLQ_NAME: `${prefix}-deliveries-dlq`,
});

describe('the storage part, deployed by CloudFormation', () => {
  it('names its bucket and four queues in its outputs', () => {
    expect(outputs.BucketName).toBe(`${prefix}-bucket`);
    for (const [key, name] of [
      ['EventsQueueUrl', 'events'],
      ['EventsDlqUrl', 'events-dlq'],
      ['DeliveriesQueueUrl', 'deliveries'],
      ['DeliveriesDlqUrl', 'deliveries-dlq'],
    ] as const) {
      expect(outputs[key]).toMatch(new RegExp(`/${prefix}-${name}$`));
    }
  });

  it('made the bucket with the CORS rules of provisioning and the notification (public access blocked)', async () => {
    const aws = testAws(testConfig(stackEnv()));
    try {
      const Bucket = outputs.BucketName!;
      expect((await aws.s3.send(new GetPublicAccessBlockCommand({ Bucket }))).PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      });
      const cors = (await aws.s3.send(new GetBucketCorsCommand({ Bucket }))).CORSRules ?? [];
      const lower = (xs: string[] | undefined) => (xs ?? []).map((x) => x.toLowerCase()).sort();
      const [want] = corsRules([]);
      expect(cors).toHaveLength(1);
      expect(lower(cors[0]!.AllowedHeaders)).toEqual(lower(want!.AllowedHeaders));
      expect([...(cors[0]!.AllowedMethods ?? [])].sort()).toEqual([...want!.AllowedMethods!].sort());
      expect(cors[0]!.AllowedOrigins).toEqual(['*']);
      expect(lower(cors[0]!.ExposeHeaders)).toEqual(['etag']);

      const n = await aws.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket }));
      expect(n.QueueConfigurations).toHaveLength(1);
      const q = n.QueueConfigurations![0]!;
      expect(q.QueueArn).toMatch(new RegExp(`:${prefix}-events$`));
      expect(q.Events).toEqual(['s3:ObjectCreated:*']);
      expect((q.Filter?.Key?.FilterRules ?? []).map((r) => `${r.Name?.toLowerCase()}=${r.Value}`).sort()).toEqual(['prefix=drops/', 'suffix=/original']);
    } finally {
      destroyAwsClients(aws);
    }
  });

  it('made the queues as provisioning would: redrive to the DLQs, retention, long polling', async () => {
    const aws = testAws(testConfig(stackEnv()));
    try {
      const attrs = async (url: string) => (await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes ?? {};
      const events = await attrs(outputs.EventsQueueUrl!);
      expect(JSON.parse(events.RedrivePolicy!)).toMatchObject({ maxReceiveCount: 5, deadLetterTargetArn: expect.stringMatching(new RegExp(`:${prefix}-events-dlq$`)) });
      expect(events).toMatchObject({ VisibilityTimeout: '60', ReceiveMessageWaitTimeSeconds: '20' });
      const deliveries = await attrs(outputs.DeliveriesQueueUrl!);
      expect(JSON.parse(deliveries.RedrivePolicy!)).toMatchObject({
        maxReceiveCount: DEFAULT_RETRY_SCHEDULE.length + 1,
        deadLetterTargetArn: expect.stringMatching(new RegExp(`:${prefix}-deliveries-dlq$`)),
      });
      expect(deliveries.MessageRetentionPeriod).toBe(String(deliveriesRetention(DEFAULT_RETRY_SCHEDULE)));
      for (const dlq of [outputs.EventsDlqUrl!, outputs.DeliveriesDlqUrl!]) expect((await attrs(dlq)).MessageRetentionPeriod).toBe(String(14 * 24 * 3600));
    } finally {
      destroyAwsClients(aws);
    }
  });

  it('notifies the events queue of an original only (not of thumbnails or manifests)', async () => {
    const aws = testAws(testConfig(stackEnv()));
    try {
      const Bucket = outputs.BucketName!;
      await aws.s3.send(new PutObjectCommand({ Bucket, Key: 'drops/notanid/thumb-256.webp', Body: 'x' }));
      await aws.s3.send(new PutObjectCommand({ Bucket, Key: 'drops/notanid/original', Body: 'x' }));
      const keys = await eventually(async () => {
        const r = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: outputs.EventsQueueUrl!, WaitTimeSeconds: 1, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
        const ks = (r.Messages ?? []).flatMap((m) => (JSON.parse(m.Body!) as { Records?: { s3: { object: { key: string } } }[] }).Records ?? []).map((rec) => rec.s3.object.key);
        return ks.length ? ks : undefined;
      });
      expect(keys).toEqual(['drops/notanid/original']);
    } finally {
      destroyAwsClients(aws);
    }
  });
});

describe('a round trip through what the stack made', () => {
  let app: TestApi | undefined;
  afterAll(async () => {
    await app?.close();
  });

  it('an upload through the api becomes a ready drop with thumbnails, via the bucket notification and a worker on the stack\'s queue', async () => {
    const env = { ...stackEnv(), DROPSHIP_WORKER_WAIT_TIME: '1' };
    app = await startApi(env);
    const config = testConfig(env);
    const aws = testAws(config);
    const worker = startTestWorker({ config, queueUrl: outputs.EventsQueueUrl!, log: testLog(config) });
    try {
      const png = await pngImage();
      const { ticket, complete } = await uploadViaTickets(app.base, png, { name: 'photo.png' });
      expect(complete.status).toBe(200);
      const m = await dropKit(config, aws).until(ticket.id, ['ready', 'failed'], 20_000);
      expect(m).toMatchObject({ status: 'ready', thumbnail: 'ready', sniffedType: 'image/png' });
      const status = await api(app.base, 'GET', `/v1/drops/${ticket.id}`);
      expect(status.body).toMatchObject({ status: 'ready' });
    } finally {
      await worker.stop();
      destroyAwsClients(aws);
    }
  });
});
