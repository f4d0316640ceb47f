/**
 * The CDK app: `npx cdk deploy` (cdk.json runs this file). Settings come from CDK context
 * (`-c name=value` or cdk.json's "context"); docs/deploy.md lists them.
 */
import { App } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DropshipStack, type ComputeProps } from './stack.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const app = new App();
const ctx = (name: string): string | undefined => {
  const v: unknown = app.node.tryGetContext(name);
  return v === undefined || v === '' ? undefined : String(v);
};
const list = (v: string | undefined) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);

const worker = (ctx('worker') ?? 'lambda') as ComputeProps['worker'] | 'none';
if (!['lambda', 'service', 'none'].includes(worker)) throw new Error(`context worker=${worker}: one of lambda, service, none`);
const bundle = join(root, 'deploy', '.build', 'worker');
if (worker === 'lambda' && !existsSync(join(bundle, 'dist', 'src', 'worker', 'lambda.js'))) {
  throw new Error('the Lambda worker is deployed from deploy/.build/worker: run `npm run deploy:bundle` first');
}
// Further settings of the README's configuration table, as a JSON object of strings.
const settings = ctx('settings') ? (JSON.parse(ctx('settings')!) as Record<string, string>) : {};
if (Object.values(settings).some((v) => typeof v !== 'string')) throw new Error('context settings: a JSON object of strings');
if (ctx('publicUploads') === 'true') settings.DROPSHIP_PUBLIC_UPLOADS = 'true';
const image = ctx('apiImage')
  ? ecs.ContainerImage.fromRegistry(ctx('apiImage')!)
  : ecs.ContainerImage.fromAsset(root, { file: 'deploy/Dockerfile' });

new DropshipStack(app, ctx('stackName') ?? 'Dropship', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  prefix: ctx('prefix') ?? 'dropship',
  ...(ctx('bucketName') ? { bucketName: ctx('bucketName')! } : {}),
  ...(list(ctx('corsOrigins')) ? { corsOrigins: list(ctx('corsOrigins'))! } : {}),
  ...(ctx('ticketTtl') ? { ticketTtl: Number(ctx('ticketTtl')) } : {}),
  ...(list(ctx('retrySchedule')) ? { retrySchedule: list(ctx('retrySchedule'))!.map(Number) } : {}),
  destroyOnRemoval: ctx('destroyOnRemoval') === 'true',
  ...(ctx('alarmEmail') ? { alarmEmail: ctx('alarmEmail')! } : {}),
  ...(worker === 'none'
    ? {}
    : {
        compute: {
          worker,
          image,
          ...(worker === 'lambda' ? { workerCode: lambda.Code.fromAsset(bundle) } : {}),
          ...(ctx('domainName') ? { domainName: ctx('domainName')! } : {}),
          ...(ctx('certificateArn') ? { certificateArn: ctx('certificateArn')! } : {}),
          ...(ctx('apiKeysSecretArn') ? { apiKeysSecretArn: ctx('apiKeysSecretArn')! } : {}),
          ...(ctx('apiTasks') ? { apiTasks: Number(ctx('apiTasks')) } : {}),
          ...(ctx('workerTasks') ? { workerTasks: Number(ctx('workerTasks')) } : {}),
          environment: settings,
        },
      }),
});
