/**
 * The CDK app of deploy/ (synthesized once for this file): what CloudFormation would create
 * is what `npm run provision` creates — the same CORS and lifecycle rules, queue settings and
 * notification — plus the worker as a Lambda SQS handler with partial batch responses, the api
 * behind a load balancer with TLS, roles with exactly deploy/permissions.ts's statements, and
 * the alarms of docs/operations.md ("What to watch").
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { corsRules, deliveriesRetention, lifecycleRules, QUEUE_DEFAULTS } from '../../src/aws/provision.js';
import { loadConfig } from '../../src/config.js';
import { deliveriesMaxReceiveCount } from '../../src/core/webhooks.js';
import { policyDocument } from '../../deploy/permissions.js';
import { DEFAULT_RETRY_SCHEDULE, WORKER_LAMBDA_TIMEOUT } from '../../deploy/stack.js';
import { synthStack } from '../support/deploy.js';

const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000';
const { stack, template } = synthStack({
  compute: { worker: 'lambda', domainName: 'share.example.com', certificateArn: CERT },
  ticketTtl: 36 * 3600,
});
const ref = (logicalIdPrefix: string, type: string) => {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(logicalIdPrefix));
  expect(ids, `${type} ${logicalIdPrefix}*`).toHaveLength(1);
  return ids[0]!;
};
const queueId = (name: string) => Object.keys(template.findResources('AWS::SQS::Queue')).find((id) => new RegExp(`^${name}[0-9A-F]{8}$`).test(id))!;
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
/** CloudFormation's policy JSON writes a one-element list as its element: compare lists. */
const normalized = (doc: { Statement: { Action: unknown; Resource: unknown }[] }) => ({
  ...doc,
  Statement: doc.Statement.map((st) => ({ ...st, Action: [st.Action].flat(), Resource: [st.Resource].flat() })),
});
const resource = (id: string) => template.toJSON().Resources[id] as { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };

describe('the bucket', () => {
  const bucketId = ref('Bucket', 'AWS::S3::Bucket');
  const bucket = resource(bucketId).Properties;

  it('is private, encrypted and refuses plain HTTP', () => {
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Principal: { AWS: '*' } }),
        ]),
      },
    });
  });

  it('has the CORS rules of provisioning, for the api\'s public origin', () => {
    const [want] = corsRules(['https://share.example.com']);
    expect(bucket.CorsConfiguration).toEqual({
      CorsRules: [
        {
          AllowedOrigins: want!.AllowedOrigins,
          AllowedMethods: want!.AllowedMethods,
          AllowedHeaders: want!.AllowedHeaders,
          ExposedHeaders: want!.ExposeHeaders,
          MaxAge: want!.MaxAgeSeconds,
        },
      ],
    });
    expect(want!.AllowedHeaders).toContain('if-none-match');
  });

  it('has the lifecycle rules of provisioning: abort incomplete uploads after ⌈ticket TTL⌉ days, one expiration per retention class', () => {
    const want = lifecycleRules(36 * 3600).map((r) => ({
      Id: r.ID,
      Status: r.Status,
      ...(r.Filter?.Prefix ? { Prefix: r.Filter.Prefix } : {}),
      ...(r.Filter?.Tag ? { TagFilters: [{ Key: r.Filter.Tag.Key, Value: r.Filter.Tag.Value }] } : {}),
      ...(r.AbortIncompleteMultipartUpload ? { AbortIncompleteMultipartUpload: { DaysAfterInitiation: r.AbortIncompleteMultipartUpload.DaysAfterInitiation } } : {}),
      ...(r.Expiration ? { ExpirationInDays: r.Expiration.Days } : {}),
    }));
    expect(bucket.LifecycleConfiguration).toEqual({ Rules: want });
    expect(want[0]).toMatchObject({ Prefix: 'drops/', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } });
    expect(want.filter((r) => r.ExpirationInDays).map((r) => r.ExpirationInDays)).toEqual([1, 2, 3, 4, 5, 6, 7, 14, 30, 60, 90, 180, 365]);
  });

  it('notifies the events queue of drops/…/original only, once the queue lets it', () => {
    expect(bucket.NotificationConfiguration).toEqual({
      QueueConfigurations: [
        {
          Event: 's3:ObjectCreated:*',
          Queue: arnOf(queueId('Events')),
          Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: 'drops/' }, { Name: 'suffix', Value: '/original' }] } },
        },
      ],
    });
    const policyId = ref('EventsPolicy', 'AWS::SQS::QueuePolicy');
    expect(resource(bucketId).DependsOn).toContain(policyId);
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId('Events') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowBucketNotifications',
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 's3.amazonaws.com' },
            Condition: { ArnLike: { 'aws:SourceArn': Match.anyValue() }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
  });

  it('is kept when the stack is deleted (unless destroyOnRemoval)', () => {
    expect(template.toJSON().Resources[bucketId].DeletionPolicy).toBe('Retain');
  });
});

