/**
 * The part arithmetic beyond planning (src/core/parts.ts): rebuilding a drop's plan, plans
 * a client chose, Uppy's and the streaming route's part sizes, and `checkParts` — exactly
 * what complete refuses and why.
 */
import { describe, expect, it } from 'vitest';
import {
  CHUNKED_PART_SIZE,
  MAX_PARTS,
  MAX_PART_SIZE,
  MIB,
  MIN_PART_SIZE,
  PlanError,
  checkParts,
  clientPlan,
  planFits,
  planOf,
  planUpload,
  streamPartSize,
  uppyPartSize,
  type UploadPlan,
} from '../../src/core/parts.js';

const GIB = 1024 * MIB;

describe('planOf', () => {
  it.each([
    [10, { mode: 'single', partSize: 10, partCount: 1 }, 10],
    [0, { mode: 'single', partSize: 0, partCount: 1 }, 0],
    [20 * MIB, { mode: 'multipart', partSize: 8 * MIB, partCount: 3 }, 4 * MIB],
    [16 * MIB, { mode: 'multipart', partSize: 8 * MIB, partCount: 2 }, 8 * MIB],
  ] as const)('size %i, %o → last part %i', (size, upload, last) => {
    expect(planOf(size, upload)).toEqual({ ...upload, lastPartSize: last });
  });

  it('gives back what planUpload made', () => {
    for (const size of [0, 1, 16 * MIB, 16 * MIB + 1, 5 * GIB + 7]) {
      const p = planUpload(size);
      expect(planOf(size, p)).toEqual(p);
    }
  });
});

describe('planFits (a resumed drop must have been planned for this file)', () => {
  it.each([
    [25, { partSize: 10, partCount: 3 }, true],
    [30, { partSize: 10, partCount: 3 }, true],
    [31, { partSize: 10, partCount: 3 }, false],
    [20, { partSize: 10, partCount: 3 }, false],
    [0, { partSize: 0, partCount: 1 }, true],
    [5, { partSize: 0, partCount: 2 }, false],
    [0, { partSize: 10, partCount: 1 }, true],
  ])('%i bytes in %o: %s', (size, upload, fits) => {
    expect(planFits(size, upload)).toBe(fits);
  });
});

describe('clientPlan', () => {
  it.each([
    [10, { mode: 'single' }, { mode: 'single', partSize: 10, partCount: 1, lastPartSize: 10 }],
    [5 * GIB, { mode: 'single' }, { mode: 'single', partSize: 5 * GIB, partCount: 1, lastPartSize: 5 * GIB }],
    [12 * MIB, { mode: 'multipart', partSize: 5 * MIB }, { mode: 'multipart', partSize: 5 * MIB, partCount: 3, lastPartSize: 2 * MIB }],
    [10 * MIB, { mode: 'multipart', partSize: 5 * MIB }, { mode: 'multipart', partSize: 5 * MIB, partCount: 2, lastPartSize: 5 * MIB }],
    // One part may be smaller than S3's minimum: it is also the last.
    [100, { mode: 'multipart', partSize: 1000 }, { mode: 'multipart', partSize: 1000, partCount: 1, lastPartSize: 100 }],
    [0, { mode: 'multipart', partSize: MIN_PART_SIZE }, { mode: 'multipart', partSize: MIN_PART_SIZE, partCount: 1, lastPartSize: 0 }],
  ] as const)('%i bytes as %o → %o', (size, want, plan) => {
    expect(clientPlan(size, want)).toEqual(plan);
  });

  it.each([
    [5 * GIB + 1, { mode: 'single' }, 'SIZE_TOO_LARGE'],
    [-1, { mode: 'single' }, 'SIZE_INVALID'],
    [1.5, { mode: 'multipart', partSize: MIN_PART_SIZE }, 'SIZE_INVALID'],
    [12 * MIB, { mode: 'multipart', partSize: MIN_PART_SIZE - 1 }, 'SIZE_INVALID'],
    [12 * MIB, { mode: 'multipart', partSize: 0 }, 'SIZE_INVALID'],
    [12 * MIB, { mode: 'multipart', partSize: 5.5 * MIB + 0.5 }, 'SIZE_INVALID'],
    [6 * GIB, { mode: 'multipart', partSize: MAX_PART_SIZE + 1 }, 'SIZE_INVALID'],
    [MIN_PART_SIZE * MAX_PARTS + 1, { mode: 'multipart', partSize: MIN_PART_SIZE }, 'SIZE_TOO_LARGE'],
  ] as const)('%i bytes as %o is refused: %s', (size, want, code) => {
    expect(() => clientPlan(size, want)).toThrow(PlanError);
    try {
      clientPlan(size, want);
    } catch (e) {
      expect((e as PlanError).code).toBe(code);
    }
  });

  it('exactly 10,000 parts of the minimum is allowed', () => {
    expect(clientPlan(MIN_PART_SIZE * MAX_PARTS, { mode: 'multipart', partSize: MIN_PART_SIZE }).partCount).toBe(MAX_PARTS);
  });
});

