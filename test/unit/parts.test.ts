import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GIB,
  MAX_OBJECT_SIZE,
  MAX_PART_SIZE,
  MAX_PARTS,
  MIB,
  MIN_PART_SIZE,
  PlanError,
  TIB,
  type PlanOptions,
  type UploadPlan,
  partRange,
  partSizeOf,
  partsInFlight,
  planUpload,
  plannedSize,
} from '../../src/core/parts.js';

// Expected values are worked out by hand (tusd calcpartsize_test style), not by the code.
describe('planUpload table (defaults: single PUT up to 16 MiB, about 8 parts of 5..8 MiB for mid-size files, 8 MiB parts above)', () => {
  const rows: [label: string, size: number, plan: UploadPlan][] = [
    ['empty file', 0, { mode: 'single', partSize: 0, partCount: 1, lastPartSize: 0 }],
    ['1 byte', 1, { mode: 'single', partSize: 1, partCount: 1, lastPartSize: 1 }],
    ['5 MiB - 1', 5 * MIB - 1, { mode: 'single', partSize: 5 * MIB - 1, partCount: 1, lastPartSize: 5 * MIB - 1 }],
    ['5 MiB', 5 * MIB, { mode: 'single', partSize: 5 * MIB, partCount: 1, lastPartSize: 5 * MIB }],
    ['5 MiB + 1', 5 * MIB + 1, { mode: 'single', partSize: 5 * MIB + 1, partCount: 1, lastPartSize: 5 * MIB + 1 }],
    ['16 MiB (largest single PUT)', 16 * MIB, { mode: 'single', partSize: 16 * MIB, partCount: 1, lastPartSize: 16 * MIB }],
    ['16 MiB + 1 (smallest multipart): S3-minimum parts', 16 * MIB + 1, { mode: 'multipart', partSize: 5 * MIB, partCount: 4, lastPartSize: MIB + 1 }],
    ['20 MiB: four 5 MiB parts, not 8 + 8 + 4', 20 * MIB, { mode: 'multipart', partSize: 5 * MIB, partCount: 4, lastPartSize: 5 * MIB }],
    ['30 MiB', 30 * MIB, { mode: 'multipart', partSize: 5 * MIB, partCount: 6, lastPartSize: 5 * MIB }],
    ['40 MiB: 8 parts of the S3 minimum', 40 * MIB, { mode: 'multipart', partSize: 5 * MIB, partCount: 8, lastPartSize: 5 * MIB }],
    ['40 MiB + 1: parts grow by whole MiB', 40 * MIB + 1, { mode: 'multipart', partSize: 6 * MIB, partCount: 7, lastPartSize: 4 * MIB + 1 }],
    ['48 MiB', 48 * MIB, { mode: 'multipart', partSize: 6 * MIB, partCount: 8, lastPartSize: 6 * MIB }],
    ['56 MiB + 1', 56 * MIB + 1, { mode: 'multipart', partSize: 8 * MIB, partCount: 8, lastPartSize: 1 }],
    ['64 MiB: 8 MiB parts from here on', 64 * MIB, { mode: 'multipart', partSize: 8 * MIB, partCount: 8, lastPartSize: 8 * MIB }],
    ['64 MiB + 3', 64 * MIB + 3, { mode: 'multipart', partSize: 8 * MIB, partCount: 9, lastPartSize: 3 }],
    ['1 GiB', GIB, { mode: 'multipart', partSize: 8 * MIB, partCount: 128, lastPartSize: 8 * MIB }],
    ['10,000 parts of 8 MiB exactly', 80_000 * MIB, { mode: 'multipart', partSize: 8 * MIB, partCount: 10_000, lastPartSize: 8 * MIB }],
    ['one byte past 10,000 x 8 MiB', 80_000 * MIB + 1, { mode: 'multipart', partSize: 9 * MIB, partCount: 8_889, lastPartSize: 8 * MIB + 1 }],
    ['80 GiB', 80 * GIB, { mode: 'multipart', partSize: 9 * MIB, partCount: 9_103, lastPartSize: 2 * MIB }],
    ['5 TiB - 1', 5 * TIB - 1, { mode: 'multipart', partSize: 525 * MIB, partCount: 9_987, lastPartSize: 230 * MIB - 1 }],
    ['5 TiB (S3 maximum)', 5 * TIB, { mode: 'multipart', partSize: 525 * MIB, partCount: 9_987, lastPartSize: 230 * MIB }],
  ];

  it.each(rows)('%s', (_label, size, expected) => {
    expect(planUpload(size)).toEqual(expected);
  });

  it.each([
    ['negative', -1, 'SIZE_INVALID'],
    ['fractional', 0.5, 'SIZE_INVALID'],
    ['NaN', Number.NaN, 'SIZE_INVALID'],
    ['Infinity', Number.POSITIVE_INFINITY, 'SIZE_INVALID'],
    ['-Infinity', Number.NEGATIVE_INFINITY, 'SIZE_INVALID'],
    ['unsafe integer', 2 ** 53, 'SIZE_INVALID'],
    ['5 TiB + 1', 5 * TIB + 1, 'SIZE_TOO_LARGE'],
    ['MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER, 'SIZE_TOO_LARGE'],
  ] as const)('rejects %s size with %s', (_label, size, code) => {
    let caught: unknown;
    try {
      planUpload(size);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PlanError);
    expect((caught as PlanError).code).toBe(code);
  });
});

describe('planUpload options', () => {
  it.each<[string, number, PlanOptions, UploadPlan]>([
    ['S3-minimum parts', GIB, { minPartSize: 5 * MIB }, { mode: 'multipart', partSize: 5 * MIB, partCount: 205, lastPartSize: 4 * MIB }],
    ['multipart for every non-empty file', 1, { singlePutMax: 0 }, { mode: 'multipart', partSize: 5 * MIB, partCount: 1, lastPartSize: 1 }],
    ['larger parts asked for: mid-size files still get about 8', 100 * MIB, { minPartSize: 64 * MIB }, { mode: 'multipart', partSize: 13 * MIB, partCount: 8, lastPartSize: 9 * MIB }],
    ['empty file stays single', 0, { singlePutMax: 0 }, { mode: 'single', partSize: 0, partCount: 1, lastPartSize: 0 }],
    ['large single PUT', 100 * MIB, { singlePutMax: 100 * MIB }, { mode: 'single', partSize: 100 * MIB, partCount: 1, lastPartSize: 100 * MIB }],
    ['5 GiB single PUT', 5 * GIB, { singlePutMax: 5 * GIB }, { mode: 'single', partSize: 5 * GIB, partCount: 1, lastPartSize: 5 * GIB }],
    ['part size larger than needed', 5 * TIB, { minPartSize: 5 * GIB }, { mode: 'multipart', partSize: 5 * GIB, partCount: 1024, lastPartSize: 5 * GIB }],
  ])('%s', (_label, size, opts, expected) => {
    expect(planUpload(size, opts)).toEqual(expected);
  });

  it.each<[string, PlanOptions]>([
    ['minPartSize below S3 minimum', { minPartSize: 5 * MIB - 1 }],
    ['minPartSize above S3 maximum', { minPartSize: 5 * GIB + 1 }],
    ['fractional minPartSize', { minPartSize: 6.5 * MIB + 0.5 }],
    ['negative singlePutMax', { singlePutMax: -1 }],
    ['singlePutMax above S3 single PUT limit', { singlePutMax: 5 * GIB + 1 }],
    ['NaN singlePutMax', { singlePutMax: Number.NaN }],
  ])('rejects %s', (_label, opts) => {
    expect(() => planUpload(GIB, opts)).toThrow(RangeError);
  });
});

describe('partsInFlight: parts land in S3 all along the upload, so a reload keeps work', () => {
  it.each([
    // [parts left, asked concurrency, in flight]
    [1, 4, 1],
    [4, 4, 1], // a 20 MiB file: one 5 MiB part at a time, each in S3 a quarter of the way on
    [6, 4, 2],
    [8, 4, 2],
    [9, 4, 3],
    [16, 4, 4],
    [10_000, 4, 4],
    [100, 1, 1],
    [100, 16, 16],
    [3, 0, 1],
    [0, 4, 1],
  ])('%i parts left, concurrency %i → %i at once', (parts, concurrency, expected) => {
    expect(partsInFlight(parts, concurrency)).toBe(expected);
  });
});

describe('partRange', () => {
  const plan = planUpload(64 * MIB + 3); // 8 full parts of 8 MiB, then 3 bytes

  it.each([
    [1, 0, 8 * MIB],
    [2, 8 * MIB, 8 * MIB],
    [8, 56 * MIB, 8 * MIB],
    [9, 64 * MIB, 3],
  ])('part %i starts at %i and has %i bytes', (partNumber, offset, size) => {
    expect(partRange(plan, partNumber)).toEqual({ partNumber, offset, size });
    expect(partSizeOf(plan, partNumber)).toBe(size);
  });

  it('covers a single PUT with part 1', () => {
    expect(partRange(planUpload(10), 1)).toEqual({ partNumber: 1, offset: 0, size: 10 });
    expect(partRange(planUpload(0), 1)).toEqual({ partNumber: 1, offset: 0, size: 0 });
  });

  it.each([0, -1, 10, 1.5, Number.NaN])('rejects part number %s', (n) => {
    expect(() => partRange(plan, n)).toThrow(RangeError);
    expect(() => partSizeOf(plan, n)).toThrow(RangeError);
  });
});

// Sizes anywhere in [0, 5 TiB], with extra weight on the edges where plans change shape.
const edges = [0, 1, MIN_PART_SIZE, 8 * MIB, 16 * MIB, 80_000 * MIB, GIB, 80 * GIB, MAX_OBJECT_SIZE];
const sizeArb = fc.oneof(
  fc.bigInt(0n, BigInt(MAX_OBJECT_SIZE)).map(Number),
  fc
    .tuple(fc.constantFrom(...edges), fc.integer({ min: -3, max: 3 }))
    .map(([edge, delta]) => Math.min(Math.max(edge + delta, 0), MAX_OBJECT_SIZE)),
  fc.integer({ min: 0, max: 200 * MIB }),
);
const optsArb = fc.record(
  {
    singlePutMax: fc.integer({ min: 0, max: 5 * GIB }),
    minPartSize: fc.integer({ min: MIN_PART_SIZE, max: 64 * MIB }),
  },
  { requiredKeys: [] },
);

describe('planUpload properties', () => {
  it('respects every S3 limit and accounts for every byte', () => {
    fc.assert(
      fc.property(sizeArb, optsArb, (size, opts) => {
        const plan = planUpload(size, opts);
        expect(plan.partCount).toBeGreaterThanOrEqual(1);
        expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
        expect(plan.partSize).toBeLessThanOrEqual(MAX_PART_SIZE);
        expect(plannedSize(plan)).toBe(size);
        if (plan.mode === 'single') {
          expect(plan).toEqual({ mode: 'single', partSize: size, partCount: 1, lastPartSize: size });
          expect(size).toBeLessThanOrEqual(opts.singlePutMax ?? 16 * MIB);
        } else {
          expect(size).toBeGreaterThan(opts.singlePutMax ?? 16 * MIB);
          // minPartSize for large files; mid-size ones have about 8 parts of at least 5 MiB.
          expect(plan.partSize).toBeGreaterThanOrEqual(Math.min(opts.minPartSize ?? 8 * MIB, Math.max(MIN_PART_SIZE, Math.ceil(size / 8))));
          expect(plan.partSize).toBeGreaterThanOrEqual(MIN_PART_SIZE);
          expect(plan.lastPartSize).toBeGreaterThan(0);
          expect(plan.lastPartSize).toBeLessThanOrEqual(plan.partSize);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('lays parts end to end: every part but the last is at least 5 MiB and the sizes sum to the file size', () => {
    fc.assert(
      fc.property(sizeArb, (size) => {
        const plan = planUpload(size);
        let next = 0;
        let gaps = 0;
        let smallParts = 0;
        // Plain counters: up to 10,000 parts per run is too many for one expect() each.
        for (let n = 1; n <= plan.partCount; n++) {
          const range = partRange(plan, n);
          if (range.offset !== next) gaps += 1;
          if (n < plan.partCount && range.size < MIN_PART_SIZE) smallParts += 1;
          next += range.size;
        }
        expect({ gaps, smallParts, end: next }).toEqual({ gaps: 0, smallParts: 0, end: size });
      }),
      { numRuns: 100 },
    );
  });

  it('uses the smallest whole-MiB part size that fits in 10,000 parts', () => {
    fc.assert(
      fc.property(sizeArb, (size) => {
        const plan = planUpload(size);
        if (plan.mode === 'multipart' && plan.partSize > 8 * MIB) {
          expect(plan.partSize % MIB).toBe(0);
          expect(Math.ceil(size / (plan.partSize - MIB))).toBeGreaterThan(MAX_PARTS);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('grows the part size with the file, never shrinking it', () => {
    fc.assert(
      fc.property(sizeArb, sizeArb, (a, b) => {
        const [small, large] = a <= b ? [a, b] : [b, a];
        const p = planUpload(small);
        const q = planUpload(large);
        if (p.mode === 'multipart') {
          expect(q.mode).toBe('multipart');
          expect(q.partSize).toBeGreaterThanOrEqual(p.partSize);
        }
      }),
      { numRuns: 500 },
    );
  });
});
