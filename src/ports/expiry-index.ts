/**
 * The expiry index on any ObjectStore: one empty marker per drop that has a lifetime,
 * `index/expiry/{yyyymmddhhmm}/{id}` (src/core/retention.ts). Creation writes it before the
 * manifest; the sweep lists only the buckets that are due and deletes a marker once its drop
 * is gone. Markers carry the drop's retention tag, so on AWS lifecycle removes stray ones too.
 */
import { expiryIndexKey, parseExpiryIndexKey, retentionTags, sweepListEnd, EXPIRY_INDEX_PREFIX } from '../core/retention.js';
import type { Manifest } from '../core/manifest.js';
import type { ObjectStore } from './object-store.js';

export interface DueMarker {
  key: string;
  id: string;
  bucket: string;
}

/** Writes the drop's marker in the expiry index. */
export async function indexExpiry(store: ObjectStore, m: Manifest, expiresAt: Date): Promise<void> {
  await store.put(expiryIndexKey(m.id, expiresAt), '', { contentType: 'application/octet-stream', tags: retentionTags(m) });
}

/** Deletes the marker a creation wrote, when that creation is rolled back; idempotent. */
export async function unindexExpiry(store: ObjectStore, id: string, expiresAt: Date): Promise<void> {
  await store.deleteKeys([expiryIndexKey(id, expiresAt)]);
}

/** Markers in buckets up to now's minute, oldest first, at most `limit` — later buckets are never listed. */
export async function dueMarkers(store: ObjectStore, now: Date, limit: number): Promise<{ markers: DueMarker[]; junk: string[] }> {
  const keys = await store.listKeys(EXPIRY_INDEX_PREFIX, { before: sweepListEnd(now), limit });
  const markers: DueMarker[] = [];
  const junk: string[] = [];
  for (const key of keys) {
    const parsed = parseExpiryIndexKey(key);
    if (parsed) markers.push({ key, ...parsed });
    else junk.push(key);
  }
  return { markers, junk };
}
