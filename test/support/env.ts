/** What an integration test needs: a config pointed at the run's emulator, clients, helpers. */
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createAwsClients, type AwsClients } from '../../src/aws/clients.js';
import { TEST_ENV } from './names.js';

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...TEST_ENV, AWS_ENDPOINT_URL: inject('awsEndpoint'), ...overrides });
}

export function testAws(config = testConfig()): AwsClients {
  return createAwsClients(config);
}

export const queueUrl = () => inject('queueUrl');
export const dlqUrl = () => inject('dlqUrl');

export async function eventually<T>(fn: () => Promise<T | undefined>, ms = 10_000, every = 100): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`condition not met within ${ms} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * A bucket and queues of the test file's own (`dropship-<name>`), provisioned, so what the
 * file asserts about "nothing left behind" cannot be disturbed by other files' drops.
 */
export async function isolatedStorage(name: string): Promise<{ env: Record<string, string>; queueUrl: string }> {
  const env = {
    DROPSHIP_BUCKET: `dropship-${name}`,
    DROPSHIP_QUEUE_NAME: `dropship-${name}-events`,
    DROPSHIP_DLQ_NAME: `dropship-${name}-events-dlq`,
  };
  const config = testConfig(env);
  const aws = testAws(config);
  try {
    const { provision, provisionOptions } = await import('../../src/aws/provision.js');
    return { env, queueUrl: (await provision(aws, provisionOptions(config))).queueUrl };
  } finally {
    aws.s3.destroy();
    aws.sqs.destroy();
  }
}
