/**
 * Counted slots: the one port behind every limit that counts what is open — upload tickets
 * per uploader and in total, curl streaming uploads, server-sent event streams. A pool
 * (`'tickets'`, `'streams'`, `'events'`) holds slots, each an id owned by one owner (an API
 * key or a client address) and held until a time (`until`, ms since the epoch): a slot whose
 * time has come (`until <= now`) no longer counts, so a slot is a lease.
 *
 * - `take` is atomic: it counts the live slots of the pool and of the owner, applies
 *   `slotRefusal` (src/core/admission.ts) and takes the slot in one step, so two replicas can
 *   never both take the last one. Taking an id already held moves its time (no second slot).
 * - A holder that lives on (an open stream) `extend`s its lease well before it runs out; a
 *   replica that dies stops extending and its slots lapse on their own.
 * - `now` is always passed in (the caller's clock), so decisions are the same whatever the
 *   adapter.
 *
 * Adapters: in memory, one process's counts (src/memory/slots.ts; `shared: false`), and
 * Redis/Valkey, counts every api replica shares (src/redis/slots.ts; `shared: true`). Both
 * are held to one contract suite (test/contract/slots.ts). An adapter that cannot reach its
 * counts throws a `STORAGE_UNAVAILABLE` DropshipError (the api answers 503 with Retry-After).
 */
export type SlotRefusal = 'total' | 'owner';

export interface SlotLimits {
  total: number;
  perOwner: number;
}

export interface SlotClaim {
  id: string;
  owner: string;
  /** When the slot lapses on its own (ms since the epoch); Infinity: held until released. */
  until: number;
}

export interface CountedSlots {
  /** Whether every api replica sees these counts (false: this process's only). */
  readonly shared: boolean;
  /** Takes `claim.id` in `pool` unless a limit refuses it; answers the refusal, or undefined when taken. */
  take(pool: string, claim: SlotClaim, limits: SlotLimits, now: number): Promise<SlotRefusal | undefined>;
  /** Moves a live slot's time; false when it is no longer held (released or lapsed). */
  extend(pool: string, id: string, until: number, now: number): Promise<boolean>;
  /** Gives the slot back; unknown and already released ids are ignored. */
  release(pool: string, id: string): Promise<void>;
  /** Live slots in the pool, and those of `owner`. */
  counts(pool: string, owner: string, now: number): Promise<{ total: number; forOwner: number }>;
  /** The ids of the live slots in the pool (of `owner` when given), in no particular order. */
  held(pool: string, now: number, owner?: string): Promise<string[]>;
}
