/**
 * Long-lived connections (server-sent event streams, curl streaming uploads), per client and
 * in total; the counts live in a CountedSlots pool (src/ports/slots.ts) — this process's
 * memory, or Redis shared by every replica — and the rule is src/core/admission.ts
 * `slotRefusal`, answered as admitConnection's 429/503.
 *
 * In memory a slot dies with its process, so it is held until released. Shared, it is a
 * lease of `leaseMs` (DROPSHIP_SLOT_LEASE_MS) renewed every third of it while the connection
 * lives: a replica that dies (its connections with it) stops renewing, and its slots lapse
 * within `leaseMs`.
 */
import { randomUUID } from 'node:crypto';
import { connectionRefusal, type ConnectionAdmission, type ConnectionLimits } from '../../core/admission.js';
import type { Clock } from '../../ports/clock.js';
import type { CountedSlots } from '../../ports/slots.js';

/** How long a shared slot outlives the last renewal of its replica, by default. */
export const LEASE_MS = 30_000;

export type ConnectionSlot = { ok: true; id: string; release: () => void } | Exclude<ConnectionAdmission, { ok: true }>;

/** Takes and gives back connection slots in one pool; `total` is what this process holds. */
export class ConnectionCounts {
  readonly #slots: CountedSlots;
  readonly #pool: string;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  #total = 0;

  constructor(slots: CountedSlots, pool: string, clock: Clock, leaseMs = LEASE_MS) {
    this.#slots = slots;
    this.#pool = pool;
    this.#clock = clock;
    this.#leaseMs = leaseMs;
  }

  /** Connections this process holds open in the pool. */
  get total(): number {
    return this.#total;
  }

  /** Admits and counts one connection; answers a release that is safe to call more than once. */
  async take(client: string, limits: ConnectionLimits, id: string = randomUUID()): Promise<ConnectionSlot> {
    const shared = this.#slots.shared;
    const lease = this.#leaseMs;
    const until = () => (shared ? this.#clock().getTime() + lease : Number.POSITIVE_INFINITY);
    const refused = await this.#slots.take(
      this.#pool,
      { id, owner: client, until: until() },
      { total: limits.total, perOwner: limits.perClient },
      this.#clock().getTime(),
    );
    if (refused) return connectionRefusal(refused) as Exclude<ConnectionAdmission, { ok: true }>;
    this.#total++;
    const renew = shared
      ? setInterval(() => void this.#slots.extend(this.#pool, id, until(), this.#clock().getTime()).catch(() => {}), lease / 3)
      : undefined;
    // Stryker disable next-line OptionalChaining: Node's timers always have unref.
    renew?.unref?.();
    let released = false;
    return {
      ok: true,
      id,
      release: () => {
        if (released) return;
        released = true;
        clearInterval(renew);
        this.#total--;
        // A failed release (Redis away) leaves a lease that lapses by itself.
        void this.#slots.release(this.#pool, id).catch(() => {});
      },
    };
  }

  /** Live connections in the pool (all replicas when shared) and those of `client`. */
  async counts(client: string): Promise<{ total: number; forClient: number }> {
    const c = await this.#slots.counts(this.#pool, client, this.#clock().getTime());
    return { total: c.total, forClient: c.forOwner };
  }
}
