/**
 * Drops written straight through the ports (no HTTP), objects in the order the api and the
 * worker write them: expiry marker, the key's listing entry, manifest, the bytes — a ready
 * text drop (no thumbnails). Thousands a minute against the emulator, for suites that need a
 * full bucket.
 */
import { apply, newManifest, type Manifest } from '../../../src/core/manifest.js';
import { dropKeys } from '../../../src/core/layout.js';
import { expiryIndexKey, retentionTags } from '../../../src/core/retention.js';
import { hashOwnerToken, newDropId, newOwnerToken } from '../../../src/core/ids.js';
import { indexExpiry } from '../../../src/ports/expiry-index.js';
import { indexForKey, keyIndexEntry } from '../../../src/ports/key-index.js';
import { createManifestRepo } from '../../../src/ports/manifests.js';
import type { ObjectStore } from '../../../src/ports/object-store.js';

export interface SeededDrop {
  id: string;
  manifest: Manifest;
  expiresAt: Date;
  /** Every key the drop has (marker included, whether written yet or not). */
  keys: string[];
  marker: string;
}

const BYTES = Buffer.from('dropship bench seeded drop\n');

/** A ready drop made at `createdAt` by key `keyId`, living `lifetimeMs`. */
export function readyDrop(keyId: string, createdAt: Date, lifetimeMs: number): SeededDrop {
  const id = newDropId();
  const expiresAt = new Date(createdAt.getTime() + lifetimeMs);
  let m = newManifest({
    id,
    name: `seeded-${id}.txt`,
    size: BYTES.length,
    type: 'text/plain',
    ownerTokenHash: hashOwnerToken(newOwnerToken()),
    upload: { mode: 'single', partSize: BYTES.length, partCount: 1 },
    source: 'ticket',
    now: createdAt,
    expiresAt,
    uploadExpiresAt: new Date(createdAt.getTime() + Math.min(lifetimeMs, 3600_000)),
    keyId,
  });
  for (const e of [
    { type: 'complete' as const, at: new Date(createdAt.getTime() + 1000) },
    { type: 'processed' as const, at: new Date(createdAt.getTime() + 2000), sniffedType: 'text/plain', thumbnail: 'none' as const, thumbnails: [] },
  ]) {
    const r = apply(m, e);
    if (!r.ok) throw new Error(`seed: ${e.type} refused (${r.code})`);
    m = r.manifest;
  }
  const k = dropKeys(id);
  const marker = expiryIndexKey(id, expiresAt);
  return { id, manifest: m, expiresAt, marker, keys: [marker, keyIndexEntry(m)!, k.manifest, k.original] };
}

/** Writes `drops` (`withMarker: false` leaves the expiry markers out, see writeMarkers), `concurrency` at a time. */
export async function writeDrops(store: ObjectStore, drops: SeededDrop[], opts: { concurrency: number; withMarker: boolean }): Promise<void> {
  const repo = createManifestRepo(store);
  await inParallel(drops, opts.concurrency, async (d) => {
    if (opts.withMarker) await indexExpiry(store, d.manifest, d.expiresAt);
    await indexForKey(store, d.manifest);
    await repo.create(d.manifest);
    await store.put(dropKeys(d.id).original, BYTES, { contentType: 'text/plain' });
  });
}

/**
 * The same drop, its lifetime over since `expiresAt` (its manifest's expiry and its marker
 * moved there): what a drop that was live when its bytes came looks like once it expires.
 */
export function expiredVersion(d: SeededDrop, expiresAt: Date): SeededDrop {
  const manifest: Manifest = { ...d.manifest, expiresAt: expiresAt.toISOString(), upload: { ...d.manifest.upload, expiresAt: expiresAt.toISOString() } };
  const marker = expiryIndexKey(d.id, expiresAt);
  return { ...d, manifest, expiresAt, marker, keys: d.keys.map((k) => (k === d.marker ? marker : k)) };
}

/** Overwrites the drops' manifests (as the manifest repository writes them, unconditionally). */
export async function rewriteManifests(store: ObjectStore, drops: SeededDrop[], concurrency: number): Promise<void> {
  await inParallel(drops, concurrency, async (d) => {
    await store.put(dropKeys(d.id).manifest, JSON.stringify(d.manifest), { contentType: 'application/json', cacheControl: 'no-store', tags: retentionTags(d.manifest) });
  });
}

export async function writeMarkers(store: ObjectStore, drops: SeededDrop[], concurrency: number): Promise<void> {
  await inParallel(drops, concurrency, (d) => indexExpiry(store, d.manifest, d.expiresAt));
}

export async function inParallel<T>(items: T[], concurrency: number, f: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await f(items[next++]!);
    }),
  );
}
