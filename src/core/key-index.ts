// The per-key index behind `GET /v1/drops`: one empty object per drop, under a prefix of its
// own for each API key, named so that S3's key order is newest first.
//
//   index/keys/{keyHash}/{inverted creation ms}-{dropId}
//
// keyHash is the first 32 hex digits of SHA-256 over the key's id (ids are names an operator
// chose; the hash gives every key the same safe, fixed-length prefix), and the inverted time
// is 9999999999999 − createdAt in ms, 13 digits, so a later drop sorts first. Listing one
// key's drops reads only that key's prefix: its cost does not grow with other keys' drops.
//
// The cursor of a page is the last index entry it read, without the prefix, base64url
// encoded. It is only ever appended to the caller's own prefix, after being checked to be an
// entry name, so no cursor can reach another key's entries.

import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { isDropId } from './ids.js';

export const KEY_INDEX_PREFIX = 'index/keys/';
const MAX_TIME = 9_999_999_999_999;
const ENTRY = /^(\d{13})-([A-Za-z0-9_-]{21})$/;

/** The prefix of one key's entries. */
export function keyIndexPrefix(keyId: string): string {
  if (keyId.length === 0) throw new RangeError('a key id is needed');
  return `${KEY_INDEX_PREFIX}${createHash('sha256').update(keyId).digest('hex').slice(0, 32)}/`;
}

/** The entry of a drop created at `createdAt` (ISO time) by key `keyId`. */
export function keyIndexKey(keyId: string, createdAt: string, id: string): string {
  if (!isDropId(id)) throw new RangeError('not a drop id');
  const ms = Date.parse(createdAt);
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_TIME) throw new RangeError('not a creation time');
  return `${keyIndexPrefix(keyId)}${String(MAX_TIME - ms).padStart(13, '0')}-${id}`;
}

/** The drop id and creation time (ms) of an entry under `prefix`, or undefined for anything else. */
export function parseKeyIndexKey(prefix: string, key: string): { id: string; createdMs: number } | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const m = ENTRY.exec(key.slice(prefix.length));
  if (!m || !isDropId(m[2])) return undefined;
  return { id: m[2]!, createdMs: MAX_TIME - Number(m[1]) };
}

/** The opaque cursor after `key` (an entry under `prefix`). */
export function encodeCursor(prefix: string, key: string): string {
  return Buffer.from(key.slice(prefix.length), 'utf8').toString('base64url');
}

/** The entry a cursor stands for, under the caller's own prefix; undefined when it is not a cursor. */
export function decodeCursor(prefix: string, cursor: string): string | undefined {
  if (cursor.length === 0 || cursor.length > 64 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const tail = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!ENTRY.test(tail) || encodeCursor('', tail) !== cursor) return undefined;
  return `${prefix}${tail}`;
}

/** How long an entry may exist without its manifest before it is taken for a deleted drop's. */
export const ENTRY_GRACE_MS = 5 * 60_000;

/**
 * What a listing does with one entry: `show` the drop, `skip` it, or `clean` (delete the
 * entry; the drop is gone or cancelled). The entry is written before the manifest, so a
 * missing manifest is only taken for a deleted drop once the entry is older than a creation
 * can take; the entry of a drop another key owns (it cannot happen unless someone wrote
 * under the prefix) is skipped and cleaned.
 */
export function entryAction(
  entry: { createdMs: number },
  manifest: { keyId?: string; status: string } | undefined,
  keyId: string,
  now: Date,
): 'show' | 'skip' | 'clean' {
  if (!manifest) return now.getTime() - entry.createdMs > ENTRY_GRACE_MS ? 'clean' : 'skip';
  if (manifest.keyId !== keyId || manifest.status === 'cancelled') return 'clean';
  return 'show';
}
