/** The per-key index's layout, cursors and entry decisions (src/core/key-index.ts). */
import { describe, expect, it } from 'vitest';
import {
  decodeCursor,
  encodeCursor,
  ENTRY_GRACE_MS,
  entryAction,
  KEY_INDEX_PREFIX,
  keyIndexKey,
  keyIndexPrefix,
  parseKeyIndexKey,
} from '../../src/core/key-index.js';

const ID_A = 'V1StGXR8_Z5jdHi6B-myT';
const ID_B = 'AbCdEfGhIjKlMnOpQrStU';

describe('key index layout', () => {
  it('gives each key one fixed-length prefix from the hash of its id', () => {
    const p = keyIndexPrefix('billing');
    expect(p).toMatch(new RegExp(`^${KEY_INDEX_PREFIX}[0-9a-f]{32}/$`));
    expect(keyIndexPrefix('billing')).toBe(p);
    expect(keyIndexPrefix('billing2')).not.toBe(p);
    expect(() => keyIndexPrefix('')).toThrow(RangeError);
  });

  it('sorts newer drops first; same millisecond by id', () => {
    const older = keyIndexKey('k', '2030-01-01T00:00:00.000Z', ID_A);
    const newer = keyIndexKey('k', '2030-01-01T00:00:00.001Z', ID_A);
    expect(newer < older).toBe(true);
    const a = keyIndexKey('k', '2030-01-01T00:00:00.000Z', ID_A);
    const b = keyIndexKey('k', '2030-01-01T00:00:00.000Z', ID_B);
    expect([a, b].sort()).toEqual([b, a]);
    expect(parseKeyIndexKey(keyIndexPrefix('k'), older)).toEqual({ id: ID_A, createdMs: Date.parse('2030-01-01T00:00:00.000Z') });
  });

  it('refuses what is not a drop id or a time', () => {
    expect(() => keyIndexKey('k', '2030-01-01T00:00:00.000Z', '../x')).toThrow(RangeError);
    expect(() => keyIndexKey('k', 'soon', ID_A)).toThrow(RangeError);
    const p = keyIndexPrefix('k');
    expect(parseKeyIndexKey(p, `${p}junk`)).toBeUndefined();
    expect(parseKeyIndexKey(p, `${keyIndexPrefix('other')}0000000000001-${ID_A}`)).toBeUndefined();
  });
});

describe('cursors', () => {
  const p = keyIndexPrefix('billing');
  const entry = keyIndexKey('billing', '2030-01-01T00:00:00.000Z', ID_A);

  it('round-trip under the same prefix and are opaque', () => {
    const c = encodeCursor(p, entry);
    expect(c).not.toContain(ID_A);
    expect(decodeCursor(p, c)).toBe(entry);
  });

  it('stay under the caller\'s prefix: another key\'s cursor names an entry of the caller', () => {
    const mine = keyIndexPrefix('mallory');
    expect(decodeCursor(mine, encodeCursor(p, entry))!.startsWith(mine)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['a path', Buffer.from(`../${keyIndexPrefix('other')}`).toString('base64url')],
    ['another prefix', Buffer.from(entry).toString('base64url')],
    ['a bare id', Buffer.from(ID_A).toString('base64url')],
    ['too long', 'A'.repeat(65)],
  ])('refuses %s', (_what, c) => {
    expect(decodeCursor(p, c)).toBeUndefined();
  });
});

describe('entryAction', () => {
  const now = new Date('2030-01-01T01:00:00Z');
  const fresh = { createdMs: now.getTime() - 1000 };
  const old = { createdMs: now.getTime() - ENTRY_GRACE_MS - 1 };
  it.each([
    ['the key\'s live drop', fresh, { keyId: 'k', status: 'ready' }, 'show'],
    ['an expired drop not swept yet', old, { keyId: 'k', status: 'expired' }, 'show'],
    ['a cancelled (deleted) drop', old, { keyId: 'k', status: 'cancelled' }, 'clean'],
    ['another key\'s drop', old, { keyId: 'x', status: 'ready' }, 'clean'],
    ['no manifest, just created', fresh, undefined, 'skip'],
    ['no manifest, long since', old, undefined, 'clean'],
  ] as const)('%s → %s', (_what, entry, m, expected) => {
    expect(entryAction(entry, m, 'k', now)).toBe(expected);
  });
});
