/**
 * The CountedSlots contract (src/ports/slots.ts), run against the in-memory adapter (unit
 * project) and Redis (integration project, a real redis-server): limits per pool and per
 * owner, release, leases that lapse at their time and can be extended, taking an id twice,
 * and — the point of the port — an atomic take: many takers racing for the last slots, through
 * as many clients as the adapter allows, never take more than the limit.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CountedSlots } from '../../src/ports/slots.js';

export interface SlotsHarness {
  /** The adapter under test; `twin()` another handle on the same counts (a second replica; in memory, the same one). */
  slots(): CountedSlots;
  twin(): CountedSlots;
  /** Whether every replica sees the counts. */
  shared: boolean;
}

const NOW = 1_900_000_000_000;

export function slotsContract(name: string, h: SlotsHarness): void {
  describe(`CountedSlots contract: ${name}`, () => {
    const pool = () => `contract-${randomUUID()}`;
    const limits = (total: number, perOwner: number) => ({ total, perOwner });

    it('says whether its counts are shared by every replica', () => {
      expect(h.slots().shared).toBe(h.shared);
    });

    it('takes slots up to the pool limit, then refuses anyone (total)', async () => {
      const s = h.slots();
      const p = pool();
      for (const [id, owner] of [['a', 'x'], ['b', 'y'], ['c', 'z']]) {
        expect(await s.take(p, { id: id!, owner: owner!, until: NOW + 1000 }, limits(3, 5), NOW)).toBeUndefined();
      }
      expect(await s.take(p, { id: 'd', owner: 'w', until: NOW + 1000 }, limits(3, 5), NOW)).toBe('total');
      expect(await s.counts(p, 'x', NOW)).toEqual({ total: 3, forOwner: 1 });
      expect((await s.held(p, NOW)).sort()).toEqual(['a', 'b', 'c']);
    });

    it('refuses an owner at its share (owner), others still get slots; both full reports the pool', async () => {
      const s = h.slots();
      const p = pool();
      expect(await s.take(p, { id: 'a', owner: 'x', until: NOW + 1000 }, limits(3, 2), NOW)).toBeUndefined();
      expect(await s.take(p, { id: 'b', owner: 'x', until: NOW + 1000 }, limits(3, 2), NOW)).toBeUndefined();
      expect(await s.take(p, { id: 'c', owner: 'x', until: NOW + 1000 }, limits(3, 2), NOW)).toBe('owner');
      expect(await s.take(p, { id: 'c', owner: 'y', until: NOW + 1000 }, limits(3, 2), NOW)).toBeUndefined();
      expect(await s.take(p, { id: 'd', owner: 'x', until: NOW + 1000 }, limits(3, 2), NOW)).toBe('total');
      expect((await s.held(p, NOW, 'x')).sort()).toEqual(['a', 'b']);
      expect(await s.held(p, NOW, 'nobody')).toEqual([]);
    });

    it('a release gives the slot back once; unknown and repeated releases are ignored', async () => {
      const s = h.slots();
      const p = pool();
      await s.take(p, { id: 'a', owner: 'x', until: NOW + 1000 }, limits(1, 1), NOW);
      expect(await s.take(p, { id: 'b', owner: 'x', until: NOW + 1000 }, limits(1, 1), NOW)).toBe('total');
      await s.release(p, 'a');
      await s.release(p, 'a');
      await s.release(p, 'never-taken');
      expect(await s.counts(p, 'x', NOW)).toEqual({ total: 0, forOwner: 0 });
      expect(await s.take(p, { id: 'b', owner: 'x', until: NOW + 1000 }, limits(1, 1), NOW)).toBeUndefined();
    });

    it('a slot counts until its time, not at it: a lapsed lease frees the slot by itself', async () => {
      const s = h.slots();
      const p = pool();
      await s.take(p, { id: 'a', owner: 'x', until: NOW + 100 }, limits(1, 1), NOW);
      expect(await s.counts(p, 'x', NOW + 99)).toEqual({ total: 1, forOwner: 1 });
      expect(await s.counts(p, 'x', NOW + 100)).toEqual({ total: 0, forOwner: 0 });
      expect(await s.held(p, NOW + 100)).toEqual([]);
      expect(await s.take(p, { id: 'b', owner: 'x', until: NOW + 1000 }, limits(1, 1), NOW + 100)).toBeUndefined();
      expect(await s.held(p, NOW + 100, 'x')).toEqual(['b']);
    });

    it('extending a live lease keeps it; a lapsed or released one cannot be extended', async () => {
      const s = h.slots();
      const p = pool();
      await s.take(p, { id: 'a', owner: 'x', until: NOW + 100 }, limits(5, 5), NOW);
      await s.take(p, { id: 'b', owner: 'x', until: NOW + 100 }, limits(5, 5), NOW);
      expect(await s.extend(p, 'a', NOW + 500, NOW + 50)).toBe(true);
      expect(await s.counts(p, 'x', NOW + 200)).toEqual({ total: 1, forOwner: 1 });
      expect(await s.extend(p, 'b', NOW + 500, NOW + 200)).toBe(false);
      await s.release(p, 'a');
      expect(await s.extend(p, 'a', NOW + 900, NOW + 300)).toBe(false);
      expect(await s.counts(p, 'x', NOW + 300)).toEqual({ total: 0, forOwner: 0 });
    });

    it('taking an id already held only moves its time: it never counts twice', async () => {
      const s = h.slots();
      const p = pool();
      await s.take(p, { id: 'a', owner: 'x', until: NOW + 100 }, limits(1, 1), NOW);
      expect(await s.take(p, { id: 'a', owner: 'x', until: NOW + 1000 }, limits(1, 1), NOW)).toBeUndefined();
      expect(await s.counts(p, 'x', NOW + 500)).toEqual({ total: 1, forOwner: 1 });
    });

    it('a slot held until released (Infinity) never lapses', async () => {
      const s = h.slots();
      const p = pool();
      await s.take(p, { id: 'a', owner: 'x', until: Number.POSITIVE_INFINITY }, limits(1, 1), NOW);
      expect(await s.counts(p, 'x', NOW + 1e12)).toEqual({ total: 1, forOwner: 1 });
      await s.release(p, 'a');
      expect(await s.counts(p, 'x', NOW)).toEqual({ total: 0, forOwner: 0 });
    });

    it('pools are counted apart', async () => {
      const s = h.slots();
      const [p, q] = [pool(), pool()];
      await s.take(p, { id: 'a', owner: 'x', until: NOW + 1000 }, limits(1, 1), NOW);
      expect(await s.take(q, { id: 'a', owner: 'x', until: NOW + 1000 }, limits(1, 1), NOW)).toBeUndefined();
      await s.release(q, 'a');
      expect(await s.counts(p, 'x', NOW)).toEqual({ total: 1, forOwner: 1 });
    });

    it('many takers racing for 5 slots, half of them through a second handle, take exactly 5', async () => {
      const [a, b] = [h.slots(), h.twin()];
      const p = pool();
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).take(p, { id: `t${i}`, owner: `o${i % 3}`, until: NOW + 1000 }, limits(5, 40), NOW)),
      );
      expect(results.filter((r) => r === undefined)).toHaveLength(5);
      expect(results.filter((r) => r === 'total')).toHaveLength(35);
      expect((await b.counts(p, 'o0', NOW)).total).toBe(5);
      // Per owner too: 3 slots per owner however the takes interleave.
      const q = pool();
      const mine = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).take(q, { id: `m${i}`, owner: 'me', until: NOW + 1000 }, limits(100, 3), NOW)),
      );
      expect(mine.filter((r) => r === undefined)).toHaveLength(3);
      expect(await a.held(q, NOW, 'me')).toHaveLength(3);
    });

    it('a slot taken through one handle is seen, extended and released through the other', async () => {
      const [a, b] = [h.slots(), h.twin()];
      const p = pool();
      await a.take(p, { id: 'a', owner: 'x', until: NOW + 100 }, limits(1, 1), NOW);
      expect(await b.take(p, { id: 'b', owner: 'y', until: NOW + 100 }, limits(1, 1), NOW)).toBe('total');
      expect(await b.extend(p, 'a', NOW + 1000, NOW + 50)).toBe(true);
      expect(await a.counts(p, 'x', NOW + 500)).toEqual({ total: 1, forOwner: 1 });
      await b.release(p, 'a');
      expect(await a.counts(p, 'x', NOW + 500)).toEqual({ total: 0, forOwner: 0 });
    });
  });
}
