import { describe, expect, it, vi } from 'vitest';
import {
  admit,
  admitConnection,
  isOpen,
  RETRY_AFTER_CONNECTION_CLIENT,
  RETRY_AFTER_CONNECTION_TOTAL,
  RETRY_AFTER_OWNER,
  RETRY_AFTER_TOTAL,
} from '../../src/core/admission.js';
import { OpenTickets, RECHECK_EVERY_MS, RECHECK_MAX } from '../../src/api/services/tickets.js';
import { ConnectionCounts, LEASE_MS } from '../../src/api/services/connections.js';
import { memorySlots } from '../../src/memory/slots.js';
import type { CountedSlots } from '../../src/ports/slots.js';

const at = (ms: number) => () => new Date(ms);

describe('admit', () => {
  it.each([
    // open total, open for owner, limits → decision
    [0, 0, { perOwner: 1, total: 1 }, { ok: true }],
    [0, 0, { perOwner: 0, total: 1 }, { ok: false, reason: 'owner', retryAfter: RETRY_AFTER_OWNER }],
    [4, 1, { perOwner: 2, total: 5 }, { ok: true }],
    [5, 1, { perOwner: 2, total: 5 }, { ok: false, reason: 'total', retryAfter: RETRY_AFTER_TOTAL }],
    [4, 2, { perOwner: 2, total: 5 }, { ok: false, reason: 'owner', retryAfter: RETRY_AFTER_OWNER }],
    // Both full: the process limit is reported (another uploader would be refused too).
    [5, 2, { perOwner: 2, total: 5 }, { ok: false, reason: 'total', retryAfter: RETRY_AFTER_TOTAL }],
  ])('total %i, owner %i, %o → %o', (total, forOwner, limits, decision) => {
    expect(admit({ total, forOwner }, limits)).toEqual(decision);
  });

  it('a ticket is open until its deadline, not at it', () => {
    expect(isOpen({ expiresAt: 100 }, 99)).toBe(true);
    expect(isOpen({ expiresAt: 100 }, 100)).toBe(false);
    expect(isOpen({ expiresAt: 100 }, 101)).toBe(false);
  });
});

describe('OpenTickets', () => {
  it('limits tickets per owner and releases them', async () => {
    const t = new OpenTickets(memorySlots(), { perOwner: 2, total: 10 }, at(0));
    expect((await t.admit('a', 'k1', 100)).ok).toBe(true);
    expect((await t.admit('b', 'k1', 100)).ok).toBe(true);
    expect(await t.admit('c', 'k1', 100)).toMatchObject({ ok: false, reason: 'owner' });
    expect((await t.admit('c', 'k2', 100)).ok).toBe(true);
    await t.release('a');
    await t.release('a');
    expect(await t.countFor('k1')).toBe(1);
    expect(await t.countFor('k2')).toBe(1);
    expect(await t.size()).toBe(2);
    expect((await t.admit('d', 'k1', 100)).ok).toBe(true);
    await t.release('c');
    expect(await t.countFor('k2')).toBe(0);
  });

  it('answers total when the process is full', async () => {
    const t = new OpenTickets(memorySlots(), { perOwner: 10, total: 2 }, at(0));
    await t.admit('a', 'x', 100);
    await t.admit('b', 'y', 100);
    expect(await t.admit('c', 'z', 100)).toEqual({ ok: false, reason: 'total', retryAfter: RETRY_AFTER_TOTAL });
    expect(await t.size()).toBe(2);
  });

  it('forgets expired tickets', async () => {
    let now = 0;
    const t = new OpenTickets(memorySlots(), { perOwner: 1, total: 1 }, () => new Date(now));
    await t.admit('a', 'k', 50);
    expect((await t.admit('b', 'k', 100)).ok).toBe(false);
    now = 60;
    expect(await t.countFor('k')).toBe(0);
    expect((await t.admit('b', 'k', 100)).ok).toBe(true);
    expect(await t.size()).toBe(1);
  });

  it('before refusing, rereads the tickets in the way and frees those the worker finished', async () => {
    let now = 0;
    const open = new Set<string>();
    const reads: string[] = [];
    const t = new OpenTickets(memorySlots(), { perOwner: 3, total: 5 }, () => new Date(now), async (id) => {
      reads.push(id);
      return open.has(id);
    });
    for (const id of ['a', 'b', 'c']) {
      open.add(id);
      expect((await t.admit(id, 'k', 1e9)).ok).toBe(true);
    }
    open.delete('b'); // finished by the worker: uploading → ready without the api
    expect((await t.admit('d', 'k', 1e9)).ok).toBe(true);
    expect(reads.sort()).toEqual(['a', 'b', 'c']);
    expect(await t.countFor('k')).toBe(3);
    // The ones still open are not read again within RECHECK_EVERY_MS: refused without a read.
    reads.length = 0;
    open.add('d');
    expect(await t.admit('e', 'k', 1e9)).toMatchObject({ ok: false, reason: 'owner' });
    expect(reads).toEqual(['d']);
    now += RECHECK_EVERY_MS;
    reads.length = 0;
    expect(await t.admit('e', 'k', 1e9)).toMatchObject({ ok: false, reason: 'owner' });
    expect(reads.sort()).toEqual(['a', 'c', 'd']);
  });

  it('a full process rechecks every ticket (at most RECHECK_MAX); a failed read keeps the ticket', async () => {
    const t = new OpenTickets(memorySlots(), { perOwner: 1000, total: RECHECK_MAX + 10 }, at(0), async (id) => {
      if (id === 'x0') throw new Error('S3 down');
      return false;
    });
    for (let i = 0; i < RECHECK_MAX + 10; i++) expect((await t.admit(`x${i}`, `o${i}`, 1e9)).ok).toBe(true);
    expect((await t.admit('new', 'o-new', 1e9)).ok).toBe(true);
    // Read: the RECHECK_MAX oldest; released: those but x0. Left: x0, the 10 not read, the new one.
    expect(await t.size()).toBe(1 + 10 + 1);
  });
});

