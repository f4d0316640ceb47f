/**
 * Collections as the api sees them: create, add drops, read, delete. The decisions (who may
 * add what, the limit, the lifetime, the view) are pure (src/core/collections.ts); records
 * live on the ObjectStore through the CollectionRepo (conditional writes, replayed on 412).
 *
 * Adding a drop needs both secrets: the collection's owner token (X-Owner-Token) and the
 * drop's own, checked against its manifest's hash exactly as the drop routes check it.
 * Deleting a collection deletes its drops too: its owner proved ownership of each one when
 * adding it (docs/api.md, "Collections").
 */
import { addDrops, collectionState, collectionView, markDeleted, newCollection, type Candidate, type AddRefusal, type Collection, type CollectionView } from '../../core/collections.js';
import { DropshipError, fail } from '../../core/errors.js';
import { hashOwnerToken, isDropId, newDropId, newOwnerToken, ownerTokenMatches } from '../../core/ids.js';
import { dropExpiry, effectiveStatus, type Manifest } from '../../core/manifest.js';
import type { DropView } from '../../core/drop-view.js';
import type { Clock } from '../../ports/clock.js';
import type { CollectionRecord, CollectionRepo } from '../../ports/collections.js';
import type { DropService } from './drops.js';
import { hashPassword } from '../../core/passwords.js';
import { mapBounded } from './listing.js';

export interface DropRef {
  id: string;
  ownerToken: string;
}

export interface CollectionDeps {
  collections: CollectionRepo;
  drops: Pick<DropService, 'load' | 'status' | 'cancelProved'>;
  clock: Clock;
  publicUrl: string;
  /** Seconds an empty collection lives (its drops' lifetimes extend it): DROPSHIP_TICKET_TTL. */
  emptyLifetime: number;
  /** How a drop looks to the public (GET /v1/drops/:id without a key or token). */
  render: (m: Manifest) => DropView;
  /** Drops read at once for a view, a check or a delete. */
  concurrency?: number;
}

export type CollectionService = ReturnType<typeof createCollectionService>;


function refusal(r: AddRefusal): DropshipError {
  switch (r.code) {
    case 'DELETED':
      return fail('COLLECTION_DELETED', 'this collection was deleted by its owner');
    case 'EXPIRED':
      return fail('COLLECTION_EXPIRED', 'this collection has expired');
    case 'FULL':
      return fail('COLLECTION_FULL', `a collection holds at most ${r.max} drops`, { max: r.max });
    case 'NOT_ADDABLE':
      return fail('DROP_NOT_ADDABLE', `drop ${r.dropId} is ${r.status}: it cannot join a collection`, { dropId: r.dropId, status: r.status });
  }
}