describe('uppyPartSize', () => {
  it.each([
    // Uppy's default chunk: ceil(size / 10,000), at least 5 MiB.
    [12 * MIB, undefined, 5 * MIB],
    [1, undefined, 5 * MIB],
    [100 * GIB, undefined, Math.ceil((100 * GIB) / MAX_PARTS)],
    [50 * GIB, undefined, Math.ceil((50 * GIB) / MAX_PARTS)],
    // A client's own chunk size, raised to 5 MiB, or to fit 10,000 parts.
    [12 * MIB, 8 * MIB, 8 * MIB],
    [12 * MIB, 1 * MIB, 5 * MIB],
    [100 * GIB, 6 * MIB, Math.ceil((100 * GIB) / MAX_PARTS)],
    [MIN_PART_SIZE * MAX_PARTS, MIN_PART_SIZE, MIN_PART_SIZE],
    [MIN_PART_SIZE * MAX_PARTS + 1, MIN_PART_SIZE, Math.ceil((MIN_PART_SIZE * MAX_PARTS + 1) / MAX_PARTS)],
  ])('%i bytes, chunk %s → %i', (size, chunk, part) => {
    expect(uppyPartSize(size, chunk)).toBe(part);
  });
});

describe('streamPartSize', () => {
  it('is 16 MiB for a body of unknown length, else the plan\'s (at least 8 MiB)', () => {
    expect(streamPartSize(undefined)).toBe(CHUNKED_PART_SIZE);
    expect(CHUNKED_PART_SIZE).toBe(16 * MIB);
    expect(streamPartSize(0)).toBe(8 * MIB);
    expect(streamPartSize(1)).toBe(8 * MIB);
    expect(streamPartSize(100 * GIB)).toBe(planUpload(100 * GIB).partSize);
    expect(streamPartSize(100 * GIB)).toBeGreaterThan(8 * MIB);
  });
});

describe('checkParts', () => {
  const plan: UploadPlan = { mode: 'multipart', partSize: 10, partCount: 3, lastPartSize: 4 };
  const stored = [
    { partNumber: 1, size: 10, etag: '"a"' },
    { partNumber: 2, size: 10, etag: '"b"' },
    { partNumber: 3, size: 4, etag: '"c"' },
  ];
  const claimed = stored.map(({ partNumber, etag }) => ({ partNumber, etag }));

  it('accepts exactly the planned parts, in order, with or without the client\'s list (ETags quoted or not)', () => {
    expect(checkParts(plan, [...stored].reverse())).toEqual({ ok: true, parts: stored });
    expect(checkParts(plan, stored, claimed)).toEqual({ ok: true, parts: stored });
    expect(checkParts(plan, stored, claimed.map((c) => ({ ...c, etag: c.etag.replaceAll('"', '') })))).toEqual({ ok: true, parts: stored });
  });

  it.each([
    ['a part not stored', stored.slice(0, 2), undefined, 'PART_MISSING', { missing: [3] }],
    ['a part stored but not claimed', stored, claimed.slice(1), 'PART_MISSING', { missing: [1] }],
    ['a stored part beyond the plan', [...stored, { partNumber: 4, size: 1, etag: '"d"' }], undefined, 'PART_UNEXPECTED', { unexpected: [4] }],
    ['a claimed part beyond the plan', stored, [...claimed, { partNumber: 9, etag: '"z"' }], 'PART_UNEXPECTED', { unexpected: [9] }],
    ['a claimed part 0', stored, [{ partNumber: 0, etag: '"z"' }, ...claimed], 'PART_UNEXPECTED', { unexpected: [0] }],
    ['a part listed twice', stored, [...claimed, claimed[0]!], 'PART_UNEXPECTED', { reason: 'a part is listed twice' }],
    ['a part of another size', [stored[0]!, { ...stored[1]!, size: 9 }, stored[2]!], undefined, 'PART_SIZE_MISMATCH', { parts: [{ partNumber: 2, expected: 10, actual: 9 }] }],
    ['a last part of another size', [stored[0]!, stored[1]!, { ...stored[2]!, size: 10 }], undefined, 'PART_SIZE_MISMATCH', { parts: [{ partNumber: 3, expected: 4, actual: 10 }] }],
    ['a claimed ETag S3 does not hold', stored, [claimed[0]!, { partNumber: 2, etag: '"x"' }, claimed[2]!], 'PART_ETAG_MISMATCH', { parts: [2] }],
  ] as const)('refuses %s', (_what, s, c, code, details) => {
    expect(checkParts(plan, [...s], c ? [...c] : undefined)).toEqual({ ok: false, code, details });
  });

  it('missing parts are reported before foreign ones, sizes before ETags', () => {
    const r = checkParts(plan, [{ ...stored[0]!, size: 1 }, { partNumber: 7, size: 1, etag: '"q"' }]);
    expect(r).toMatchObject({ ok: false, code: 'PART_MISSING', details: { missing: [2, 3] } });
    const s = checkParts(plan, [{ ...stored[0]!, size: 1 }, stored[1]!, stored[2]!], [{ ...claimed[0]! }, { partNumber: 2, etag: '"x"' }, claimed[2]!]);
    expect(s).toMatchObject({ ok: false, code: 'PART_SIZE_MISMATCH' });
  });

  it('lists at most 100 problems', () => {
    const big: UploadPlan = { mode: 'multipart', partSize: 10, partCount: 500, lastPartSize: 10 };
    const r = checkParts(big, []);
    expect(r.ok === false && (r.details.missing as number[]).length).toBe(100);
    expect(r.ok === false && (r.details.missing as number[])[99]).toBe(100);
  });
});
