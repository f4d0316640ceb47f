/** An object store of the bench's for seeding the emulator through the ports (the emulator's process is `ctx.emulatorPids`). */
import { createAwsClients, destroyAwsClients } from '../../../src/aws/clients.js';
import { createObjectStore } from '../../../src/aws/store.js';
import type { ObjectStore } from '../../../src/ports/object-store.js';
import type { BenchContext } from './env.js';

/** A bucket (the bench's, or another one) on an S3 client of its own, for seeding many objects at once. */
export function seedingStore(ctx: BenchContext, bucket = ctx.config.DROPSHIP_BUCKET): { store: ObjectStore; destroy(): void } {
  const aws = createAwsClients(ctx.config);
  return { store: createObjectStore(aws.s3, bucket), destroy: () => destroyAwsClients(aws) };
}