describe('OpenTickets: what a refusal costs and what it sees', () => {
  it('an uploader at its own limit rereads only its own tickets, not other uploaders\'', async () => {
    const reads: string[] = [];
    const t = new OpenTickets(memorySlots(), { perOwner: 1, total: 10 }, at(0), async (id) => (reads.push(id), true));
    await t.admit('mine', 'k1', 1e9);
    await t.admit('theirs', 'k2', 1e9);
    expect(await t.admit('more', 'k1', 1e9)).toMatchObject({ ok: false, reason: 'owner' });
    expect(reads).toEqual(['mine']);
  });

  it('expired tickets stop counting at once: for admission, size and countFor alike', async () => {
    let now = 0;
    const t = new OpenTickets(memorySlots(), { perOwner: 5, total: 1 }, () => new Date(now));
    await t.admit('a', 'k', 50);
    now = 50;
    // Admission is the first to look after the deadline.
    expect((await t.admit('b', 'other', 100)).ok).toBe(true);
    now = 100;
    expect(await t.size()).toBe(0);
  });

  it('requests refused while a recheck runs wait for it, and are admitted by what it freed', async () => {
    let finish: () => void = () => {};
    const gate = new Promise<void>((r) => (finish = r));
    let reads = 0;
    const t = new OpenTickets(memorySlots(), { perOwner: 2, total: 10 }, at(0), async () => {
      reads++;
      await gate;
      return false; // both finished by the worker
    });
    await t.admit('a', 'k', 1e9);
    await t.admit('b', 'k', 1e9);
    const first = t.admit('c', 'k', 1e9);
    const second = t.admit('d', 'k', 1e9);
    await new Promise((r) => setTimeout(r, 10));
    finish();
    expect([(await first).ok, (await second).ok]).toEqual([true, true]);
    expect(reads).toBe(2);
    expect(await t.countFor('k')).toBe(2);
  });

  it('a recheck reads each ticket once, at most 16 at a time', async () => {
    let flying = 0;
    let most = 0;
    const reads: string[] = [];
    const t = new OpenTickets(memorySlots(), { perOwner: 40, total: 1000 }, at(0), async (id) => {
      reads.push(id);
      most = Math.max(most, ++flying);
      await new Promise((r) => setTimeout(r, 1));
      flying--;
      return true;
    });
    for (let i = 0; i < 40; i++) await t.admit(`t${i}`, 'k', 1e9);
    expect((await t.admit('over', 'k', 1e9)).ok).toBe(false);
    expect(reads).toHaveLength(40);
    expect(new Set(reads).size).toBe(40);
    expect(most).toBe(16);
  });

  it('past RECHECK_MAX, tickets never read go first, then those read longest ago', async () => {
    let now = 0;
    const reads: string[] = [];
    const t = new OpenTickets(memorySlots(), { perOwner: RECHECK_MAX + 1, total: 10_000 }, () => new Date(now), async (id) => (reads.push(id), true));
    const old = Array.from({ length: RECHECK_MAX }, (_, i) => `old${i}`);
    for (const id of old) await t.admit(id, 'k', 1e12);
    await t.admit('young', 'k', 1e12);
    // First refusal: RECHECK_MAX of the 201 never-read tickets, in the order they came.
    expect((await t.admit('over', 'k', 1e12)).ok).toBe(false);
    expect(reads).toEqual(old);
    reads.length = 0;
    now = RECHECK_EVERY_MS;
    // Next: 'young' was never read, so it goes first; then the ones read longest ago.
    expect((await t.admit('over', 'k', 1e12)).ok).toBe(false);
    expect(reads).toEqual(['young', ...old.slice(0, RECHECK_MAX - 1)]);
  });
});

