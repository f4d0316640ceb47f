/**
 * The bench's own corner of the emulator (bucket and queues nobody else uses), the
 * environment every process under test gets, and the clean-up that keeps the emulator small.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../../src/config.js';
import { createAwsClients, type AwsClients } from '../../../src/aws/clients.js';
import { createObjectStore } from '../../../src/aws/store.js';
import type { ObjectStore } from '../../../src/ports/object-store.js';

export const BENCH_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const BENCH_API_KEY = 'bench-key-0123456789abcdef';

/** Bucket/queues of the bench; the limits that would throttle a load generator are lifted. */
export function benchEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    DROPSHIP_BUCKET: 'dropship-bench',
    DROPSHIP_QUEUE_NAME: 'dropship-bench-events',
    DROPSHIP_DLQ_NAME: 'dropship-bench-dlq',
    DROPSHIP_DELIVERIES_QUEUE_NAME: 'dropship-bench-deliveries',
    DROPSHIP_DELIVERIES_DLQ_NAME: 'dropship-bench-deliveries-dlq',
    DROPSHIP_API_KEYS: BENCH_API_KEY,
    DROPSHIP_PUBLIC_UPLOADS: 'false',
    // A load generator on 127.0.0.1 is one "client": these limits would measure the limiter.
    DROPSHIP_RATE_LIMIT: '10000000',
    DROPSHIP_MAX_OPEN_TICKETS: '10000000',
    DROPSHIP_UPLOAD_SLOTS: '10000000',
    // Per-request logging off for the api, as for Companion (mounted without its request logger).
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
  };
}

export interface BenchContext {
  endpoint: string;
  env: Record<string, string>;
  config: Config;
  aws: AwsClients;
  store: ObjectStore;
  /** The emulator's process(es), for its CPU (the one listening on the endpoint's port). */
  emulatorPids: number[];
  /** The bench queue, once provisioned. */
  queueUrl?: string;
  /** Where the api and worker under test are started from (--product-root; default: this checkout). */
  productRoot: string;
  quick: boolean;
  reps: number;
  /** Raw-data directory (git-ignored). */
  rawDir: string;
  outDir: string;
  log: (msg: string) => void;
}

export function benchConfig(env: Record<string, string>): Config {
  return loadConfig(env);
}

export function benchAws(config: Config): { aws: AwsClients; store: ObjectStore } {
  const aws = createAwsClients(config);
  return { aws, store: createObjectStore(aws.s3, config.DROPSHIP_BUCKET) };
}

/** Deletes every object under prefix (bounded: at most `max` keys). */
export async function deletePrefix(store: ObjectStore, prefix: string, max = 100_000): Promise<number> {
  const keys = (await store.listKeys(prefix)).slice(0, max);
  for (let i = 0; i < keys.length; i += 1000) await store.deleteKeys(keys.slice(i, i + 1000));
  return keys.length;
}

/** Aborts multipart uploads under prefix, 16 at a time, until done or the deadline passes. */
export async function abortUploads(store: ObjectStore, prefix: string, deadlineMs: number): Promise<number> {
  const until = Date.now() + deadlineMs;
  const uploads = await store.listMultipartUploads(prefix);
  let i = 0;
  let done = 0;
  const worker = async () => {
    while (i < uploads.length && Date.now() < until) {
      const u = uploads[i++]!;
      await store.abortMultipart(u.key, u.uploadId).catch(() => {});
      done++;
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return done;
}
