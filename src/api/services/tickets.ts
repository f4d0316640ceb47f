/**
 * Open upload tickets, for the limits of src/core/admission.ts: DROPSHIP_MAX_OPEN_TICKETS per
 * uploader (API key or client address) and DROPSHIP_UPLOAD_SLOTS in total. The counts live
 * in a CountedSlots pool (src/ports/slots.ts): this process's memory by default (with N
 * replicas the effective limits are N times these), or Redis with DROPSHIP_REDIS_URL, where
 * every replica counts in the same pool (docs/operations.md). A ticket's slot lapses at its
 * upload deadline by itself, so a replica that dies leaks nothing past it.
 *
 * The api releases a slot when it completes, cancels or expires a drop itself — whichever
 * replica does it. Uploads the worker finishes (a single PUT or an Uppy /s3/params upload
 * that nobody completes: the S3 event moves the drop straight to ready) are invisible to the
 * api, so before it refuses, admission re-reads the manifests of the tickets that count
 * against the request (the uploader's, or the whole pool's when the slots are full) and
 * releases those no longer uploading. Bounded: at most RECHECK_MAX manifest reads per
 * refusal, each ticket read again at most once per RECHECK_EVERY_MS by this process, one
 * recheck in flight at a time (requests refused meanwhile wait for it); a read that fails
 * keeps the ticket open. A client that really holds its limit of open uploads therefore costs
 * at most one GET per open ticket per RECHECK_EVERY_MS per replica, however often it asks.
 */
import { ticketRefusal, type Admission, type TicketLimits } from '../../core/admission.js';
import type { Clock } from '../../ports/clock.js';
import type { CountedSlots } from '../../ports/slots.js';

/** Whether the drop behind a ticket is still uploading (its manifest, read again). */
export type StillOpen = (id: string) => Promise<boolean>;

export const RECHECK_MAX = 200;
export const RECHECK_EVERY_MS = 5_000;
const RECHECK_CONCURRENCY = 16;

/** The pool the tickets count in. */
// Stryker disable next-line StringLiteral: any name is a pool of its own; only the other pools' names must differ.
export const TICKETS_POOL = 'tickets';

export class OpenTickets {
  readonly #slots: CountedSlots;
  readonly #limits: TicketLimits;
  readonly #clock: Clock;
  readonly #stillOpen: StillOpen | undefined;
  /** When this process last re-read each ticket's manifest (never: absent). */
  readonly #checkedAt = new Map<string, number>();
  #recheck: Promise<void> | undefined;

  constructor(slots: CountedSlots, limits: TicketLimits, clock: Clock, stillOpen?: StillOpen) {
    this.#slots = slots;
    this.#limits = limits;
    this.#clock = clock;
    this.#stillOpen = stillOpen;
  }

  /** Reserves a slot for `id` until `expiresAt` if both limits allow it, after rechecking the tickets in the way. */
  async admit(id: string, owner: string, expiresAt: number): Promise<Admission> {
    const take = () => this.#slots.take(TICKETS_POOL, { id, owner, until: expiresAt }, this.#limits, this.#clock().getTime());
    let refused = await take();
    if (refused && this.#stillOpen) {
      await this.#recheckFor(refused === 'owner' ? owner : undefined);
      refused = await take();
    }
    return refused ? ticketRefusal(refused) : { ok: true };
  }

  /** Releases the slot (complete, cancel, expiry, failed creation); unknown ids are ignored, and so is a failure (the slot lapses at its deadline). */
  async release(id: string): Promise<void> {
    this.#checkedAt.delete(id);
    await this.#slots.release(TICKETS_POOL, id).catch(() => {});
  }

  /** Open tickets in the pool. */
  async size(): Promise<number> {
    // Stryker disable next-line StringLiteral: the pool's total does not depend on the owner asked about.
    return (await this.#slots.counts(TICKETS_POOL, '', this.#clock().getTime())).total;
  }

  async countFor(owner: string): Promise<number> {
    return (await this.#slots.counts(TICKETS_POOL, owner, this.#clock().getTime())).forOwner;
  }

  /** One recheck at a time; a request arriving meanwhile waits for it and decides after. */
  async #recheckFor(owner: string | undefined): Promise<void> {
    if (this.#recheck) return this.#recheck;
    this.#recheck = this.#runRecheck(owner).finally(() => {
      this.#recheck = undefined;
    });
    return this.#recheck;
  }

  async #runRecheck(owner: string | undefined): Promise<void> {
    const now = this.#clock().getTime();
    const held = await this.#slots.held(TICKETS_POOL, now, owner);
    const live = new Set(held);
    // Stryker disable next-line ConditionalExpression,CallExpression: forgetting a lapsed ticket's read time only frees memory.
    for (const id of this.#checkedAt.keys()) if (!live.has(id)) this.#checkedAt.delete(id);
    const checkedAt = (id: string) => this.#checkedAt.get(id) ?? Number.NEGATIVE_INFINITY;
    // Never-read tickets first (a small upload may be done a second after its ticket), then
    // the ones read longest ago; ties in the order the pool lists them (the sort is stable).
    const due = held
      .map((id) => ({ id, at: checkedAt(id) }))
      .filter((t) => now - t.at >= RECHECK_EVERY_MS)
      .sort((a, b) => a.at - b.at)
      .slice(0, RECHECK_MAX);
    // Stryker disable next-line EqualityOperator: one more round would read an empty slice.
    for (let i = 0; i < due.length; i += RECHECK_CONCURRENCY) {
      await Promise.all(
        due.slice(i, i + RECHECK_CONCURRENCY).map(async ({ id }) => {
          this.#checkedAt.set(id, now);
          const open = await this.#stillOpen!(id).catch(() => true);
          if (!open) await this.release(id);
        }),
      );
    }
  }
}
