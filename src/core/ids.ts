// Drop ids and owner tokens.
//
// A drop id is public (it is in the share link) and only has to be unguessable; the owner
// token is the secret that allows signing parts, completing, aborting and deleting. It is
// returned once and only its hash is stored in the manifest.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
export const DROP_ID_LENGTH = 21;
const DROP_ID_PATTERN = /^[A-Za-z0-9_-]{21}$/;
const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/i;

/**
 * 21 characters of a 64-letter alphabet, URL-safe, about 126 random bits. The first one is a
 * letter or digit, so an id never looks like a command-line option (`dropship status -V…`).
 */
export function newDropId(): string {
  let id = '';
  while (id.length < DROP_ID_LENGTH) {
    for (const byte of randomBytes(DROP_ID_LENGTH)) {
      // 256 is a multiple of 64, so keeping the low 6 bits of a byte has no modulo bias;
      // dropping '_' and '-' in the first place keeps the rest uniform over 62 letters.
      const c = ID_ALPHABET[byte & 63]!;
      if (id.length === 0 && (c === '_' || c === '-')) continue;
      id += c;
      // Stryker disable next-line ConditionalExpression: breaking after every letter only draws more random bytes; each letter is still uniform
      if (id.length === DROP_ID_LENGTH) break;
    }
  }
  return id;
}

/** Drops made before ids began with a letter or digit may start with '_' or '-': still valid. */
export function isDropId(s: unknown): s is string {
  return typeof s === 'string' && DROP_ID_PATTERN.test(s);
}

/** 32 random bytes, base64url without padding (43 characters). */
export function newOwnerToken(): string {
  return randomBytes(32).toString('base64url');
}

// A plain SHA-256 is the right hash here, not a slow password KDF: the token has 256 bits of
// entropy, so nobody can guess it or brute-force it from its hash, and a KDF would only add
// CPU to every owner request.
export function hashOwnerToken(token: string): string {
  return sha256(token).toString('hex');
}

/** Whether `token` hashes to `hash`, compared in constant time. */
export function ownerTokenMatches(token: string | undefined, hash: string): boolean {
  if (typeof token !== 'string' || token.length === 0) return false;
  if (!SHA256_HEX_PATTERN.test(hash)) return false;
  // Both sides are 32-byte digests, so timingSafeEqual never sees different lengths and the
  // time taken does not depend on the token's length or content.
  return timingSafeEqual(sha256(token), Buffer.from(hash, 'hex'));
}

// A string is hashed as its UTF-8 bytes (update()'s default for strings).
function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
