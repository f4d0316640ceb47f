/**
 * What changes when the limits are shared by several replicas (slots that say `shared`, as the
 * Redis adapter does): part signing keeps no copy of the manifest, so a drop another replica
 * cancelled or completed a moment ago gets no part URL here; alone, the copy is kept.
 * Another replica's write is played here by a write that bypasses this app (`rewrite`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { memorySlots } from '../../src/memory/slots.js';
import type { CountedSlots } from '../../src/ports/slots.js';
import { memoryApp, type MemoryApp } from '../support/memory-app.js';

const MIB = 1024 * 1024;
let t: MemoryApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const shared = (): CountedSlots => ({ ...memorySlots(), shared: true });

async function cancelledElsewhere(app: MemoryApp) {
  const created = await app.call('POST', '/v1/drops', { body: { name: 'big.bin', size: 40 * MIB } });
  expect(created.statusCode).toBe(201);
  const { id, ownerToken } = created.json();
  const sign = () => app.call('POST', `/v1/drops/${id}/parts`, { owner: ownerToken, body: { partNumbers: [2] } });
  expect((await sign()).statusCode).toBe(200);
  await app.manifests.rewrite(id, (m) => ({ ...m, status: 'cancelled' }));
  return sign();
}

describe('part signing with shared limits', () => {
  it('reads the manifest on every batch: a drop cancelled on another replica is refused at once (409)', async () => {
    t = await memoryApp({}, { slots: shared() });
    const after = await cancelledElsewhere(t);
    expect(after.statusCode).toBe(409);
    expect(after.json()).toMatchObject({ error: { code: 'DROP_NOT_UPLOADING', details: { status: 'cancelled' } } });
  });

  it('alone (limits per process), signs from its copy for a few seconds — S3 refuses those parts, the upload being gone', async () => {
    t = await memoryApp();
    expect((await cancelledElsewhere(t)).statusCode).toBe(200);
  });
});
