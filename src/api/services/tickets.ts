/**
 * Open upload tickets held by this api process, for the limits of src/core/admission.ts.
 * State is in memory, per replica — dropship has no database, and these limits exist to keep
 * one replica healthy, not as global quotas; with N replicas the effective limits are N
 * times these (docs/operations.md).
 */
import { admit, isOpen, type Admission, type TicketLimits } from '../../core/admission.js';
import type { Clock } from '../../ports/clock.js';

export class OpenTickets {
  readonly #limits: TicketLimits;
  readonly #clock: Clock;
  readonly #byId = new Map<string, { owner: string; expiresAt: number }>();
  readonly #perOwner = new Map<string, number>();

  constructor(limits: TicketLimits, clock: Clock) {
    this.#limits = limits;
    this.#clock = clock;
  }

  /** Reserves a slot for `id` if both limits allow it. */
  admit(id: string, owner: string, expiresAt: number): Admission {
    this.#prune();
    const decision = admit({ total: this.#byId.size, forOwner: this.#perOwner.get(owner) ?? 0 }, this.#limits);
    if (!decision.ok) return decision;
    this.#byId.set(id, { owner, expiresAt });
    this.#perOwner.set(owner, (this.#perOwner.get(owner) ?? 0) + 1);
    return decision;
  }

  /** Releases the slot (complete, cancel, expiry, failed creation); unknown ids are ignored. */
  release(id: string): void {
    const t = this.#byId.get(id);
    if (!t) return;
    this.#byId.delete(id);
    const n = (this.#perOwner.get(t.owner) ?? 1) - 1;
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

  #prune(): void {
    const now = this.#clock().getTime();
    for (const [id, t] of this.#byId) if (!isOpen(t, now)) this.release(id);
  }
}
