/**
 * The per-key index on any ObjectStore (layout and cursor: src/core/key-index.ts): one empty
 * object per drop an API key created, written before the drop's manifest and deleted with the
 * drop (owner DELETE, the retention sweep; S3 lifecycle through the drop's retention tag).
 * `GET /v1/drops` lists one key's prefix, newest first, a page at a time.
 */
import { keyIndexKey } from '../core/key-index.js';
import type { Manifest } from '../core/manifest.js';
import { retentionTags } from '../core/retention.js';
import type { ObjectStore } from './object-store.js';

/** The drop's entry, or undefined for a drop no key created. */
export const keyIndexEntry = (m: Pick<Manifest, 'id' | 'keyId' | 'createdAt'>): string | undefined =>
  m.keyId === undefined ? undefined : keyIndexKey(m.keyId, m.createdAt, m.id);

/** Writes the drop's entry (with its retention tag, so lifecycle deletes it with the drop). */
export async function indexForKey(store: ObjectStore, m: Manifest): Promise<void> {
  const key = keyIndexEntry(m);
  if (key) await store.put(key, '', { contentType: 'application/octet-stream', tags: retentionTags(m) });
}

/** Deletes the drop's entry; idempotent. */
export async function unindexForKey(store: ObjectStore, m: Pick<Manifest, 'id' | 'keyId' | 'createdAt'>): Promise<void> {
  const key = keyIndexEntry(m);
  if (key) await store.deleteKeys([key]);
}
