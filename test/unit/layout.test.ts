import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newDropId } from '../../src/core/ids.js';
import { collectionKeys, dropIdFromKey, dropKeys, isOriginalKey, uploadedObjectOf } from '../../src/core/layout.js';

const ID = 'V1StGXR8_Z5jdHi6B-myT';
const dropIdArb = fc.stringMatching(/^[A-Za-z0-9_-]{21}$/);

describe('dropKeys', () => {
  it('lays out a drop under its own prefix', () => {
    const keys = dropKeys(ID);
    expect(keys.prefix).toBe(`drops/${ID}/`);
    expect(keys.original).toBe(`drops/${ID}/original`);
    expect(keys.manifest).toBe(`drops/${ID}/manifest.json`);
    expect(keys.posted).toBe(`drops/${ID}/posted/original`);
    expect(keys.thumb(256)).toBe(`drops/${ID}/thumb-256.webp`);
    expect(keys.thumb(1024)).toBe(`drops/${ID}/thumb-1024.webp`);
  });

  it.each(['', '../../etc/passwd', 'a'.repeat(20), `${ID}/x`, `${ID.slice(1)}.`])('refuses a malformed id %j', (id) => {
    expect(() => dropKeys(id)).toThrow(RangeError);
  });

  it.each([0, -256, 1.5, Number.NaN])('refuses thumbnail width %s', (width) => {
    expect(() => dropKeys(ID).thumb(width)).toThrow(RangeError);
  });

  it('works for freshly made ids', () => {
    const id = newDropId();
    expect(dropKeys(id).original).toBe(`drops/${id}/original`);
  });
});

describe('uploadedObjectOf: the keys uploads land on', () => {
  it.each([
    [`drops/${ID}/original`, { dropId: ID, kind: 'original' }],
    [`drops/${ID}/posted/original`, { dropId: ID, kind: 'posted' }],
    [`drops/${ID}/posted/original/x`, undefined],
    [`drops/${ID}/posted/`, undefined],
    [`drops/${ID}/other/original`, undefined],
    [`drops/short/posted/original`, undefined],
    [`x/drops/${ID}/posted/original`, undefined],
    [`drops/${ID}/manifest.json`, undefined],
  ])('%j -> %j', (key, expected) => {
    expect(uploadedObjectOf(key)).toEqual(expected);
  });
});

describe('dropIdFromKey and isOriginalKey', () => {
  it.each([
    [`drops/${ID}/original`, ID, true],
    [`drops/${ID}/manifest.json`, ID, false],
    [`drops/${ID}/thumb-256.webp`, ID, false],
    [`drops/${ID}/`, undefined, false],
    [`drops/${ID}`, undefined, false],
    [`drops/${ID}/original/more`, undefined, false],
    [`drops/${ID}//original`, undefined, false],
    [`x/drops/${ID}/original`, undefined, false],
    [`drops/${ID}x/original`, undefined, false],
    ['drops/short/original', undefined, false],
    [`Drops/${ID}/original`, undefined, false],
    [`drops/${ID}/original `, ID, false],
    ['drops/undefined/original', undefined, false], // "undefined" is not an id, however the key is built
    ['', undefined, false],
  ])('%j -> id %s, original %s', (key, id, original) => {
    expect(dropIdFromKey(key)).toBe(id);
    expect(isOriginalKey(key)).toBe(original);
  });

  it('finds the id in every key dropKeys makes, and only the original counts as original', () => {
    fc.assert(
      fc.property(dropIdArb, fc.integer({ min: 1, max: 10_000 }), (id, width) => {
        const keys = dropKeys(id);
        for (const key of [keys.original, keys.manifest, keys.thumb(width)]) expect(dropIdFromKey(key)).toBe(id);
        expect(isOriginalKey(keys.original)).toBe(true);
        expect(isOriginalKey(keys.manifest)).toBe(false);
        expect(isOriginalKey(keys.thumb(width))).toBe(false);
      }),
    );
  });
});

describe('collectionKeys', () => {
  it('lays out a collection under its own prefix, apart from drops/ (which wakes the worker)', () => {
    const keys = collectionKeys(ID);
    expect(keys.prefix).toBe(`collections/${ID}/`);
    expect(keys.manifest).toBe(`collections/${ID}/manifest.json`);
    expect(keys.manifest.startsWith('drops/')).toBe(false);
    expect(uploadedObjectOf(keys.manifest)).toBeUndefined();
    expect(dropIdFromKey(keys.manifest)).toBeUndefined();
  });

  it.each(['', '../../etc/passwd', 'a'.repeat(20), `${ID}/x`, `${ID.slice(1)}.`])('refuses a malformed id %j', (id) => {
    expect(() => collectionKeys(id)).toThrow(RangeError);
  });
});