describe('admitConnection', () => {
  const client = { ok: false, reason: 'client', status: 429, retryAfter: RETRY_AFTER_CONNECTION_CLIENT };
  const total = { ok: false, reason: 'total', status: 503, retryAfter: RETRY_AFTER_CONNECTION_TOTAL };
  it.each([
    [0, 0, { perClient: 1, total: 1 }, { ok: true }],
    [0, 0, { perClient: 0, total: 1 }, client],
    [3, 1, { perClient: 2, total: 4 }, { ok: true }],
    [3, 2, { perClient: 2, total: 4 }, client],
    [4, 0, { perClient: 2, total: 4 }, total],
    // Both full: the process limit is reported (anyone would be refused).
    [4, 2, { perClient: 2, total: 4 }, total],
  ])('total %i, client %i, %o → %o', (t, forClient, limits, decision) => {
    expect(admitConnection({ total: t, forClient }, limits)).toEqual(decision);
  });
});

describe('ConnectionCounts', () => {
  it('counts per client and in total; a release is given back once however often it is called', async () => {
    const c = new ConnectionCounts(memorySlots(), 'events', at(0));
    const limits = { perClient: 2, total: 3 };
    const a1 = await c.take('a', limits);
    const a2 = await c.take('a', limits);
    expect([a1.ok, a2.ok, (await c.take('a', limits)).ok]).toEqual([true, true, false]);
    const b1 = await c.take('b', limits);
    expect(b1.ok).toBe(true);
    expect(await c.take('b', limits)).toMatchObject({ ok: false, reason: 'total', status: 503 });
    if (!a1.ok || !a2.ok || !b1.ok) throw new Error('taken above');
    a1.release();
    a1.release();
    expect([c.total, await c.counts('a'), await c.counts('b')]).toEqual([2, { total: 2, forClient: 1 }, { total: 2, forClient: 1 }]);
    a2.release();
    b1.release();
    expect([c.total, await c.counts('a')]).toEqual([0, { total: 0, forClient: 0 }]);
  });

  it('in memory a slot is held until released; shared, it is a lease renewed while held and lapsing once its holder is gone', async () => {
    vi.useFakeTimers();
    try {
      let now = 0;
      const clock = () => new Date(now);
      const local = memorySlots();
      const mem = new ConnectionCounts(local, 'events', clock);
      const held = await mem.take('a', { perClient: 1, total: 1 });
      now = 10 * LEASE_MS;
      expect(await mem.counts('a')).toEqual({ total: 1, forClient: 1 });
      if (held.ok) held.release();

      // Shared: the same memory adapter, told it is shared, stands for Redis here.
      const backing = memorySlots();
      const shared: CountedSlots = { ...backing, shared: true };
      now = 0;
      const c = new ConnectionCounts(shared, 'events', clock);
      const lease = await c.take('a', { perClient: 1, total: 1 });
      expect(await backing.held('events', LEASE_MS - 1)).toHaveLength(1);
      // Renewed every LEASE_MS / 3 while held:
      for (let i = 0; i < 6; i++) {
        now += LEASE_MS / 3;
        await vi.advanceTimersByTimeAsync(LEASE_MS / 3);
      }
      expect(await c.counts('a')).toEqual({ total: 1, forClient: 1 });
      // Its holder gone (nobody renews), it lapses LEASE_MS after the last renewal.
      expect(await backing.held('events', now + LEASE_MS)).toHaveLength(0);
      // Released: gone at once, and no renewal brings it back.
      if (lease.ok) lease.release();
      await vi.advanceTimersByTimeAsync(LEASE_MS);
      expect(await c.counts('a')).toEqual({ total: 0, forClient: 0 });
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
