// Whether a streaming upload's client keeps its side of the bargain: a minimum throughput
// measured over a window, and a maximum duration. Pure: the caller passes the time in.
//
// Only time spent waiting for the client counts. While the api itself holds the body back
// (S3 is slower than the client: backpressure), the client cannot send, and that time is
// left out of the window — a slow S3 never gets a fast client cut.

export interface PaceLimits {
  /** Bytes per second the client must average over each window. */
  minBytesPerSecond: number;
  /** Milliseconds of client time each window spans. */
  windowMs: number;
  /** Milliseconds a whole upload may take. */
  maxDurationMs: number;
}

export interface Pace {
  startedAt: number;
  windowStartedAt: number;
  windowBytes: number;
  /** Time of the current window spent in backpressure, not counting a pause still running. */
  pausedMs: number;
  /** Set while the api holds the body back. */
  pausedSince?: number;
}

export type PaceVerdict = 'ok' | 'too-slow' | 'too-long';

/** Milliseconds below which a stream is too young to call starving (see `isStarving`). */
export const STARVING_GRACE_MS = 5000;

export const startPace = (now: number): Pace => ({ startedAt: now, windowStartedAt: now, windowBytes: 0, pausedMs: 0 });

/** Client time in the current window: wall time minus backpressure. */
export function clientMs(p: Pace, now: number): number {
  const paused = p.pausedMs + (p.pausedSince !== undefined ? now - p.pausedSince : 0);
  return Math.max(0, now - p.windowStartedAt - paused);
}

export const received = (p: Pace, bytes: number): Pace => ({ ...p, windowBytes: p.windowBytes + bytes });

export const pause = (p: Pace, now: number): Pace => (p.pausedSince !== undefined ? p : { ...p, pausedSince: now });

export function resume(p: Pace, now: number): Pace {
  if (p.pausedSince === undefined) return p;
  const { pausedSince, ...rest } = p;
  return { ...rest, pausedMs: p.pausedMs + (now - pausedSince) };
}

/**
 * The verdict at `now`, and the pace to keep: a window that has run its length with enough
 * bytes starts afresh; one without enough is `too-slow`; an upload past its maximum
 * duration is `too-long` whatever its pace.
 */
export function checkPace(p: Pace, now: number, limits: PaceLimits): { verdict: PaceVerdict; pace: Pace } {
  if (now - p.startedAt >= limits.maxDurationMs) return { verdict: 'too-long', pace: p };
  const ms = clientMs(p, now);
  if (ms < limits.windowMs) return { verdict: 'ok', pace: p };
  if (p.windowBytes * 1000 < limits.minBytesPerSecond * ms) return { verdict: 'too-slow', pace: p };
  const next: Pace = { startedAt: p.startedAt, windowStartedAt: now, windowBytes: 0, pausedMs: 0 };
  if (p.pausedSince !== undefined) next.pausedSince = now;
  return { verdict: 'ok', pace: next };
}

/**
 * Whether a stream may be cut to make room for a newcomer when every slot is taken: it has
 * had at least STARVING_GRACE_MS of client time in its window and is below the minimum rate
 * so far — the window would cut it anyway.
 */
export function isStarving(p: Pace, now: number, limits: PaceLimits): boolean {
  const ms = clientMs(p, now);
  return ms >= Math.min(STARVING_GRACE_MS, limits.windowMs) && p.windowBytes * 1000 < limits.minBytesPerSecond * ms;
}
