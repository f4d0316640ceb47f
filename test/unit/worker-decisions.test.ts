/** The worker's pure decisions: status plan, verification, sniffing, outcomes, backoff, batching. */
import { describe, expect, it } from 'vitest';
import { DROP_STATUSES, newManifest } from '../../src/core/manifest.js';
import {
  combineOutcomes,
  done,
  looksLikeText,
  checkPublished,
  planForStatus,
  retry,
  retryDelaySeconds,
  skipped,
  sniffedTypeOf,
  thumbnailPlan,
  verifyObject,
} from '../../src/core/processing.js';
import { consumerBatchSizes } from '../../src/worker/worker.js';

const manifest = newManifest({
  id: 'V1StGXR8_Z5jdHi6B-myT',
  name: 'a.jpg',
  size: 1000,
  type: 'image/jpeg',
  ownerTokenHash: 'a'.repeat(64),
  upload: { mode: 'single', partSize: 1000, partCount: 1 },
  source: 'ticket',
  now: new Date('2030-01-01T00:00:00Z'),
  expiresAt: new Date('2030-01-02T00:00:00Z'),
});

describe('planForStatus', () => {
  it.each([
    ['uploading', 'process'],
    ['processing', 'process'],
    ['ready', 'check'],
    ['failed', 'check'],
    ['cancelled', 'remove'],
    ['expired', 'remove'],
  ] as const)('%s → %s', (status, plan) => {
    expect(planForStatus(status)).toBe(plan);
  });

  it('covers every status', () => {
    for (const s of DROP_STATUSES) expect(['process', 'check', 'remove']).toContain(planForStatus(s));
  });
});

describe('checkPublished', () => {
  const ready = { status: 'ready' as const, size: 1000, etag: '"abc"' };
  it.each([
    ['ready, the verified object again (quotes aside)', ready, { size: 1000, etag: 'abc' }, 'skip'],
    ['ready, nothing stored', ready, undefined, 'skip'],
    ['ready, same size, other ETag', ready, { size: 1000, etag: '"def"' }, 'replaced'],
    ['ready, other size', ready, { size: 999, etag: '"abc"' }, 'replaced'],
    ['ready without a recorded ETag, same size', { status: 'ready' as const, size: 1000 }, { size: 1000, etag: '"x"' }, 'skip'],
    ['failed, bytes stored', { status: 'failed' as const, size: 1000 }, { size: 1000, etag: '"x"' }, 'remove'],
    ['failed, nothing stored', { status: 'failed' as const, size: 1000 }, undefined, 'skip'],
  ] as const)('%s → %s', (_, m, head, action) => {
    expect(checkPublished(m, head).action).toBe(action);
  });
});

describe('verifyObject', () => {
  it('accepts the announced size, refuses any other or a missing object', () => {
    expect(verifyObject(manifest, { size: 1000, etag: '"e"' })).toEqual({ ok: true });
    expect(verifyObject(manifest, { size: 999, etag: '"e"' })).toEqual({
      ok: false,
      reason: 'size mismatch: announced 1000 bytes, stored 999',
    });
    expect(verifyObject(manifest, undefined)).toEqual({ ok: false, reason: 'object missing' });
  });
});

describe('thumbnailPlan', () => {
  it.each([
    ['image/jpeg', 10, 'decode'],
    ['image/png', 10, 'decode'],
    ['image/webp', 10, 'decode'],
    ['image/gif', 10, 'decode'],
    ['image/avif', 10, 'decode'],
    ['image/tiff', 10, 'decode'],
    ['image/heic', 10, 'none'],
    ['application/pdf', 10, 'none'],
    ['text/plain', 10, 'none'],
    ['image/jpeg', 101, 'refuse'],
  ] as const)('%s of %i bytes (limit 100) → %s', (type, size, kind) => {
    expect(thumbnailPlan(type, size, 100).kind).toBe(kind);
  });
});

describe('sniffing', () => {
  it('trusts file-type when it recognises the bytes', () => {
    expect(sniffedTypeOf('image/png', Buffer.from('hello'), true)).toBe('image/png');
  });

  it('calls UTF-8 without control bytes text, anything else octet-stream', () => {
    expect(sniffedTypeOf(undefined, Buffer.from('hello\r\n\tworld ü €'), true)).toBe('text/plain');
    expect(sniffedTypeOf(undefined, Buffer.from([0x68, 0x00, 0x69]), true)).toBe('application/octet-stream');
    expect(sniffedTypeOf(undefined, Buffer.from([0xff, 0xfe, 0x41]), true)).toBe('application/octet-stream');
    expect(sniffedTypeOf(undefined, Buffer.alloc(0), true)).toBe('application/octet-stream');
  });

  it('forgives a multi-byte character cut at the end of a partial head, not of a whole file', () => {
    const cut = Buffer.from('abc €').subarray(0, 5); // "€" is 3 bytes; 1 of them kept
    expect(looksLikeText(cut, false)).toBe(true);
    expect(looksLikeText(cut, true)).toBe(false);
  });
});

describe('combineOutcomes', () => {
  it('retries if any record must retry, else done if any was done, else skipped', () => {
    expect(combineOutcomes([done('a'), retry('b'), skipped('c')])).toEqual(retry('b'));
    expect(combineOutcomes([skipped('a'), done('b')])).toEqual(done('b'));
    expect(combineOutcomes([skipped('a'), skipped('b')])).toEqual(skipped('a; b'));
  });
});

describe('retryDelaySeconds', () => {
  it('doubles with each receive from the base, capped at 15 minutes', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelaySeconds(n, 5))).toEqual([5, 10, 20, 40, 80]);
    expect(retryDelaySeconds(12, 5)).toBe(900);
    expect(retryDelaySeconds(1000, 5)).toBe(900);
    expect(retryDelaySeconds(3, 0)).toBe(0);
  });

  it('treats a missing or odd receive count as the first', () => {
    expect(retryDelaySeconds(NaN, 5)).toBe(5);
    expect(retryDelaySeconds(0, 5)).toBe(5);
  });
});

describe('consumerBatchSizes', () => {
  it('splits concurrency into receives of at most 10', () => {
    expect(consumerBatchSizes(1)).toEqual([1]);
    expect(consumerBatchSizes(2)).toEqual([2]);
    expect(consumerBatchSizes(10)).toEqual([10]);
    expect(consumerBatchSizes(25)).toEqual([10, 10, 5]);
    expect(consumerBatchSizes(100).reduce((a, b) => a + b)).toBe(100);
  });
});
