/**
 * Collections: one share link for several drops. Pure decisions only — what a collection
 * record is, who may add which drop, how many fit, how long the record lives, what the
 * sweep does with its expiry marker and how the public view is shaped.
 *
 * A collection is `collections/{id}/manifest.json` (src/core/layout.ts): its title, the hash
 * of its owner token, the drops in the order they were added and its expiry. It holds no
 * file of its own; each drop keeps its own manifest, lifetime and links.
 *
 * Lifetime: a collection lives until its last drop's lifetime ends — its `expiresAt` is the
 * latest expiry among its drops, kept up to date as drops are added (a drop that never
 * expires makes the collection never expire) — and never less than `emptyLifetime` seconds
 * after creation, the time a client has to fill a collection it created empty. Deleting it
 * leaves a tombstone (`deletedAt`) until that expiry, so its link answers 410, not 404.
 */
import { isDropId } from './ids.js';
import { expiryBucket, retentionClass, RETENTION_TAG } from './retention.js';
import type { DropStatus } from './manifest.js';

export const MAX_COLLECTION_DROPS = 1000;
export const MAX_COLLECTION_TITLE = 200;
export const COLLECTION_EXPIRY_INDEX_PREFIX = 'index/collection-expiry/';

export interface CollectionMember {
  id: string;
  addedAt: string;
}

export interface Collection {
  v: 1;
  id: string;
  title?: string;
  ownerTokenHash: string;
  createdAt: string;
  /** ISO; null: never expires (a drop in it never does). */
  expiresAt: string | null;
  /** The API key that created it, if any. */
  keyId?: string;
  drops: CollectionMember[];
  /** Set when its owner deleted it: a tombstone that answers 410. */
  deletedAt?: string;
  /** Its password's scrypt hash (src/core/passwords.ts); absent: not protected. Private. */
  passwordHash?: string;
}

/** What the service knows of a drop it is about to add: its status now and its expiry. */
export interface Candidate {
  id: string;
  /** The drop's effective status at `now` (src/core/manifest.ts effectiveStatus). */
  status: DropStatus;
  /** ms; undefined: the drop never expires. */
  expiresAt: number | undefined;
}

/** Drops that can still be shared: anything that is or may become downloadable. */
export function addable(status: DropStatus): boolean {
  return status === 'uploading' || status === 'processing' || status === 'ready';
}

export type CollectionState = 'live' | 'deleted' | 'expired';

export function collectionState(c: Collection, now: Date): CollectionState {
  if (c.deletedAt) return 'deleted';
  if (c.expiresAt !== null && now.getTime() >= Date.parse(c.expiresAt)) return 'expired';
  return 'live';
}

/**
 * The collection's expiry (ms, undefined = never): the latest of its drops' expiries, and
 * never before `createdAt + emptyLifetime`. One drop that never expires keeps it forever.
 */
export function collectionExpiry(createdAt: number, emptyLifetime: number, drops: readonly (number | undefined)[]): number | undefined {
  let end = createdAt + emptyLifetime * 1000;
  for (const e of drops) {
    if (e === undefined) return undefined;
    if (e > end) end = e;
  }
  return end;
}

