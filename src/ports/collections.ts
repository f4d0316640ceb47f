/**
 * Collection records (collections/{id}/manifest.json) on any ObjectStore, kept like drop
 * manifests (manifests.ts): creation is a conditional create, and every change is a pure
 * function of the record (src/core/collections.ts) applied as a read-modify-write with
 * If-Match that re-reads and replays on a concurrent write (412) — two drops added at once
 * both land. Contention that outlasts the retries becomes STORAGE_BUSY (503, Retry-After).
 *
 * The expiry marker (`index/collection-expiry/…`, the sweep's index) is written before the
 * record whenever the record's expiry is new, so the sweep always finds a record that expires.
 */
import { fail } from '../core/errors.js';
import { collectionKeys } from '../core/layout.js';
import { collectionExpiryKey, collectionRetentionTags, type Collection } from '../core/collections.js';
import { PreconditionFailed, type ObjectStore } from './object-store.js';

export interface CollectionRecord {
  collection: Collection;
  etag: string;
}

export type Change = (c: Collection) => { collection: Collection; changed: boolean } | { refused: unknown };

export type ChangeOutcome =
  | { ok: true; collection: Collection; changed: boolean }
  | { ok: false; collection: Collection; refusal: unknown };

export interface CollectionRepo {
  /** Fails with PreconditionFailed when a record for this id already exists. */
  create(c: Collection): Promise<CollectionRecord>;
  get(id: string): Promise<CollectionRecord | undefined>;
  /** Applies `change` to the stored record; undefined when there is none. */
  update(id: string, change: Change): Promise<ChangeOutcome | undefined>;
  /** Deletes the record (the sweep, once it has expired). */
  remove(id: string): Promise<void>;
}

export const COLLECTION_WRITE_ATTEMPTS = 10;

export function createCollectionRepo(
  store: ObjectStore,
  opts: { attempts?: number; backoff?: (attempt: number) => Promise<void> } = {},
): CollectionRepo {
  const attempts = opts.attempts ?? COLLECTION_WRITE_ATTEMPTS;
  const backoff = opts.backoff ?? ((attempt: number) => new Promise<void>((r) => setTimeout(r, Math.random() * 20 * attempt)));

  async function indexExpiry(c: Collection, previous: string | null | undefined): Promise<void> {
    if (c.expiresAt === null || c.expiresAt === previous) return;
    await store.put(collectionExpiryKey(c.id, new Date(c.expiresAt)), '', {
      contentType: 'application/octet-stream',
      tags: collectionRetentionTags(c),
    });
  }

  const write = (c: Collection, cond: { ifNoneMatch?: boolean; ifMatch?: string }) =>
    store.put(collectionKeys(c.id).manifest, JSON.stringify(c), {
      contentType: 'application/json',
      cacheControl: 'no-store',
      tags: collectionRetentionTags(c),
      ...cond,
    });

  const get = async (id: string): Promise<CollectionRecord | undefined> => {
    const r = await store.getText(collectionKeys(id).manifest);
    return r && { collection: JSON.parse(r.text) as Collection, etag: r.etag };
  };

  return {
    async create(c) {
      await indexExpiry(c, undefined);
      const etag = await write(c, { ifNoneMatch: true });
      return { collection: c, etag };
    },
    get,
    async update(id, change) {
      for (let attempt = 1; attempt <= attempts; attempt++) {
        const current = await get(id);
        if (!current) return undefined;
        const r = change(current.collection);
        if ('refused' in r) return { ok: false, collection: current.collection, refusal: r.refused };
        if (!r.changed) return { ok: true, collection: current.collection, changed: false };
        await indexExpiry(r.collection, current.collection.expiresAt);
        try {
          await write(r.collection, { ifMatch: current.etag });
          return { ok: true, collection: r.collection, changed: true };
        } catch (e) {
          if (!(e instanceof PreconditionFailed)) throw e;
          if (attempt < attempts) await backoff(attempt);
        }
      }
      throw fail('STORAGE_BUSY', 'this collection is being changed by many requests at once; retry shortly', {}, 1);
    },
    async remove(id) {
      await store.deleteKeys([collectionKeys(id).manifest]);
    },
  };
}
