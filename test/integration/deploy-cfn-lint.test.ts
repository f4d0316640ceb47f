/**
 * cfn-lint on the CDK app's templates (every shape it makes): no error, no warning, no
 * informational match, and no rule switched off. cfn-lint comes from PyPI into deploy/.venv on
 * first use (deploy/cfn-lint.ts). Here rather than in the unit project because it runs a child
 * process.
 */
import { describe, expect, it } from 'vitest';
import { cfnLint } from '../../deploy/cfn-lint.js';
import { synthStack } from '../support/deploy.js';

const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000';
const REGIONS = ['us-east-1', 'eu-west-1'];
const shapes = {
  'storage only': () => synthStack({}),
  'Lambda worker, HTTPS api, alarm e-mails': () =>
    synthStack({ compute: { worker: 'lambda', domainName: 'share.example.com', certificateArn: CERT }, alarmEmail: 'ops@example.com' }),
  'worker service, HTTP api, api keys secret': () =>
    synthStack({
      compute: { worker: 'service', apiKeysSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dropship-keys-AbCdEf' },
      destroyOnRemoval: true,
    }),
};

describe('cfn-lint', () => {
  it.each(Object.entries(shapes))('passes the template: %s', (_name, synth) => {
    const matches = cfnLint(synth().template.toJSON(), REGIONS);
    expect(matches.map((m) => `${m.Level} ${m.Rule.Id} ${m.Location.Path.join('/')}: ${m.Message}`)).toEqual([]);
  });

  it('reports what it finds (a template it must reject)', () => {
    const template = synthStack({}).template.toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
    const queue = Object.values(template.Resources).find((r) => r.Type === 'AWS::SQS::Queue')!;
    queue.Properties.VisibilityTimeout = 99_999; // SQS's most is 43200
    expect(cfnLint(template, REGIONS).map((m) => m.Level)).toContain('Error');
  });
});
