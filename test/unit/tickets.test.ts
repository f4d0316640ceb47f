import { describe, expect, it } from 'vitest';
import { OpenTickets } from '../../src/core/tickets.js';

describe('OpenTickets', () => {
  it('limits tickets per owner and releases them', () => {
    const t = new OpenTickets({ perOwner: 2, total: 10 }, () => 0);
    expect(t.admit('a', 'k1', 100).ok).toBe(true);
    expect(t.admit('b', 'k1', 100).ok).toBe(true);
    expect(t.admit('c', 'k1', 100)).toMatchObject({ ok: false, reason: 'owner' });
    expect(t.admit('c', 'k2', 100).ok).toBe(true);
    t.release('a');
    t.release('a');
    expect(t.countFor('k1')).toBe(1);
    expect(t.admit('d', 'k1', 100).ok).toBe(true);
  });

  it('answers total when the process is full', () => {
    const t = new OpenTickets({ perOwner: 10, total: 2 }, () => 0);
    t.admit('a', 'x', 100);
    t.admit('b', 'y', 100);
    const r = t.admit('c', 'z', 100);
    expect(r).toMatchObject({ ok: false, reason: 'total' });
    expect(r.ok === false && r.retryAfter).toBeGreaterThan(0);
  });

  it('forgets expired tickets', () => {
    let now = 0;
    const t = new OpenTickets({ perOwner: 1, total: 1 }, () => now);
    t.admit('a', 'k', 50);
    expect(t.admit('b', 'k', 100).ok).toBe(false);
    now = 60;
    expect(t.admit('b', 'k', 100).ok).toBe(true);
    expect(t.size).toBe(1);
  });
});
