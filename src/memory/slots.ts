/**
 * Counted slots in this process's memory (`shared: false`): the per-replica limits dropship
 * has without Redis. Same rules as the Redis adapter (test/contract/slots.ts): a slot counts
 * until released or until its time comes, taking is check-and-take in one step (here simply
 * because nothing else runs in between), and taking an id already held only moves its time.
 */
import { slotRefusal } from '../core/admission.js';
import type { CountedSlots, SlotClaim, SlotLimits, SlotRefusal } from '../ports/slots.js';

interface Held {
  owner: string;
  until: number;
}

export function memorySlots(): CountedSlots {
  const pools = new Map<string, Map<string, Held>>();

  function live(pool: string, now: number): Map<string, Held> {
    let p = pools.get(pool);
    if (!p) pools.set(pool, (p = new Map()));
    for (const [id, h] of p) if (h.until <= now) p.delete(id);
    return p;
  }

  function countsOf(p: Map<string, Held>, owner: string) {
    let forOwner = 0;
    for (const h of p.values()) if (h.owner === owner) forOwner++;
    return { total: p.size, forOwner };
  }

  return {
    shared: false,

    async take(pool: string, claim: SlotClaim, limits: SlotLimits, now: number): Promise<SlotRefusal | undefined> {
      const p = live(pool, now);
      const held = p.get(claim.id);
      if (held) {
        held.until = claim.until;
        return undefined;
      }
      const refused = slotRefusal(countsOf(p, claim.owner), limits);
      if (refused) return refused;
      p.set(claim.id, { owner: claim.owner, until: claim.until });
      return undefined;
    },

    async extend(pool: string, id: string, until: number, now: number): Promise<boolean> {
      const held = live(pool, now).get(id);
      if (!held) return false;
      held.until = until;
      return true;
    },

    async release(pool: string, id: string): Promise<void> {
      pools.get(pool)?.delete(id);
    },

    async counts(pool: string, owner: string, now: number) {
      return countsOf(live(pool, now), owner);
    },

    async held(pool: string, now: number, owner?: string): Promise<string[]> {
      return [...live(pool, now)].filter(([, h]) => owner === undefined || h.owner === owner).map(([id]) => id);
    },
  };
}
