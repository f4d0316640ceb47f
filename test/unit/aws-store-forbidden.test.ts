/**
 * S3 without s3:ListBucket answers a missing key with 403, not 404 (docs/operations.md).
 * The AWS store settles a 403 by listing the key: missing reads as missing (so the worker's
 * "absent" paths skip or fail the drop instead of retrying into the DLQ), a forbidden
 * object stays an error, and a role without ListBucket gets an error that says so.
 * A fake S3 client (no network): the emulator does not enforce IAM.
 */
import { describe, expect, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import { createObjectStore, StorageForbidden } from '../../src/aws/store.js';

const s3err = (status: number, name: string) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

function fakeS3(opts: { exists: boolean; listAllowed: boolean }) {
  const calls: string[] = [];
  const client = {
    async send(cmd: { constructor: { name: string }; input: { Key?: string; Prefix?: string } }) {
      const op = cmd.constructor.name;
      calls.push(op);
      if (op === 'HeadObjectCommand' || op === 'GetObjectCommand') throw s3err(403, opts.exists ? 'Forbidden' : 'AccessDenied');
      if (op === 'ListObjectsV2Command') {
        if (!opts.listAllowed) throw s3err(403, 'AccessDenied');
        return { Contents: opts.exists ? [{ Key: cmd.input.Prefix }] : [] };
      }
      throw new Error(`unexpected ${op}`);
    },
  };
  return { s3: client as unknown as S3Client, calls };
}

describe('AWS store: a 403 on reading a key', () => {
  it.each(['head', 'getText'] as const)('%s: missing (the listing does not have it) → undefined, as for a 404', async (op) => {
    const { s3, calls } = fakeS3({ exists: false, listAllowed: true });
    await expect(createObjectStore(s3, 'b')[op]('drops/x/original')).resolves.toBeUndefined();
    expect(calls).toContain('ListObjectsV2Command');
  });

  it.each(['head', 'getText'] as const)('%s: the object exists → the 403 stands (a real access problem)', async (op) => {
    const { s3 } = fakeS3({ exists: true, listAllowed: true });
    await expect(createObjectStore(s3, 'b')[op]('drops/x/original')).rejects.toMatchObject({ name: 'Forbidden' });
  });

  it.each(['head', 'getText'] as const)('%s: no s3:ListBucket → an error naming the missing permission', async (op) => {
    const { s3 } = fakeS3({ exists: false, listAllowed: false });
    const err = await createObjectStore(s3, 'b')[op]('drops/x/original').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageForbidden);
    expect(String((err as Error).message)).toMatch(/s3:ListBucket/);
  });
});
