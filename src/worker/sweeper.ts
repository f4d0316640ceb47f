/**
 * The retention sweep: deletes drops whose lifetime is over, promptly (S3 lifecycle rules are
 * only a day-granular backstop, and emulators never run them). It reads the expiry index
 * (src/ports/expiry-index.ts) from its oldest bucket up to the current minute — never a scan
 * of every drop — and for each marker lets `sweepAction` (src/core/retention.ts) decide.
 *
 * Safe on every worker at once, with no claims: every step is idempotent (aborting a gone
 * upload, deleting missing keys), the manifest goes after the drop's other objects and the
 * marker last, so a sweep that dies half-way leaves a marker that the next one finishes.
 * drop.expired is enqueued before anything is deleted (the manifest is what the payload is
 * made of): a sweep that dies after enqueuing leaves the marker, and the next one enqueues
 * again (same webhook-ids) before it finishes — never a deleted drop without its webhook.
 * The drop's entry in its key's index (src/ports/key-index.ts) goes just before the manifest.
 *
 * Collections (src/core/collections.ts) have their own index, `index/collection-expiry/…`: a
 * collection's record expires with its last drop, and each time that expiry grows a new marker
 * is written. The sweep deletes a record once it is due (its drops have their own markers and
 * go on their own), and drops a marker that an extended expiry has made stale.
 */
import type { Logger } from 'pino';
import { dropKeys } from '../core/layout.js';
import type { Manifest } from '../core/manifest.js';
import { sweepAction } from '../core/retention.js';
import type { Clock } from '../ports/clock.js';
import { dueMarkers, type DueMarker } from '../ports/expiry-index.js';
import type { ManifestRepo } from '../ports/manifests.js';
import type { ObjectStore } from '../ports/object-store.js';
import { silentAnnouncer, type Announcer } from '../ports/announcer.js';
import { expiryAnnounced } from '../core/webhooks.js';
import { keyIndexEntry } from '../ports/key-index.js';
import { collectionSweepAction, collectionSweepListEnd, parseCollectionExpiryKey, COLLECTION_EXPIRY_INDEX_PREFIX } from '../core/collections.js';
import { createCollectionRepo } from '../ports/collections.js';

export interface SweepDeps {
  store: ObjectStore;
  manifests: ManifestRepo;
  clock: Clock;
  log: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** Markers looked at per sweep (the rest wait for the next one). */
  batch?: number;
  /** Drops deleted at once. */
  concurrency?: number;
  /** Enqueues drop.expired webhooks (default: none). */
  announce?: Announcer;
}

export interface SweepResult {
  purged: number;
  unindexed: number;
  waiting: number;
  /** Collection records deleted because they had expired. */
  collections: number;
}

export type Sweep = () => Promise<SweepResult>;

export function createSweep(deps: SweepDeps): Sweep {
  const { store, manifests, clock, log } = deps;
  const batch = deps.batch ?? 1000;
  const concurrency = deps.concurrency ?? 8;

  /**
   * Deletes a due drop with the manifest its marker led to (read once, by `one`): the drop's
   * other objects and its key's listing entry in one DeleteObjects (the entry before the
   * manifest, which is what says where it is), then the manifest.
   */
  async function purge(id: string, manifest: Manifest | undefined): Promise<void> {
    const keys = dropKeys(id);
    const uploadId = manifest?.upload.uploadId;
    if (uploadId) await store.abortMultipart(keys.original, uploadId);
    const all = await store.listKeys(keys.prefix);
    const first = all.filter((k) => k !== keys.manifest);
    const entry = manifest && keyIndexEntry(manifest);
    if (entry) first.push(entry);
    if (first.length) await store.deleteKeys(first);
    await store.deleteKeys([keys.manifest]);
  }

  const collections = createCollectionRepo(store);

  async function sweepCollections(result: SweepResult): Promise<void> {
    const now = clock();
    const keys = await store.listKeys(COLLECTION_EXPIRY_INDEX_PREFIX, { before: collectionSweepListEnd(now), limit: batch });
    const junk: string[] = [];
    for (const key of keys) {
      const marker = parseCollectionExpiryKey(key);
      if (!marker) {
        junk.push(key);
        continue;
      }
      try {
        const rec = await collections.get(marker.id);
        const action = collectionSweepAction(marker.bucket, rec?.collection, clock());
        if (action.kind === 'wait') continue;
        if (action.kind === 'purge') {
          await collections.remove(marker.id);
          result.collections++;
          log.info({ collectionId: marker.id, reason: action.reason }, 'expired collection deleted');
        }
        await store.deleteKeys([key]);
      } catch (err) {
        log.warn({ collectionId: marker.id, err }, 'sweep could not delete an expired collection');
      }
    }
    if (junk.length) await store.deleteKeys(junk);
  }

  async function one(marker: DueMarker, result: SweepResult): Promise<void> {
    const rec = await manifests.get(marker.id);
    const action = sweepAction(marker.bucket, rec?.manifest, clock());
    if (action.kind === 'wait') {
      result.waiting++;
      return;
    }
    if (action.kind === 'purge') {
      if (rec && expiryAnnounced(rec.manifest)) await (deps.announce ?? silentAnnouncer).announce('drop.expired', rec.manifest);
      await purge(marker.id, rec?.manifest);
      result.purged++;
      log.info({ dropId: marker.id, reason: action.reason }, 'expired drop deleted');
    } else {
      result.unindexed++;
    }
    await store.deleteKeys([marker.key]);
  }

  return async function sweep(): Promise<SweepResult> {
    const result: SweepResult = { purged: 0, unindexed: 0, waiting: 0, collections: 0 };
    const { markers, junk } = await dueMarkers(store, clock(), batch);
    if (junk.length) await store.deleteKeys(junk);
    let next = 0;
    const lane = async () => {
      while (next < markers.length) {
        const marker = markers[next++]!;
        try {
          await one(marker, result);
        } catch (err) {
          // Left in the index: the next sweep tries again.
          log.warn({ dropId: marker.id, err }, 'sweep could not delete an expired drop');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, markers.length) }, lane));
    await sweepCollections(result);
    return result;
  };
}

/** Runs `sweep` now and then every `intervalMs` until stopped; a failed sweep is logged and retried next time. */
export function startSweeper(sweep: Sweep, opts: { intervalMs: number; log: Pick<Logger, 'warn' | 'debug'> }): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    running = sweep()
      .then((r) => {
        if (r.purged || r.unindexed || r.collections) opts.log.debug(r, 'sweep done');
      })
      .catch((err: unknown) => opts.log.warn({ err }, 'sweep failed; retrying at the next interval'))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, opts.intervalMs);
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
