/**
 * The emulator as the bench sees it directly: its own process (for its CPU), and an object
 * store of the bench's for seeding it through the ports.
 */
import { readFileSync } from 'node:fs';
import { createAwsClients, destroyAwsClients } from '../../../src/aws/clients.js';
import { createObjectStore } from '../../../src/aws/store.js';
import type { ObjectStore } from '../../../src/ports/object-store.js';
import type { BenchContext } from './env.js';
import { findPids } from './proc.js';

/**
 * Pids of the LocalStack listening on `endpoint`'s port (its environment holds
 * GATEWAY_LISTEN=127.0.0.1:<port>, as localstack/emulator.ts starts it); empty when it cannot
 * be told apart from other emulators on the machine, so its CPU is then reported as unknown
 * rather than someone else's.
 */
export function emulatorPids(endpoint: string): number[] {
  const port = new URL(endpoint).port || '4566';
  return findPids('localstack.runtime.main').filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').some((v) => v === `GATEWAY_LISTEN=127.0.0.1:${port}` || v === `GATEWAY_LISTEN=:${port}`);
    } catch {
      return false;
    }
  });
}

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * The bench bucket on an S3 client of its own whose SDK logger is silent: seeding writes
 * thousands of empty index entries, and the SDK warns about a body of unknown length on each.
 */
export function seedingStore(ctx: BenchContext, bucket = ctx.config.DROPSHIP_BUCKET): { store: ObjectStore; destroy(): void } {
  const aws = createAwsClients(ctx.config);
  (aws.s3.config as { logger: unknown }).logger = quiet;
  return { store: createObjectStore(aws.s3, bucket), destroy: () => destroyAwsClients(aws) };
}
