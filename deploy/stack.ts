/**
 * dropship on AWS as one CloudFormation stack (AWS CDK v2). docs/deploy.md walks through it.
 *
 * Storage (always): the bucket (private, encrypted, TLS only, CORS and lifecycle rules exactly
 * as `npm run provision` sets them), the events queue + DLQ with the bucket's
 * `drops/…/original` notification, the webhook deliveries queue + DLQ, and alarms on both DLQs'
 * depth and the oldest event's age. Everything here is plain CloudFormation — no custom
 * resources (the notification is the bucket's own NotificationConfiguration, not CDK's
 * Lambda-backed helper) — so it deploys where no Lambda runs, such as an emulator.
 *
 * Compute (optional): the worker as a Lambda SQS handler (src/worker/lambda.ts, partial batch
 * responses, a schedule for the retention sweep) or as a Fargate service
 * (src/worker/main.ts); the api as a Fargate service behind an Application Load Balancer
 * (it must be a long-lived server: the curl streaming route and the event streams hold a
 * request open for minutes).
 *
 * IAM: the api's and the worker's roles get exactly the statements of deploy/permissions.ts.
 */
import { Aws, CfnOutput, CfnResource, Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ecsPatterns from 'aws-cdk-lib/aws-ecs-patterns';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { corsRules, deliveriesRetention, lifecycleRules, QUEUE_DEFAULTS } from '../src/aws/provision.js';
import { deliveriesMaxReceiveCount } from '../src/core/webhooks.js';
import { policyDocument, type Arns, type Role } from './permissions.js';

/** The default retry schedule of DROPSHIP_WEBHOOK_RETRY_SCHEDULE. */
export const DEFAULT_RETRY_SCHEDULE = [5, 60, 300, 1800, 7200, 18000, 36000, 36000];

export interface DropshipStackProps extends StackProps {
  /** Names: `{prefix}-events`, `{prefix}-events-dlq`, `{prefix}-deliveries`, `{prefix}-deliveries-dlq`. Default `dropship`. */
  prefix?: string;
  /** The bucket's name; default `{prefix}-{account}-{region}`. */
  bucketName?: string;
  /** DROPSHIP_CORS_ORIGINS: the SPA's origins (default: the api's public URL when known, else `*`). */
  corsOrigins?: string[];
  /** DROPSHIP_TICKET_TTL in seconds (sizes the abort-incomplete-multipart rule). Default 24 h. */
  ticketTtl?: number;
  /** DROPSHIP_WEBHOOK_RETRY_SCHEDULE (sizes the deliveries queue). */
  retrySchedule?: number[];
  /** Destroy the bucket and queues with the stack (an emptied bucket only). Default: retain them. */
  destroyOnRemoval?: boolean;
  /** Alarms notify this address (an SNS topic with an email subscription). */
  alarmEmail?: string;
  /** The worker: a Lambda SQS handler (default) or a Fargate service; omit compute for storage only. */
  compute?: ComputeProps;
}

export interface ComputeProps {
  worker: 'lambda' | 'service';
  /** The worker Lambda's code: a folder with dist/, package.json and production node_modules (`npm run deploy:bundle`). */
  workerCode?: lambda.Code;
  /** The image of the api (and of a worker service): deploy/Dockerfile. */
  image: ecs.ContainerImage;
  /** Public host name of the api, e.g. `share.example.com` (DNS is yours to point at the load balancer). */
  domainName?: string;
  /** ACM certificate for domainName, in the stack's region: the load balancer then serves HTTPS and redirects HTTP. */
  certificateArn?: string;
  /** Further settings for the api and the worker (the README's configuration table), e.g. DROPSHIP_PUBLIC_UPLOADS. */
  environment?: Record<string, string>;
  /** A Secrets Manager secret whose value is DROPSHIP_API_KEYS (comma-separated keys). */
  apiKeysSecretArn?: string;
  /** api tasks (default 2). */
  apiTasks?: number;
  /** worker tasks when worker is 'service' (default 1). */
  workerTasks?: number;
}

/** The worker Lambda's timeout; the queues it consumes keep a message invisible six times as long (AWS's advice). */
export const WORKER_LAMBDA_TIMEOUT = 120;

export class DropshipStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly eventsQueue: sqs.Queue;
  readonly eventsDlq: sqs.Queue;
  readonly deliveriesQueue: sqs.Queue;
  readonly deliveriesDlq: sqs.Queue;
  readonly roles: Partial<Record<Role, { role: iam.Role; policy: iam.Policy }>> = {};

  constructor(scope: Construct, id: string, props: DropshipStackProps = {}) {
    super(scope, id, props);
    const prefix = props.prefix ?? 'dropship';
    const schedule = props.retrySchedule ?? DEFAULT_RETRY_SCHEDULE;
    const removalPolicy = props.destroyOnRemoval ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const lambdaWorker = props.compute?.worker === 'lambda';
    // Lambda requires a queue's visibility timeout to be at least the function's timeout.
    const lambdaVisibility = Duration.seconds(6 * WORKER_LAMBDA_TIMEOUT);

    // ---- queues
    const dlq = (name: string) =>
      new sqs.Queue(this, name.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase()), {
        queueName: `${prefix}-${name}`,
        retentionPeriod: Duration.seconds(QUEUE_DEFAULTS.dlqRetention),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        removalPolicy,
      });
    this.eventsDlq = dlq('events-dlq');
    this.eventsQueue = new sqs.Queue(this, 'Events', {
      queueName: `${prefix}-events`,
      visibilityTimeout: lambdaWorker ? lambdaVisibility : Duration.seconds(QUEUE_DEFAULTS.visibilityTimeout),
      receiveMessageWaitTime: Duration.seconds(QUEUE_DEFAULTS.receiveWaitTime),
      deadLetterQueue: { queue: this.eventsDlq, maxReceiveCount: QUEUE_DEFAULTS.maxReceiveCount },
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy,
    });
    this.deliveriesDlq = dlq('deliveries-dlq');
    this.deliveriesQueue = new sqs.Queue(this, 'Deliveries', {
      queueName: `${prefix}-deliveries`,
      retentionPeriod: Duration.seconds(deliveriesRetention(schedule)),
      visibilityTimeout: lambdaWorker ? lambdaVisibility : Duration.seconds(QUEUE_DEFAULTS.deliveriesVisibilityTimeout),
      deadLetterQueue: { queue: this.deliveriesDlq, maxReceiveCount: deliveriesMaxReceiveCount(schedule) },
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy,
    });

    // ---- the bucket
    // Its name is known before it exists, so the queue's policy can name it without a cycle
    // (the bucket's notification needs the policy in place when the bucket is created).
    const bucketName = props.bucketName ?? Fn.join('-', [prefix, Aws.ACCOUNT_ID, Aws.REGION]);
    const bucketArn = Fn.join('', ['arn:', Aws.PARTITION, ':s3:::', bucketName]);
    this.eventsQueue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowBucketNotifications',
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.eventsQueue.queueArn],
        conditions: { ArnLike: { 'aws:SourceArn': bucketArn }, StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    const publicUrl = props.compute?.domainName
      ? `${props.compute.certificateArn ? 'https' : 'http'}://${props.compute.domainName}`
      : undefined;
    const origins = props.corsOrigins ?? (publicUrl ? [publicUrl] : []);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      cors: corsRules(origins).map((r) => ({
        allowedOrigins: r.AllowedOrigins!,
        allowedMethods: r.AllowedMethods!.map((m) => m as s3.HttpMethods),
        allowedHeaders: r.AllowedHeaders!,
        exposedHeaders: r.ExposeHeaders!,
        maxAge: r.MaxAgeSeconds!,
      })),
      lifecycleRules: lifecycleRules(props.ticketTtl ?? 24 * 3600).map(
        (r): s3.LifecycleRule => ({
          id: r.ID!,
          enabled: r.Status === 'Enabled',
          ...(r.Filter?.Prefix ? { prefix: r.Filter.Prefix } : {}),
          ...(r.Filter?.Tag ? { tagFilters: { [r.Filter.Tag.Key!]: r.Filter.Tag.Value! } } : {}),
          ...(r.AbortIncompleteMultipartUpload
            ? { abortIncompleteMultipartUploadAfter: Duration.days(r.AbortIncompleteMultipartUpload.DaysAfterInitiation!) }
            : {}),
          ...(r.Expiration ? { expiration: Duration.days(r.Expiration.Days!) } : {}),
        }),
      ),
      removalPolicy,
    });
    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.notificationConfiguration = {
      queueConfigurations: [
        {
          event: 's3:ObjectCreated:*',
          queue: this.eventsQueue.queueArn,
          filter: {
            s3Key: {
              rules: [
                { name: 'prefix', value: 'drops/' },
                { name: 'suffix', value: '/original' },
              ],
            },
          },
        },
      ],
    };
    // S3 checks that it may send to the queue when the configuration is set (the queue itself
    // comes first anyway: the configuration names its ARN).
    const queuePolicy = this.eventsQueue.node.tryFindChild('Policy');
    if (queuePolicy) cfnBucket.node.addDependency(queuePolicy);

    // ---- alarms
    const topic = props.alarmEmail ? new sns.Topic(this, 'Alarms', { displayName: 'dropship alarms' }) : undefined;
    if (topic && props.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const alarm = (id: string, metric: cloudwatch.Metric, threshold: number, description: string, evaluationPeriods = 1) => {
      const a = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      if (topic) a.addAlarmAction(new cwActions.SnsAction(topic));
      return a;
    };
    const minute = { period: Duration.minutes(1), statistic: 'Maximum' };
    alarm('EventsDlqDepth', this.eventsDlq.metricApproximateNumberOfMessagesVisible(minute), 0, 'S3 events the worker failed 5 times (docs/operations.md#dead-letters)');
    alarm(
      'DeliveriesDlqDepth',
      this.deliveriesDlq.metricApproximateNumberOfMessagesVisible(minute),
      0,
      'webhook deliveries whose whole retry schedule failed (docs/webhooks.md)',
    );
    alarm('EventsOldestMessage', this.eventsQueue.metricApproximateAgeOfOldestMessage(minute), 60, 'the oldest S3 event waits over 60 s: workers behind or down', 3);

    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'EventsQueueUrl', { value: this.eventsQueue.queueUrl });
    new CfnOutput(this, 'EventsDlqUrl', { value: this.eventsDlq.queueUrl });
    new CfnOutput(this, 'DeliveriesQueueUrl', { value: this.deliveriesQueue.queueUrl });
    new CfnOutput(this, 'DeliveriesDlqUrl', { value: this.deliveriesDlq.queueUrl });

    if (props.compute) this.addCompute(props.compute, {
        origins,
        publicUrl,
        // The settings the storage was sized by, so the processes agree with it.
        sized: {
          ...(props.ticketTtl ? { DROPSHIP_TICKET_TTL: String(props.ticketTtl) } : {}),
          ...(props.retrySchedule ? { DROPSHIP_WEBHOOK_RETRY_SCHEDULE: props.retrySchedule.join(',') } : {}),
        },
      });
  }

  /** The ARNs each resource kind of deploy/permissions.ts stands for in this stack. */
  arns(): Arns {
    return {
      bucket: [this.bucket.bucketArn],
      objects: [this.bucket.arnForObjects('drops/*'), this.bucket.arnForObjects('index/*')],
      eventsQueue: [this.eventsQueue.queueArn],
      eventsDlq: [this.eventsDlq.queueArn],
      deliveriesQueue: [this.deliveriesQueue.queueArn],
      deliveriesDlq: [this.deliveriesDlq.queueArn],
    };
  }

  /** A role with exactly the role's statements of deploy/permissions.ts (in a policy of its own). */
  private roleFor(role: Role, principal: iam.IPrincipal, managed: string[] = []): { role: iam.Role; policy: iam.Policy } {
    const r = new iam.Role(this, `${role[0]!.toUpperCase()}${role.slice(1)}Role`, {
      assumedBy: principal,
      description: `dropship ${role} (deploy/permissions.ts)`,
      managedPolicies: managed.map((m) => iam.ManagedPolicy.fromAwsManagedPolicyName(m)),
    });
    const policy = new iam.Policy(this, `${role[0]!.toUpperCase()}${role.slice(1)}Permissions`, {
      document: iam.PolicyDocument.fromJson(policyDocument(role, this.arns())),
    });
    policy.attachToRole(r);
    this.roles[role] = { role: r, policy };
    return { role: r, policy };
  }

  private addCompute(c: ComputeProps, o: { origins: string[]; publicUrl: string | undefined; sized: Record<string, string> }) {
    const settings: Record<string, string> = {
      AWS_REGION: Aws.REGION,
      DROPSHIP_BUCKET: this.bucket.bucketName,
      DROPSHIP_QUEUE_NAME: this.eventsQueue.queueName,
      DROPSHIP_QUEUE_URL: this.eventsQueue.queueUrl,
      DROPSHIP_DLQ_NAME: this.eventsDlq.queueName,
      DROPSHIP_DELIVERIES_QUEUE_NAME: this.deliveriesQueue.queueName,
      DROPSHIP_DELIVERIES_QUEUE_URL: this.deliveriesQueue.queueUrl,
      DROPSHIP_DELIVERIES_DLQ_NAME: this.deliveriesDlq.queueName,
      ...(o.origins.length ? { DROPSHIP_CORS_ORIGINS: o.origins.join(',') } : {}),
      NODE_OPTIONS: '--enable-source-maps',
      ...o.sized,
      ...c.environment,
    };

    // ---- network: public subnets only (no NAT gateway to pay for); tasks get public
    // addresses for S3/SQS and accept traffic from the load balancer only.
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.DISABLED });
    const logGroup = (id: string) => new logs.LogGroup(this, id, { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });

    // ---- the worker
    const { role: workerRole, policy: workerPolicy } =
      c.worker === 'lambda'
        ? this.roleFor('worker', new iam.ServicePrincipal('lambda.amazonaws.com'), ['service-role/AWSLambdaBasicExecutionRole'])
        : this.roleFor('worker', new iam.ServicePrincipal('ecs-tasks.amazonaws.com'));
    if (c.worker === 'lambda') {
      if (!c.workerCode) throw new Error('compute.workerCode is needed for the Lambda worker (npm run deploy:bundle)');
      const fn = new lambda.Function(this, 'Worker', {
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.X86_64,
        handler: 'dist/src/worker/lambda.handler',
        code: c.workerCode,
        memorySize: 2048,
        timeout: Duration.seconds(WORKER_LAMBDA_TIMEOUT),
        // The one source grants what the event sources need; nothing is added to the role.
        role: workerRole.withoutPolicyUpdates(),
        // Lambda sets AWS_REGION itself.
        environment: Object.fromEntries(Object.entries(settings).filter(([k]) => k !== 'AWS_REGION')),
        logGroup: logGroup('WorkerLogs'),
      });
      // Mappings are checked against the role's permissions when created.
      fn.node.addDependency(workerPolicy);
      // ... and the function names its role already (an explicit DependsOn on it is cfn-lint's W3005).
      (fn.node.defaultChild as CfnResource).addOverride('DependsOn', [cfnLogicalId(workerPolicy)]);
      for (const queue of [this.eventsQueue, this.deliveriesQueue]) {
        fn.addEventSource(new SqsEventSource(queue, { batchSize: 10, reportBatchItemFailures: true }));
      }
      // The retention sweep: a Lambda has no loop of its own (docs/worker.md).
      new events.Rule(this, 'Sweep', {
        schedule: events.Schedule.rate(Duration.minutes(1)),
        targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
      });
    } else {
      const task = new ecs.FargateTaskDefinition(this, 'WorkerTask', { cpu: 1024, memoryLimitMiB: 2048, taskRole: workerRole });
      task.addContainer('worker', {
        image: c.image,
        command: ['sh', 'scripts/start.sh', 'dist/src/worker/main.js'],
        environment: settings,
        logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'worker', logGroup: logGroup('WorkerLogs') }),
        stopTimeout: Duration.seconds(90),
      });
      new ecs.FargateService(this, 'WorkerService', {
        cluster,
        taskDefinition: task,
        desiredCount: c.workerTasks ?? 1,
        assignPublicIp: true,
        vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
        minHealthyPercent: 100,
        circuitBreaker: { rollback: true },
      });
    }

    // ---- the api
    const { role: apiRole, policy: apiPolicy } = this.roleFor('api', new iam.ServicePrincipal('ecs-tasks.amazonaws.com'));
    const certificate = c.certificateArn ? acm.Certificate.fromCertificateArn(this, 'Certificate', c.certificateArn) : undefined;
    // The secret is yours (imported by ARN): the stack only lets the api's tasks read it.
    const secret = c.apiKeysSecretArn
      ? ecs.Secret.fromSecretsManager(secretsmanager.Secret.fromSecretCompleteArn(this, 'ApiKeysSecret', c.apiKeysSecretArn))
      : undefined;
    const api = new ecsPatterns.ApplicationLoadBalancedFargateService(this, 'Api', {
      cluster,
      cpu: 512,
      memoryLimitMiB: 1024,
      desiredCount: c.apiTasks ?? 2,
      assignPublicIp: true,
      taskSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      publicLoadBalancer: true,
      minHealthyPercent: 100,
      // A release whose tasks do not become healthy rolls back instead of retrying for hours.
      circuitBreaker: { rollback: true },
      // Streaming uploads and event streams stay open; DROPSHIP_STREAM_IDLE_TIMEOUT_MS is 30 s.
      idleTimeout: Duration.seconds(120),
      ...(certificate ? { certificate, protocol: elbv2.ApplicationProtocol.HTTPS, redirectHTTP: true, sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS } : {}),
      taskImageOptions: {
        image: c.image,
        containerPort: 8080,
        taskRole: apiRole,
        logDriver: ecs.LogDrivers.awsLogs({ streamPrefix: 'api', logGroup: logGroup('ApiLogs') }),
        environment: {
          ...settings,
          HOST: '0.0.0.0',
          PORT: '8080',
          // The load balancer is the one proxy: its addresses are in the VPC.
          DROPSHIP_TRUST_PROXY: vpc.vpcCidrBlock,
          ...(o.publicUrl ? { DROPSHIP_PUBLIC_URL: o.publicUrl } : {}),
          ...c.environment,
        },
        ...(secret ? { secrets: { DROPSHIP_API_KEYS: secret } } : {}),
      },
    });
    // The service names the target group, so CloudFormation orders them anyway; the pattern's
    // explicit DependsOn on it only draws a cfn-lint warning (W3005). It must still wait for
    // the listener (ECS refuses a target group no load balancer uses), and tasks start with
    // their permissions in place.
    const cfnService = api.service.node.defaultChild as CfnResource;
    cfnService.addOverride('DependsOn', [cfnLogicalId(api.listener), cfnLogicalId(apiPolicy)]);
    api.targetGroup.configureHealthCheck({ path: '/healthz', healthyHttpCodes: '200' });
    api.targetGroup.setAttribute('deregistration_delay.timeout_seconds', '30');
    if (!o.publicUrl) {
      // Without a domain the share links use the load balancer's own name (HTTP).
      api.taskDefinition.defaultContainer!.addEnvironment('DROPSHIP_PUBLIC_URL', Fn.join('', ['http://', api.loadBalancer.loadBalancerDnsName]));
    }
    new CfnOutput(this, 'ApiUrl', { value: o.publicUrl ?? Fn.join('', ['http://', api.loadBalancer.loadBalancerDnsName]) });
    new CfnOutput(this, 'LoadBalancerDnsName', { value: api.loadBalancer.loadBalancerDnsName });
  }
}

const cfnLogicalId = (c: Construct) => Stack.of(c).resolve((c.node.defaultChild as CfnResource).logicalId) as string;
