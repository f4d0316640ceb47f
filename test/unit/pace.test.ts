/** The streaming route's pace rules (src/core/pace.ts): minimum rate over a window, maximum duration, backpressure excluded. */
import { describe, expect, it } from 'vitest';
import { checkPace, clientMs, isStarving, pause, received, resume, startPace, STARVING_GRACE_MS, type Pace } from '../../src/core/pace.js';

const limits = { minBytesPerSecond: 1000, windowMs: 10_000, maxDurationMs: 60_000 };
const at = (bytes: number, extra: Partial<Pace> = {}): Pace => ({ ...received(startPace(0), bytes), ...extra });

describe('checkPace', () => {
  it.each([
    // pace, now → verdict
    [at(0), 9_999, 'ok'], // the window has not run yet
    [at(9_999), 10_000, 'too-slow'],
    [at(10_000), 10_000, 'ok'], // exactly the minimum
    [at(1_000_000), 60_000, 'too-long'], // fast, but past the maximum duration
    [at(0, { pausedMs: 9_000 }), 10_000, 'ok'], // 9 s of backpressure: only 1 s of client time
    [at(999, { pausedMs: 9_000 }), 19_000, 'too-slow'], // 10 s of client time, 999 bytes
    [at(0, { pausedSince: 1_000 }), 50_000, 'ok'], // held back all along: the client is not to blame
  ] as const)('%o at %i → %s', (pace, now, verdict) => {
    expect(checkPace(pace, now, limits).verdict).toBe(verdict);
  });

  it('a window that met the rate starts a fresh one (keeping a running pause)', () => {
    expect(checkPace(at(20_000), 10_000, limits).pace).toEqual({ startedAt: 0, windowStartedAt: 10_000, windowBytes: 0, pausedMs: 0 });
    expect(checkPace(at(20_000, { pausedMs: 0, pausedSince: 10_000 }), 20_000, limits).pace).toEqual({
      startedAt: 0,
      windowStartedAt: 20_000,
      windowBytes: 0,
      pausedMs: 0,
      pausedSince: 20_000,
    });
  });

  it('pause and resume add the held-back time, once', () => {
    let p = startPace(0);
    p = pause(p, 1000);
    p = pause(p, 1500); // already paused: unchanged
    expect(clientMs(p, 3000)).toBe(1000);
    p = resume(p, 4000);
    p = resume(p, 5000); // not paused: unchanged
    expect(p.pausedMs).toBe(3000);
    expect(clientMs(p, 6000)).toBe(3000);
  });
});

describe('isStarving', () => {
  it.each([
    [at(0), STARVING_GRACE_MS - 1, false], // too young to judge
    [at(0), STARVING_GRACE_MS, true],
    [at(5_000), STARVING_GRACE_MS, false], // at the minimum rate so far
    [at(4_999), STARVING_GRACE_MS, true],
    [at(0, { pausedSince: 0 }), 60_000, false], // held back by the api, not starving
  ] as const)('%o at %i → %s', (pace, now, expected) => {
    expect(isStarving(pace, now, limits)).toBe(expected);
  });

  it('a window shorter than the grace period judges after the window', () => {
    expect(isStarving(at(0), 999, { ...limits, windowMs: 1000 })).toBe(false);
    expect(isStarving(at(0), 1000, { ...limits, windowMs: 1000 })).toBe(true);
  });
});