export function createCollectionService(deps: CollectionDeps) {
  const { collections, drops, clock, publicUrl, emptyLifetime } = deps;
  const concurrency = deps.concurrency ?? 16;

  async function load(id: string): Promise<CollectionRecord> {
    // Malformed ids answer like unknown ones.
    const rec = isDropId(id) ? await collections.get(id) : undefined;
    if (!rec) throw fail('COLLECTION_NOT_FOUND', 'no collection with this id');
    return rec;
  }

  /** A record anyone may read: a deleted or expired one is gone (410). */
  function requireLive(c: Collection): void {
    const state = collectionState(c, clock());
    if (state === 'deleted') throw fail('COLLECTION_DELETED', 'this collection was deleted by its owner');
    if (state === 'expired') throw fail('COLLECTION_EXPIRED', 'this collection has expired');
  }

  async function loadOwned(id: string, ownerToken: string | undefined): Promise<CollectionRecord> {
    if (!ownerToken) throw fail('UNAUTHORIZED', 'this needs the X-Owner-Token header returned when the collection was created');
    const rec = await load(id);
    if (!ownerTokenMatches(ownerToken, rec.collection.ownerTokenHash)) {
      throw fail('OWNER_TOKEN_INVALID', 'the owner token does not match this collection');
    }
    return rec;
  }

  /** Each drop exists, its token is its own and it can still be shared: what adding it needs. */
  async function candidates(refs: readonly DropRef[]): Promise<Candidate[]> {
    // One check per drop, however often it is listed.
    const unique = [...new Map(refs.map((r) => [r.id, r])).values()];
    const now = clock();
    return mapBounded(unique, concurrency, async (ref) => {
      let m: Manifest;
      try {
        m = (await drops.load(ref.id)).manifest;
      } catch (e) {
        if (e instanceof DropshipError && e.code === 'DROP_NOT_FOUND') throw fail('DROP_NOT_FOUND', `no drop with id ${ref.id}`, { dropId: ref.id });
        throw e;
      }
      if (!ownerTokenMatches(ref.ownerToken, m.ownerTokenHash)) {
        throw fail('OWNER_TOKEN_INVALID', `the owner token does not match drop ${ref.id}`, { dropId: ref.id });
      }
      // A collection shows its drops to anyone with its link: a password-protected drop would
      // be shown there without its password. Refused, so nothing of it leaks.
      if (m.passwordHash !== undefined) {
        throw fail('DROP_NOT_ADDABLE', `drop ${ref.id} is password-protected: it cannot join a collection`, { dropId: ref.id, reason: 'protected' });
      }
      return { id: m.id, status: effectiveStatus(m, now), expiresAt: dropExpiry(m) };
    });
  }

  async function add(id: string, refs: readonly DropRef[]): Promise<Collection> {
    const found = await candidates(refs);
    const r = await collections.update(id, (c) => {
      const out = addDrops(c, found, clock(), emptyLifetime);
      return out.ok ? { collection: out.collection, changed: out.changed } : { refused: out };
    });
    if (!r) throw fail('COLLECTION_NOT_FOUND', 'no collection with this id');
    if (!r.ok) throw refusal(r.refusal as AddRefusal);
    return r.collection;
  }

  /** The public view: every drop still there, as the public sees it, in the order added. */
  async function view(c: Collection): Promise<CollectionView<DropView>> {
    const rendered = await mapBounded(c.drops, concurrency, async (d) => {
      try {
        return [d.id, deps.render(await drops.status(d.id))] as const;
      } catch (e) {
        // Swept after it expired: no longer part of what the collection shows.
        if (e instanceof DropshipError && e.code === 'DROP_NOT_FOUND') return undefined;
        throw e;
      }
    });
    return collectionView(c, publicUrl, new Map(rendered.filter((x) => x !== undefined)));
  }

  return {
    async create(input: { title?: string | undefined; drops?: DropRef[] | undefined; keyId?: string | undefined; password?: string | undefined }) {
      // The drops are checked before anything is written: a refused one creates nothing.
      const found = input.drops?.length ? await candidates(input.drops) : [];
      const passwordHash = input.password !== undefined ? await hashPassword(input.password) : undefined;
      const ownerToken = newOwnerToken();
      const now = clock();
      let c = newCollection({ id: newDropId(), ownerTokenHash: hashOwnerToken(ownerToken), now, emptyLifetime, title: input.title, keyId: input.keyId, passwordHash });
      if (found.length) {
        const r = addDrops(c, found, now, emptyLifetime);
        if (!r.ok) throw refusal(r);
        c = r.collection;
      }
      await collections.create(c);
      return { collection: c, ownerToken };
    },

    async addDrop(id: string, ownerToken: string | undefined, ref: DropRef) {
      await loadOwned(id, ownerToken);
      const c = await add(id, [ref]);
      return { ...(await view(c)), ...(c.passwordHash !== undefined ? { protected: true as const } : {}) };
    },

    async get(id: string) {
      const { collection } = await load(id);
      requireLive(collection);
      return view(collection);
    },

    /** The record of a collection anyone may read (404, 410 otherwise), for the routes to decide what the reader sees. */
    async live(id: string): Promise<Collection> {
      const { collection } = await load(id);
      requireLive(collection);
      return collection;
    },

    /** The full view of a record `live` answered (a protected one: its drops, once the reader unlocked it). */
    view: async (c: Collection) => ({ ...(await view(c)), ...(c.passwordHash !== undefined ? { protected: true as const } : {}) }),

    /** Idempotent: marks the tombstone, then deletes every drop (again on a retry, finishing a cleanup cut short). */
    async remove(id: string, ownerToken: string | undefined) {
      await loadOwned(id, ownerToken);
      const r = await collections.update(id, (c) => markDeleted(c, clock()));
      if (!r) throw fail('COLLECTION_NOT_FOUND', 'no collection with this id');
      const c = r.collection;
      await mapBounded(c.drops, concurrency, async (d) => {
        try {
          await drops.cancelProved(d.id);
        } catch (e) {
          // Already swept, or in a state the owner's own DELETE could not change either.
          if (!(e instanceof DropshipError && (e.code === 'DROP_NOT_FOUND' || e.code === 'DROP_NOT_UPLOADING'))) throw e;
        }
      });
      return { id: c.id, deletedAt: c.deletedAt! };
    },
  };
}
