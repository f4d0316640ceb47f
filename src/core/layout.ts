// Where a drop's objects live in the bucket. Keys are made only from the server-generated id,
// never from anything the user named, so no key can escape its drop's prefix.
//
//   drops/{id}/original         the published bytes (what downloads serve)
//   drops/{id}/posted/original  a browser form upload (Uppy's S3 POST policy) before the
//                               worker publishes it: a POST policy cannot be made create-only,
//                               so form uploads land here and only the worker writes `original`
//   drops/{id}/manifest.json    state (see manifest.ts)
//   drops/{id}/thumb-{w}.webp   thumbnails
//
//   collections/{id}/manifest.json   a collection: one link for several drops (collections.ts)
//
// The bucket notification filters on prefix "drops/" and suffix "/original", so both uploads
// wake the worker and writing a manifest, a thumbnail or a collection never does.

import { isDropId } from './ids.js';

export const DROPS_PREFIX = 'drops/';

export interface DropKeys {
  prefix: string;
  original: string;
  posted: string;
  manifest: string;
  thumb(width: number): string;
}

export function dropKeys(id: string): DropKeys {
  // Ids reach here from URLs; a malformed one must fail loudly rather than address other keys.
  if (!isDropId(id)) throw new RangeError('not a drop id');
  const prefix = `${DROPS_PREFIX}${id}/`;
  return {
    prefix,
    original: `${prefix}original`,
    posted: `${prefix}posted/original`,
    manifest: `${prefix}manifest.json`,
    thumb(width: number): string {
      if (!Number.isSafeInteger(width) || width <= 0) throw new RangeError('thumbnail width must be a positive integer');
      return `${prefix}thumb-${width}.webp`;
    },
  };
}

/** The drop id of any object directly under a drop's prefix, else undefined. */
export function dropIdFromKey(key: string): string | undefined {
  if (!key.startsWith(DROPS_PREFIX)) return undefined;
  const [id, object, ...deeper] = key.slice(DROPS_PREFIX.length).split('/');
  if (!isDropId(id) || !object || deeper.length > 0) return undefined;
  return id;
}

export function isOriginalKey(key: string): boolean {
  const id = dropIdFromKey(key);
  return id !== undefined && key === `${DROPS_PREFIX}${id}/original`;
}

/** What an uploaded key is: a drop's published original, its posted (form) upload, or neither. */
export function uploadedObjectOf(key: string): { dropId: string; kind: 'original' | 'posted' } | undefined {
  if (isOriginalKey(key)) return { dropId: dropIdFromKey(key)!, kind: 'original' };
  const m = /^drops\/([^/]+)\/posted\/original$/.exec(key);
  return m && isDropId(m[1]!) ? { dropId: m[1]!, kind: 'posted' } : undefined;
}

export const COLLECTIONS_PREFIX = 'collections/';

export interface CollectionKeys {
  prefix: string;
  manifest: string;
}

/** A collection's keys; its id is server-made like a drop's (same generator, same check). */
export function collectionKeys(id: string): CollectionKeys {
  if (!isDropId(id)) throw new RangeError('not a collection id');
  const prefix = `${COLLECTIONS_PREFIX}${id}/`;
  return { prefix, manifest: `${prefix}manifest.json` };
}
