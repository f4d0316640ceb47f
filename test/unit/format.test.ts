import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/core/format.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [999, '999 B'],
    [1023, '1023 B'],
    [KiB, '1.00 KiB'],
    [1536, '1.50 KiB'],
    [10 * KiB, '10.0 KiB'],
    [99.5 * KiB, '99.5 KiB'],
    [100 * KiB, '100 KiB'],
    [1023 * KiB, '1023 KiB'],
    [MiB, '1.00 MiB'],
    [30 * MiB, '30.0 MiB'],
    [512 * MiB, '512 MiB'],
    [GiB, '1.00 GiB'],
    [5.5 * GiB, '5.50 GiB'],
    [TiB, '1.00 TiB'],
    [42 * TiB, '42.0 TiB'],
    // TiB is the largest unit: bigger sizes stay in TiB rather than running out of names.
    [1024 * TiB, '1024 TiB'],
    [5000 * TiB, '5000 TiB'],
    [Number.MAX_SAFE_INTEGER, '8192 TiB'],
  ])('%d bytes is %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });

  it.each([
    ['a fraction of a byte (speeds are averages)', 512.6, '513 B'],
    ['less than half a byte', 0.4, '0 B'],
    ['a negative count', -1, '0 B'],
    ['a large negative count', -5 * GiB, '0 B'],
    ['NaN', Number.NaN, '0 B'],
    ['minus infinity', Number.NEGATIVE_INFINITY, '0 B'],
  ])('shows %s as whole bytes, never below zero', (_label, n, text) => {
    expect(formatBytes(n)).toBe(text);
  });

  it('always shows a number and a binary unit, with three significant digits from 1 KiB up', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
        const text = formatBytes(n);
        const match = /^(\d+(?:\.\d+)?) (B|KiB|MiB|GiB|TiB)$/.exec(text);
        expect(match, text).not.toBeNull();
        const [, digits = '', unit = ''] = match ?? [];
        const scale = { B: 1, KiB, MiB, GiB, TiB }[unit as 'B'];
        if (unit === 'B') {
          expect(Number(digits)).toBe(n);
        } else {
          // At least three significant digits and within rounding of the true value.
          expect(digits.replace('.', '').replace(/^0+/, '').length).toBeGreaterThanOrEqual(3);
          expect(Math.abs(Number(digits) * scale - n)).toBeLessThanOrEqual(0.005 * scale + 0.005 * n);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('never shows a smaller unit for more bytes', () => {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    const unitOf = (n: number) => units.indexOf(formatBytes(n).split(' ')[1] ?? '');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(unitOf(lo)).toBeLessThanOrEqual(unitOf(hi));
      }),
    );
  });
});
