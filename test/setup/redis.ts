/**
 * Global setup for the integration and stress projects: a redis-server of the run's own
 * (test/support/redis-server.ts) for the shared-limits tests, on DROPSHIP_TEST_REDIS_PORT or
 * a free port, stopped at the end. Like the emulator, a missing server FAILS the run.
 */
import type { TestProject } from 'vitest/node';
import { startRedis, type RedisServer } from '../support/redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

let server: RedisServer | undefined;

export async function setup(project: TestProject) {
  const port = process.env.DROPSHIP_TEST_REDIS_PORT ? Number(process.env.DROPSHIP_TEST_REDIS_PORT) : undefined;
  server = await startRedis(port ? { port } : {});
  project.provide('redisUrl', server.url);
}

export async function teardown() {
  await server?.stop();
}
