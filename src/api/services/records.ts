/**
 * Reading drops and changing them through the state machine, as every api service does:
 * malformed ids answer like unknown ones, owner tokens are checked in constant time, and an
 * upload past its ticket's deadline is recorded as expired (its parts released) on the way.
 */
import { fail } from '../../core/errors.js';
import { isDropId, ownerTokenMatches } from '../../core/ids.js';
import { dropKeys } from '../../core/layout.js';
import { effectiveStatus, isTerminal, lifetimeOver, type DropEvent, type Manifest } from '../../core/manifest.js';
import type { Clock } from '../../ports/clock.js';
import type { ManifestRecord, ManifestRepo } from '../../ports/manifests.js';
import type { ObjectStore } from '../../ports/object-store.js';
import type { OpenTickets } from './tickets.js';

export interface DropRecordsDeps {
  store: ObjectStore;
  manifests: ManifestRepo;
  tickets: OpenTickets;
  clock: Clock;
  /** Told of every terminal status this process records (caches forget the drop). */
  onTerminal?: (id: string) => void;
}

export type DropRecords = ReturnType<typeof createDropRecords>;

export function createDropRecords(deps: DropRecordsDeps) {
  const { store, manifests, tickets, clock } = deps;

  async function load(id: string): Promise<ManifestRecord> {
    // Malformed ids are answered exactly like unknown ones: ids are not enumerable.
    const rec = isDropId(id) ? await manifests.get(id) : undefined;
    if (!rec) throw fail('DROP_NOT_FOUND', 'no drop with this id');
    return rec;
  }

  async function loadOwned(
    id: string,
    ownerToken: string | undefined,
    read: (id: string) => Promise<ManifestRecord> = load,
  ): Promise<ManifestRecord> {
    if (!ownerToken) throw fail('UNAUTHORIZED', 'this needs the X-Owner-Token header returned when the drop was created');
    const rec = await read(id);
    if (!ownerTokenMatches(ownerToken, rec.manifest.ownerTokenHash)) {
      throw fail('OWNER_TOKEN_INVALID', 'the owner token does not match this drop');
    }
    return rec;
  }

  async function settled(m: Manifest): Promise<Manifest> {
    // Any other status reaches here only for a drop whose manifest vanished as it expired: its
    // ticket's deadline has passed, so the slot has lapsed already.
    // Stryker disable next-line ConditionalExpression: releasing a lapsed ticket changes nothing.
    if (isTerminal(m.status) || m.status === 'processing') await tickets.release(m.id);
    // Stryker disable next-line OptionalChaining: the drop service, the only caller, always passes onTerminal.
    if (isTerminal(m.status)) deps.onTerminal?.(m.id);
    return m;
  }

  /** Writes an event through the state machine; a refused transition is a 409. */
  async function transition(id: string, event: DropEvent): Promise<Manifest> {
    const r = await manifests.applyEvent(id, event);
    if (!r) throw fail('DROP_NOT_FOUND', 'no drop with this id');
    if (!r.ok) throw fail('DROP_NOT_UPLOADING', `the drop is ${r.from}`, { status: r.from });
    return settled(r.manifest);
  }

  /** Past its ticket's deadline an upload is expired: record it and release S3's parts. */
  async function expireIfDue(m: Manifest): Promise<Manifest> {
    if (effectiveStatus(m, clock()) !== 'expired' || m.status === 'expired') return m;
    const r = await manifests.applyEvent(m.id, { type: 'expire', at: clock() });
    if (m.upload.uploadId) await store.abortMultipart(dropKeys(m.id).original, m.upload.uploadId);
    return settled(r?.manifest ?? m);
  }

  /** Refuses anything but an upload in progress, with the status in the error. */
  function requireUploading(m: Manifest): void {
    const s = effectiveStatus(m, clock());
    if (s === 'expired') throw fail('DROP_EXPIRED', lifetimeOver(m, clock()) ? 'this drop has expired' : 'the upload ticket has expired');
    if (s !== 'uploading') throw fail('DROP_NOT_UPLOADING', `the drop is ${s}`, { status: s });
  }

  return { load, loadOwned, transition, expireIfDue, requireUploading, settled };
}