describe('the queues', () => {
  const props = (name: string) => resource(queueId(name)).Properties;

  it('events: long polling, redrive to its DLQ after 5 receives; visibility six times the Lambda timeout', () => {
    expect(props('Events')).toMatchObject({
      QueueName: 'dropship-events',
      ReceiveMessageWaitTimeSeconds: QUEUE_DEFAULTS.receiveWaitTime,
      VisibilityTimeout: 6 * WORKER_LAMBDA_TIMEOUT,
      RedrivePolicy: { deadLetterTargetArn: arnOf(queueId('EventsDlq')), maxReceiveCount: 5 },
      SqsManagedSseEnabled: true,
    });
    expect(props('EventsDlq')).toMatchObject({ QueueName: 'dropship-events-dlq', MessageRetentionPeriod: 14 * 24 * 3600 });
  });

  it('deliveries: sized by the retry schedule (the configuration\'s default), redrive to its DLQ after it', () => {
    expect(DEFAULT_RETRY_SCHEDULE).toEqual(loadConfig({}).webhookRetrySchedule);
    expect(props('Deliveries')).toMatchObject({
      QueueName: 'dropship-deliveries',
      MessageRetentionPeriod: deliveriesRetention(DEFAULT_RETRY_SCHEDULE),
      RedrivePolicy: { deadLetterTargetArn: arnOf(queueId('DeliveriesDlq')), maxReceiveCount: deliveriesMaxReceiveCount(DEFAULT_RETRY_SCHEDULE) },
    });
    expect(props('DeliveriesDlq')).toMatchObject({ QueueName: 'dropship-deliveries-dlq', MessageRetentionPeriod: 14 * 24 * 3600 });
  });
});

describe('the worker as a Lambda SQS handler', () => {
  const fnId = ref('Worker', 'AWS::Lambda::Function');

  it('runs src/worker/lambda.ts\'s handler on Node 22', async () => {
    const fn = resource(fnId).Properties;
    expect(fn).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'dist/src/worker/lambda.handler', Timeout: WORKER_LAMBDA_TIMEOUT });
    const mod = await import('../../src/worker/lambda.js');
    expect(typeof mod.handler).toBe('function');
    const env = (fn.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toMatchObject({ DROPSHIP_BUCKET: { Ref: ref('Bucket', 'AWS::S3::Bucket') }, DROPSHIP_DELIVERIES_QUEUE_NAME: expect.anything() });
    expect(env.AWS_REGION).toBeUndefined();
  });

  it('consumes both queues with partial batch responses (ReportBatchItemFailures)', () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).map((r) => r.Properties);
    expect(mappings.map((m) => m.EventSourceArn).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
      [arnOf(queueId('Deliveries')), arnOf(queueId('Events'))],
    );
    for (const m of mappings) expect(m).toMatchObject({ FunctionName: { Ref: fnId }, FunctionResponseTypes: ['ReportBatchItemFailures'], BatchSize: 10 });
  });

  it('runs the retention sweep every minute', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)', Targets: [Match.objectLike({ Arn: arnOf(fnId) })] });
  });
});