/** A title as stored: trimmed, control characters removed, at most MAX_COLLECTION_TITLE characters; empty → none. */
export function cleanTitle(title: string | undefined): string | undefined {
  if (title === undefined) return undefined;
  // eslint-disable-next-line no-control-regex
  const t = [...title.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').trim()].slice(0, MAX_COLLECTION_TITLE).join('');
  return t.length ? t : undefined;
}

export function newCollection(args: {
  id: string;
  ownerTokenHash: string;
  now: Date;
  emptyLifetime: number;
  title?: string | undefined;
  keyId?: string | undefined;
  passwordHash?: string | undefined;
}): Collection {
  if (!isDropId(args.id)) throw new RangeError('not a collection id');
  const end = collectionExpiry(args.now.getTime(), args.emptyLifetime, []);
  const title = cleanTitle(args.title);
  return {
    v: 1,
    id: args.id,
    ...(title !== undefined ? { title } : {}),
    ownerTokenHash: args.ownerTokenHash,
    createdAt: args.now.toISOString(),
    expiresAt: end === undefined ? null : new Date(end).toISOString(),
    ...(args.keyId !== undefined ? { keyId: args.keyId } : {}),
    ...(args.passwordHash !== undefined ? { passwordHash: args.passwordHash } : {}),
    drops: [],
  };
}

export type AddRefusal =
  | { code: 'DELETED' }
  | { code: 'EXPIRED' }
  | { code: 'FULL'; max: number }
  | { code: 'NOT_ADDABLE'; dropId: string; status: DropStatus };

export type AddResult = { ok: true; collection: Collection; changed: boolean } | ({ ok: false } & AddRefusal);

/**
 * Adds drops in the order given; a drop already in the collection stays where it is (adding it
 * again changes nothing). Refuses everything when the collection is deleted or expired, when
 * one candidate cannot be shared any more, or when the new drops would not all fit. The
 * expiry only ever grows: the drops already in it are represented by `c.expiresAt`.
 */
export function addDrops(c: Collection, candidates: readonly Candidate[], now: Date, emptyLifetime: number, max = MAX_COLLECTION_DROPS): AddResult {
  const state = collectionState(c, now);
  if (state === 'deleted') return { ok: false, code: 'DELETED' };
  if (state === 'expired') return { ok: false, code: 'EXPIRED' };
  const have = new Set(c.drops.map((d) => d.id));
  const fresh: Candidate[] = [];
  for (const d of candidates) {
    if (have.has(d.id)) continue;
    if (!addable(d.status)) return { ok: false, code: 'NOT_ADDABLE', dropId: d.id, status: d.status };
    have.add(d.id);
    fresh.push(d);
  }
  if (fresh.length === 0) return { ok: true, collection: c, changed: false };
  if (c.drops.length + fresh.length > max) return { ok: false, code: 'FULL', max };
  const current = c.expiresAt === null ? undefined : Date.parse(c.expiresAt);
  const end = c.expiresAt === null ? undefined : collectionExpiry(Date.parse(c.createdAt), emptyLifetime, [current, ...fresh.map((d) => d.expiresAt)]);
  const at = now.toISOString();
  return {
    ok: true,
    changed: true,
    collection: {
      ...c,
      expiresAt: end === undefined ? null : new Date(end).toISOString(),
      drops: [...c.drops, ...fresh.map((d) => ({ id: d.id, addedAt: at }))],
    },
  };
}

/** The tombstone of a deleted collection; unchanged when it is one already. */
export function markDeleted(c: Collection, now: Date): { collection: Collection; changed: boolean } {
  if (c.deletedAt) return { collection: c, changed: false };
  return { collection: { ...c, deletedAt: now.toISOString() }, changed: true };
}

// ---- the public view ------------------------------------------------------------------

export interface CollectionView<D> {
  id: string;
  title: string | null;
  createdAt: string;
  expiresAt?: string;
  shareUrl: string;
  drops: D[];
}

/**
 * The view anyone holding the id gets: its drops in the order added, each as the public view
 * of that drop (`views`, by id); drops whose manifest is gone (swept after they expired) are
 * left out.
 */
/** All a reader who has not unlocked a password-protected collection sees: that it exists and its expiry. */
export function protectedCollectionView(c: Collection): { id: string; expiresAt?: string; protected: true } {
  return { id: c.id, ...(c.expiresAt !== null ? { expiresAt: c.expiresAt } : {}), protected: true };
}

export function collectionView<D>(c: Collection, base: string, views: ReadonlyMap<string, D>): CollectionView<D> {
  return {
    id: c.id,
    title: c.title ?? null,
    createdAt: c.createdAt,
    ...(c.expiresAt !== null ? { expiresAt: c.expiresAt } : {}),
    shareUrl: `${base}/c/${c.id}`,
    drops: c.drops.flatMap((d) => {
      const v = views.get(d.id);
      return v === undefined ? [] : [v];
    }),
  };
}

// ---- retention ------------------------------------------------------------------------

/** The marker of a collection's expiry: `index/collection-expiry/{yyyymmddhhmm}/{id}`. */
export function collectionExpiryKey(id: string, expiresAt: Date): string {
  if (!isDropId(id)) throw new RangeError('not a collection id');
  return `${COLLECTION_EXPIRY_INDEX_PREFIX}${expiryBucket(expiresAt)}/${id}`;
}

export function parseCollectionExpiryKey(key: string): { bucket: string; id: string } | undefined {
  if (!key.startsWith(COLLECTION_EXPIRY_INDEX_PREFIX)) return undefined;
  const [bucket, id, ...rest] = key.slice(COLLECTION_EXPIRY_INDEX_PREFIX.length).split('/');
  if (!bucket || !/^\d{12}$/.test(bucket) || !id || !isDropId(id) || rest.length) return undefined;
  return { bucket, id };
}

/** Where a sweep at `now` stops listing collection markers (exclusive). */
export function collectionSweepListEnd(now: Date): string {
  return `${COLLECTION_EXPIRY_INDEX_PREFIX}${expiryBucket(new Date(now.getTime() + 60_000))}`;
}

export type CollectionSweepAction =
  /** Delete the collection's record, then the marker. */
  | { kind: 'purge'; reason: string }
  /** Not due yet. */
  | { kind: 'wait' }
  /** The record lives on (it expires later, or never): drop this marker only. */
  | { kind: 'unindex'; reason: string };

/**
 * What the sweep does with a collection marker of `bucket`. Every time a collection's expiry
 * grows a new marker is written (before the record), so a marker of an earlier minute than
 * the record's expiry is stale and only goes.
 */
export function collectionSweepAction(bucket: string, c: Collection | undefined, now: Date): CollectionSweepAction {
  if (!c) {
    // The marker is written just before the record: once its minute is past, a missing record
    // is one already deleted or a creation that failed.
    return bucket < expiryBucket(now) ? { kind: 'purge', reason: 'no record' } : { kind: 'wait' };
  }
  if (c.expiresAt === null) return { kind: 'unindex', reason: 'the collection does not expire' };
  const end = Date.parse(c.expiresAt);
  if (bucket < expiryBucket(new Date(end))) return { kind: 'unindex', reason: 'the collection expires later' };
  return now.getTime() >= end ? { kind: 'purge', reason: 'expired' } : { kind: 'wait' };
}

/** Tags the record and its markers are written with: the retention class of its lifetime so far. */
export function collectionRetentionTags(c: Collection): Record<string, string> {
  if (c.expiresAt === null) return {};
  const cls = retentionClass(Math.ceil((Date.parse(c.expiresAt) - Date.parse(c.createdAt)) / 1000));
  return cls ? { [RETENTION_TAG]: cls } : {};
}
