/**
 * Global setup for the integration and e2e projects: starts LocalStack once per run (or
 * uses AWS_ENDPOINT_URL when set), provisions the test bucket and queue, and hands the
 * endpoint to the tests. If the emulator cannot be reached the run FAILS — an integration
 * suite is never skipped.
 */
import type { TestProject } from 'vitest/node';
import { startEmulator, type EmulatorHandle } from '../../localstack/emulator.js';
import { loadConfig } from '../../src/config.js';
import { createAwsClients, destroyAwsClients } from '../../src/aws/clients.js';
import { provision, provisionOptions } from '../../src/aws/provision.js';
import { TEST_ENV } from '../support/names.js';

declare module 'vitest' {
  export interface ProvidedContext {
    awsEndpoint: string;
    queueUrl: string;
    dlqUrl: string;
  }
}

let emulator: EmulatorHandle | undefined;

export async function setup(project: TestProject) {
  let endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint) {
    emulator = await startEmulator({ port: Number(process.env.DROPSHIP_TEST_EMULATOR_PORT ?? 4566), log: (m) => console.error(m) });
    endpoint = emulator.endpoint;
  }
  const config = loadConfig({ ...TEST_ENV, AWS_ENDPOINT_URL: endpoint });
  const aws = createAwsClients(config);
  try {
    const r = await provision(aws, provisionOptions(config));
    project.provide('awsEndpoint', endpoint);
    project.provide('queueUrl', r.queueUrl);
    project.provide('dlqUrl', r.dlqUrl);
  } finally {
    destroyAwsClients(aws);
  }
}

export async function teardown() {
  await emulator?.stop();
}
