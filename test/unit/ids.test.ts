import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashOwnerToken, isDropId, newDropId, newOwnerToken, ownerTokenMatches } from '../../src/core/ids.js';

describe('newDropId', () => {
  const ids = Array.from({ length: 10_000 }, () => newDropId());

  it('is 21 URL-safe characters', () => {
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{21}$/);
  });

  it('never repeats over 10,000 ids', () => {
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('draws on the whole 64-character alphabet (126 bits per id)', () => {
    // 210,000 characters: every letter is expected ~3,300 times, so a missing or heavily
    // skewed one means the mapping from random bytes is wrong.
    const counts = new Map<string, number>();
    for (const id of ids) for (const ch of id) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(64);
    for (const count of counts.values()) expect(count).toBeGreaterThan(2_500);
  });

  it('is recognised by isDropId', () => {
    for (const id of ids.slice(0, 100)) expect(isDropId(id)).toBe(true);
  });

  it('never begins with "-" or "_", so it cannot be read as a command-line option', () => {
    // With a uniform first letter 1 id in 32 would start with one of them: ~312 of 10,000.
    expect(ids.filter((id) => /^[-_]/.test(id))).toEqual([]);
    expect(new Set(ids.map((id) => id[0])).size).toBe(62);
  });

  it('still accepts older ids that begin with "-"', () => {
    expect(isDropId('-Vxx1StGXR8_Z5jdHi6Bm')).toBe(true);
  });
});

describe('isDropId', () => {
  it.each([
    ['20 characters', 'a'.repeat(20)],
    ['22 characters', 'a'.repeat(22)],
    ['a dot', `${'a'.repeat(20)}.`],
    ['a slash', `${'a'.repeat(20)}/`],
    ['a space', `${'a'.repeat(20)} `],
    ['a trailing newline', `${'a'.repeat(21)}\n`],
    ['a non-ASCII letter', `${'a'.repeat(20)}é`],
    ['empty', ''],
  ])('rejects %s', (_label, s) => {
    expect(isDropId(s)).toBe(false);
  });

  it.each([undefined, null, 21, {}])('rejects non-string %s', (v) => {
    expect(isDropId(v)).toBe(false);
  });

  // Values whose string form is 21 id characters: a repeated query parameter parses to an
  // array, and a 21-digit number prints as 21 digits. Neither is an id.
  it.each([
    ['an array holding an id', ['V1StGXR8_Z5jdHi6B-myT']],
    ['a 21-digit number', 123456789012345680000],
    ['an object that prints as an id', { toString: () => 'V1StGXR8_Z5jdHi6B-myT' }],
  ])('rejects %s', (_label, v) => {
    expect(isDropId(v)).toBe(false);
  });

  it('accepts every alphabet character', () => {
    expect(isDropId('ABCXYZabcxyz0189_-Aa0')).toBe(true);
  });
});

describe('owner tokens', () => {
  it('are 32 random bytes in base64url (43 characters)', () => {
    const tokens = Array.from({ length: 1_000 }, () => newOwnerToken());
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    }
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('hash to lowercase hex SHA-256, deterministically', () => {
    const token = newOwnerToken();
    const hash = hashOwnerToken(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashOwnerToken(token)).toBe(hash);
    // Known vector: SHA-256("abc").
    expect(hashOwnerToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    // Non-ASCII is hashed as UTF-8 (`printf 'naïve 😀' | sha256sum`).
    expect(hashOwnerToken('naïve 😀')).toBe('53c2bbca83e9f8b55d56a8687056c5027b4245348977848d28fb3aaa01abccff');
  });

  it('match their own hash', () => {
    const token = newOwnerToken();
    expect(ownerTokenMatches(token, hashOwnerToken(token))).toBe(true);
  });

  it('accept an upper-case stored hash', () => {
    const token = newOwnerToken();
    expect(ownerTokenMatches(token, hashOwnerToken(token).toUpperCase())).toBe(true);
  });

  it.each([
    ['another token', () => newOwnerToken()],
    ['the token with one character changed', (t: string) => (t.startsWith('A') ? 'B' : 'A') + t.slice(1)],
    ['a prefix of the token', (t: string) => t.slice(0, 42)],
    ['the token plus a character', (t: string) => `${t}A`],
    ['the hash itself', (_t: string, hash: string) => hash],
    ['an empty token', () => ''],
    ['no token', () => undefined],
  ])('reject %s', (_label, wrong) => {
    const token = newOwnerToken();
    const hash = hashOwnerToken(token);
    expect(ownerTokenMatches(wrong(token, hash), hash)).toBe(false);
  });

  it('never let an empty token in, even against the hash of the empty string', () => {
    expect(ownerTokenMatches('', hashOwnerToken(''))).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['truncated', 'ab'.repeat(31)],
    ['not hex', 'z'.repeat(64)],
    ['too long', 'a'.repeat(66)],
  ])('never match a malformed stored hash (%s)', (_label, hash) => {
    expect(ownerTokenMatches('anything', hash)).toBe(false);
  });

  it('match exactly the token that was hashed (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        const hash = hashOwnerToken(a);
        expect(ownerTokenMatches(a, hash)).toBe(true);
        expect(ownerTokenMatches(b, hash)).toBe(a === b);
      }),
    );
  });
});
