/**
 * Open upload tickets held by this api process, for the limits of src/core/admission.ts.
 * State is in memory, per replica — dropship has no database, and these limits exist to keep
 * one replica healthy, not as global quotas; with N replicas the effective limits are N
 * times these (docs/operations.md).
 *
 * The api releases a slot when it completes, cancels or expires a drop itself. Uploads the
 * worker finishes (a single PUT or an Uppy /s3/params upload that nobody completes: the S3
 * event moves the drop straight to ready) are invisible to this process, so before it
 * refuses, admission re-reads the manifests of the tickets that count against the request
 * (the uploader's, or the whole process's when the slots are full) and releases those no
 * longer uploading. Bounded: at most RECHECK_MAX manifest reads per refusal, each ticket
 * read again at most once per RECHECK_EVERY_MS, one recheck in flight at a time (requests
 * refused meanwhile wait for it); a read that fails keeps the ticket open. A client that
 * really holds its limit of open uploads therefore costs at most one GET per open ticket per
 * RECHECK_EVERY_MS, however often it asks.
 */
import { admit, isOpen, type Admission, type TicketLimits } from '../../core/admission.js';
import type { Clock } from '../../ports/clock.js';

/** Whether the drop behind a ticket is still uploading (its manifest, read again). */
export type StillOpen = (id: string) => Promise<boolean>;

export const RECHECK_MAX = 200;
export const RECHECK_EVERY_MS = 5_000;
const RECHECK_CONCURRENCY = 16;

interface Ticket {
  owner: string;
  expiresAt: number;
  checkedAt: number;
}

export class OpenTickets {
  readonly #limits: TicketLimits;
  readonly #clock: Clock;
  readonly #stillOpen: StillOpen | undefined;
  readonly #byId = new Map<string, Ticket>();
  readonly #perOwner = new Map<string, number>();
  #recheck: Promise<void> | undefined;

  constructor(limits: TicketLimits, clock: Clock, stillOpen?: StillOpen) {
    this.#limits = limits;
    this.#clock = clock;
    this.#stillOpen = stillOpen;
  }

  /** Reserves a slot for `id` if both limits allow it, after rechecking the tickets in the way. */
  async admit(id: string, owner: string, expiresAt: number): Promise<Admission> {
    let decision = this.#decide(owner);
    if (!decision.ok && this.#stillOpen) {
      await this.#recheckFor(decision.reason === 'owner' ? owner : undefined);
      decision = this.#decide(owner);
    }
    if (!decision.ok) return decision;
    this.#byId.set(id, { owner, expiresAt, checkedAt: Number.NEGATIVE_INFINITY });
    this.#perOwner.set(owner, (this.#perOwner.get(owner) ?? 0) + 1);
    return decision;
  }

  /** Releases the slot (complete, cancel, expiry, failed creation); unknown ids are ignored. */
  release(id: string): void {
    const t = this.#byId.get(id);
    if (!t) return;
    this.#byId.delete(id);
    const n = (this.#perOwner.get(t.owner) ?? 1) - 1;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: an owner kept at 0 counts as one absent (`?? 0` everywhere); only memory differs.
    if (n <= 0) this.#perOwner.delete(t.owner);
    else this.#perOwner.set(t.owner, n);
  }

  get size(): number {
    this.#prune();
    return this.#byId.size;
  }

  countFor(owner: string): number {
    this.#prune();
    return this.#perOwner.get(owner) ?? 0;
  }

  #decide(owner: string): Admission {
    this.#prune();
    return admit({ total: this.#byId.size, forOwner: this.#perOwner.get(owner) ?? 0 }, this.#limits);
  }

  #prune(): void {
    const now = this.#clock().getTime();
    for (const [id, t] of this.#byId) if (!isOpen(t, now)) this.release(id);
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
    const due = [...this.#byId]
      .filter(([, t]) => (owner === undefined || t.owner === owner) && now - t.checkedAt >= RECHECK_EVERY_MS)
      .sort((a, b) => a[1].checkedAt - b[1].checkedAt)
      .slice(0, RECHECK_MAX);
    // Never-read tickets first (a small upload may be done a second after its ticket), then
    // the ones read longest ago.
    // Stryker disable next-line EqualityOperator: one more round would read an empty slice.
    for (let i = 0; i < due.length; i += RECHECK_CONCURRENCY) {
      await Promise.all(
        due.slice(i, i + RECHECK_CONCURRENCY).map(async ([id, t]) => {
          t.checkedAt = now;
          const open = await this.#stillOpen!(id).catch(() => true);
          if (!open) this.release(id);
        }),
      );
    }
  }
}
