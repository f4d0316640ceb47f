/**
 * A key's drops (`GET /v1/drops`) and the status of many drops at once
 * (`POST /v1/drops/lookup`), both read-only.
 *
 * The listing reads one key's index prefix (src/core/key-index.ts) in S3 key order, which is
 * newest first, and the manifest of each entry. Entries whose manifest is gone (and older
 * than a creation takes) or that belong to a cancelled drop are deleted on the way. A page
 * reads at most MAX_SCAN entries, so a `status` filter that matches little answers a short
 * page (or an empty one) with a `nextCursor` rather than reading the whole index.
 */
import { fail } from '../../core/errors.js';
import { isDropId } from '../../core/ids.js';
import { decodeCursor, encodeCursor, entryAction, keyIndexPrefix, parseKeyIndexKey } from '../../core/key-index.js';
import { effectiveStatus, type DropStatus, type Manifest } from '../../core/manifest.js';
import type { Clock } from '../../ports/clock.js';
import type { ManifestRepo } from '../../ports/manifests.js';
import type { ObjectStore } from '../../ports/object-store.js';

/** Index entries one listing request may read, whatever it filters. */
export const MAX_SCAN = 500;
/** Manifests read at once by one request. */
export const READ_CONCURRENCY = 8;

/** `fn` over `items` with at most `n` at once; results in order. */
export async function mapBounded<T, R>(items: readonly T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, lane));
  return out;
}

/** The manifest as readers see it now (an expired drop reads expired before anything records it). */
const asSeen = (m: Manifest, now: Date): Manifest => {
  const status = effectiveStatus(m, now);
  return status === m.status ? m : { ...m, status };
};

export interface ListPage {
  drops: Manifest[];
  nextCursor: string | null;
}

export function createListing(deps: { store: ObjectStore; manifests: ManifestRepo; clock: Clock }) {
  const { store, manifests, clock } = deps;

  async function list(keyId: string, opts: { limit: number; cursor?: string; status?: DropStatus }): Promise<ListPage> {
    const prefix = keyIndexPrefix(keyId);
    let after: string | undefined;
    if (opts.cursor !== undefined) {
      after = decodeCursor(prefix, opts.cursor);
      if (after === undefined) throw fail('VALIDATION_FAILED', 'cursor is not one this listing gave out', { field: 'querystring/cursor' });
    }
    const drops: Manifest[] = [];
    let scanned = 0;
    for (;;) {
      const want = Math.min(opts.limit - drops.length, MAX_SCAN - scanned);
      // One more than wanted says whether anything follows, without reading it.
      const keys = await store.listKeys(prefix, { ...(after !== undefined && { startAfter: after }), limit: want + 1 });
      const page = keys.slice(0, want);
      const more = keys.length > want;
      const now = clock();
      const read = await mapBounded(page, READ_CONCURRENCY, async (key) => {
        const entry = parseKeyIndexKey(prefix, key);
        if (!entry) return { key, action: 'clean' as const };
        const m = (await manifests.get(entry.id))?.manifest;
        return { key, action: entryAction(entry, m, keyId, now), m };
      });
      const stale = read.filter((r) => r.action === 'clean').map((r) => r.key);
      if (stale.length) await store.deleteKeys(stale).catch(() => {});
      for (const r of read) {
        if (r.action !== 'show' || !r.m) continue;
        const m = asSeen(r.m, now);
        if (opts.status === undefined || m.status === opts.status) drops.push(m);
      }
      scanned += page.length;
      if (page.length) after = page[page.length - 1]!;
      if (!more) return { drops, nextCursor: null };
      if (drops.length >= opts.limit || scanned >= MAX_SCAN) return { drops, nextCursor: encodeCursor(prefix, after!) };
    }
  }

  /** Each id's manifest as readers see it, or undefined (malformed ids read as unknown). */
  async function lookup(ids: readonly string[]): Promise<(Manifest | undefined)[]> {
    const now = clock();
    return mapBounded(ids, READ_CONCURRENCY, async (id) => {
      const m = isDropId(id) ? (await manifests.get(id))?.manifest : undefined;
      return m && asSeen(m, now);
    });
  }

  return { list, lookup };
}

export type Listing = ReturnType<typeof createListing>;
