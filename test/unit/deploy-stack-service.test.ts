/**
 * The CDK app's other shape (synthesized once for this file): the worker as a Fargate service
 * (src/worker/main.ts, its own visibility heartbeat and sweep) and no domain of its own — share
 * links then use the load balancer's name over HTTP.
 */
import { describe, expect, it } from 'vitest';
import { QUEUE_DEFAULTS } from '../../src/aws/provision.js';
import { policyDocument } from '../../deploy/permissions.js';
import { synthStack } from '../support/deploy.js';

const { stack, template } = synthStack({ compute: { worker: 'service', workerTasks: 2 }, prefix: 'acme' });
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const queue = (name: string) => byType('AWS::SQS::Queue').find(([, r]) => r.Properties.QueueName === name)![1].Properties;
const containers = () =>
  byType('AWS::ECS::TaskDefinition').flatMap(([, t]) => t.Properties.ContainerDefinitions as { Name: string; Command?: string[]; Environment: { Name: string; Value: unknown }[] }[]);

describe('the worker as a Fargate service', () => {
  it('runs src/worker/main.ts (compiled) with no Lambda and no event source mapping', () => {
    expect(byType('AWS::Lambda::Function')).toEqual([]);
    expect(byType('AWS::Lambda::EventSourceMapping')).toEqual([]);
    const worker = containers().find((c) => c.Name === 'worker')!;
    expect(worker.Command).toEqual(['sh', 'scripts/start.sh', 'dist/src/worker/main.js']);
    const services = byType('AWS::ECS::Service').map(([, s]) => s.Properties.DesiredCount);
    expect(services.sort()).toEqual([2, 2]);
  });

  it('keeps the queues\' provisioning timeouts (the worker extends visibility while a job runs)', () => {
    expect(queue('acme-events').VisibilityTimeout).toBe(QUEUE_DEFAULTS.visibilityTimeout);
    expect(queue('acme-deliveries').VisibilityTimeout).toBe(QUEUE_DEFAULTS.deliveriesVisibilityTimeout);
  });

  it("gives the worker task the worker's statements", () => {
    const roleId = byType('AWS::IAM::Role').find(([id]) => id.startsWith('WorkerRole'))![0];
    const task = byType('AWS::ECS::TaskDefinition').find(([id]) => id.startsWith('WorkerTask'))![1];
    expect(task.Properties.TaskRoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    const [policy] = byType('AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]));
    const flat = (d: { Statement: { Action: unknown; Resource: unknown }[] }) => d.Statement.map((s) => ({ ...s, Action: [s.Action].flat(), Resource: [s.Resource].flat() }));
    expect(flat(policy![1].Properties.PolicyDocument as never)).toEqual(flat(stack.resolve(policyDocument('worker', stack.arns()))));
  });
});

describe('without a domain', () => {
  it('serves HTTP only and links to the load balancer', () => {
    const listeners = byType('AWS::ElasticLoadBalancingV2::Listener').map(([, l]) => l.Properties.Protocol);
    expect(listeners).toEqual(['HTTP']);
    const api = containers().find((c) => c.Name === 'web')!;
    const url = api.Environment.find((e) => e.Name === 'DROPSHIP_PUBLIC_URL')!.Value;
    expect(JSON.stringify(url)).toContain('DNSName');
  });

  it('lets any origin PUT to the bucket (no SPA origin is known; set corsOrigins)', () => {
    const bucket = byType('AWS::S3::Bucket')[0]![1];
    expect((bucket.Properties.CorsConfiguration as { CorsRules: { AllowedOrigins: string[] }[] }).CorsRules[0]!.AllowedOrigins).toEqual(['*']);
  });
});