describe('roles: exactly the statements of deploy/permissions.ts', () => {
  const policiesOf = (roleId: string) =>
    Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })));

  it.each(['api', 'worker'] as const)('%s', (role) => {
    const roleId = ref(`${role[0]!.toUpperCase()}${role.slice(1)}Role`, 'AWS::IAM::Role');
    const policies = policiesOf(roleId);
    expect(policies, 'one policy, nothing added by grants').toHaveLength(1);
    expect(normalized(policies[0]!.Properties.PolicyDocument)).toEqual(normalized(stack.resolve(policyDocument(role, stack.arns()))));
    const managed = (resource(roleId).Properties.ManagedPolicyArns ?? []) as unknown[];
    // The Lambda's own logging; the api's task logs go through the execution role, not this one.
    expect(managed).toHaveLength(role === 'worker' ? 1 : 0);
    if (role === 'worker') expect(JSON.stringify(managed)).toContain('service-role/AWSLambdaBasicExecutionRole');
  });

  it('the worker Lambda waits for its permissions (event source mappings are checked against them)', () => {
    const deps = resource(ref('Worker', 'AWS::Lambda::Function')).DependsOn ?? [];
    expect(deps).toContain(ref('WorkerPermissions', 'AWS::IAM::Policy'));
  });
});

describe('the api on Fargate behind a load balancer', () => {
  it('serves HTTPS with the certificate and redirects HTTP', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTPS', Port: 443, Certificates: [{ CertificateArn: CERT }] });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Protocol: 'HTTPS', Port: '443' }) })],
    });
  });

  it('keeps streams open past the streaming idle timeout and checks /healthz', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'idle_timeout.timeout_seconds', Value: '120' }]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { HealthCheckPath: '/healthz', Port: 80 });
  });

  it('gets the resources, its public URL and the load balancer as its one trusted proxy', () => {
    const [task] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
    const [container] = task!.Properties.ContainerDefinitions as { Environment: { Name: string; Value: unknown }[]; PortMappings: unknown[] }[];
    const env = Object.fromEntries(container!.Environment.map((e) => [e.Name, e.Value]));
    expect(env).toMatchObject({
      HOST: '0.0.0.0',
      PORT: '8080',
      DROPSHIP_PUBLIC_URL: 'https://share.example.com',
      DROPSHIP_CORS_ORIGINS: 'https://share.example.com',
      DROPSHIP_BUCKET: { Ref: ref('Bucket', 'AWS::S3::Bucket') },
      DROPSHIP_QUEUE_URL: { Ref: queueId('Events') },
      DROPSHIP_DELIVERIES_QUEUE_URL: { Ref: queueId('Deliveries') },
      DROPSHIP_TRUST_PROXY: { 'Fn::GetAtt': [ref('Vpc', 'AWS::EC2::VPC'), 'CidrBlock'] },
    });
    expect(task!.Properties.TaskRoleArn).toEqual({ 'Fn::GetAtt': [ref('ApiRole', 'AWS::IAM::Role'), 'Arn'] });
  });
});

describe('alarms (docs/operations.md, What to watch)', () => {
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  const on = (queue: string, metric: string) =>
    alarms.filter((a) => a.MetricName === metric && JSON.stringify(a.Dimensions) === JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId(queue), 'QueueName'] } }]));

  it('on either DLQ holding a message', () => {
    for (const q of ['EventsDlq', 'DeliveriesDlq']) {
      expect(on(q, 'ApproximateNumberOfMessagesVisible')).toEqual([
        expect.objectContaining({ Namespace: 'AWS/SQS', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', Period: 60 }),
      ]);
    }
  });

  it('on the oldest event waiting over 60 s', () => {
    expect(on('Events', 'ApproximateAgeOfOldestMessage')).toEqual([
      expect.objectContaining({ Namespace: 'AWS/SQS', Threshold: 60, ComparisonOperator: 'GreaterThanThreshold' }),
    ]);
    expect(alarms).toHaveLength(3);
  });
});
