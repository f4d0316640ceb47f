/**
 * Live status for `GET /v1/drops/:id/events` (server-sent events).
 *
 * - **One poll per drop per process.** However many streams watch a drop, the process reads
 *   its manifest once per DROPSHIP_EVENT_POLL_MS (`createDropWatch`): the first watcher
 *   starts the poll, the last one to leave stops it, and every watcher gets each change. A
 *   stream opened on a drop already watched starts from the poll's copy, without a read.
 *   Polling the manifest (rather than pushing) keeps the api stateless: any replica can serve
 *   any stream.
 * - **Caps.** A client (address, IPv6 /64) holds at most DROPSHIP_EVENT_STREAMS_PER_CLIENT
 *   streams (429 TOO_MANY_EVENT_STREAMS), the process DROPSHIP_EVENT_STREAMS (503
 *   EVENT_STREAMS_FULL), both with Retry-After, decided before anything is read.
 * - **Bounded.** A stream ends when the drop reaches a terminal status, after
 *   DROPSHIP_EVENT_STREAM_MAX_MS, when the client goes, and — all of them at once — on
 *   `closeAll()`, which the app calls when it closes, so open streams never hold a shutdown.
 */
import type { ServerResponse } from 'node:http';
import { ConnectionCounts } from './connections.js';
import { fail } from '../../core/errors.js';
import { isTerminal, type Manifest } from '../../core/manifest.js';

type Listener = (m: Manifest) => void;

/** Shares one manifest poll per drop among all its watchers. */
export function createDropWatch(deps: { read: (id: string) => Promise<Manifest>; intervalMs: number; onError: (err: unknown) => void }) {
  interface Watched {
    latest: Manifest;
    listeners: Set<Listener>;
    timer?: NodeJS.Timeout;
  }
  const watched = new Map<string, Watched>();
  let closed = false;
  let reads = 0;

  const changed = (a: Manifest, b: Manifest) => a.updatedAt !== b.updatedAt || a.status !== b.status;

  function schedule(id: string, w: Watched) {
    w.timer = setTimeout(() => void poll(id, w), deps.intervalMs);
    // Stryker disable next-line OptionalChaining: Node's timers always have unref.
    w.timer.unref?.();
  }

  async function poll(id: string, w: Watched) {
    w.timer = undefined;
    // A backstop: every path that stops watching `w` (the last watcher leaving, close) also
    // clears its timer, so a poll never fires for an entry no longer watched or without watchers.
    // Stryker disable next-line ConditionalExpression,LogicalOperator: unreachable while those timers are cleared (tested).
    if (watched.get(id) !== w || w.listeners.size === 0) return;
    try {
      reads++;
      const next = await deps.read(id);
      if (changed(w.latest, next)) {
        w.latest = next;
        for (const l of [...w.listeners]) l(next);
      }
    } catch (err) {
      deps.onError(err);
    }
    if (watched.get(id) !== w) return;
    // Stryker disable next-line ConditionalExpression: the last watcher leaving removes `w` from `watched` at once, so past the line above it has watchers.
    if (isTerminal(w.latest.status) || w.listeners.size === 0) {
      watched.delete(id);
      return;
    }
    schedule(id, w);
  }

  return {
    /** The poll's latest copy of a watched drop, or undefined when nobody watches it. */
    latest: (id: string): Manifest | undefined => watched.get(id)?.latest,

    /** Watches `id` from `current` on; the answer stops watching (idempotent). */
    subscribe(id: string, current: Manifest, listener: Listener): () => void {
      if (closed) return () => {};
      let w = watched.get(id);
      if (!w) {
        w = { latest: current, listeners: new Set() };
        watched.set(id, w);
        schedule(id, w);
      } else if (changed(w.latest, current) && Date.parse(current.updatedAt) > Date.parse(w.latest.updatedAt)) {
        // The newcomer read a newer copy than the poll has: everyone gets it now.
        w.latest = current;
        for (const l of [...w.listeners]) l(current);
      }
      const entry = w;
      entry.listeners.add(listener);
      return () => {
        entry.listeners.delete(listener);
        if (entry.listeners.size === 0 && watched.get(id) === entry) {
          clearTimeout(entry.timer);
          watched.delete(id);
        }
      };
    },

    /** Drops being polled, and manifest reads made by the polls so far (for tests and /metrics). */
    stats: () => ({ watched: watched.size, reads }),

    close() {
      closed = true;
      for (const w of watched.values()) clearTimeout(w.timer);
      watched.clear();
    },
  };
}

export type DropWatch = ReturnType<typeof createDropWatch>;

export interface EventStreamLimits {
  perClient: number;
  total: number;
  maxMs: number;
  pingMs: number;
}

/** The event streams of one process: admission, the shared polls, and shutdown. */
export function createEventStreams(deps: {
  status: (id: string) => Promise<Manifest>;
  render: (m: Manifest) => unknown;
  limits: EventStreamLimits;
  pollMs: number;
  onError: (err: unknown) => void;
}) {
  const { limits } = deps;
  const counts = new ConnectionCounts();
  const watch = createDropWatch({ read: deps.status, intervalMs: deps.pollMs, onError: deps.onError });
  const open = new Set<() => void>();
  let closing = false;

  return {
    watch,
    stats: () => ({ open: counts.total, ...watch.stats() }),

    /**
     * Admits one stream for `client` and reads where the drop stands (from the shared poll
     * when someone already watches it). Throws 429/503 with Retry-After, or the drop's own
     * errors (404). `run` then serves the stream on a raw response; `release` gives the slot
     * back if the caller does not run it.
     */
    async admit(
      id: string,
      client: string,
      /** This stream's own view of the drop (a protected drop shows its status only), default `deps.render`. */
      render: (m: Manifest) => unknown = deps.render,
    ): Promise<{ first: Manifest; run: (res: ServerResponse) => void; release: () => void }> {
      if (closing) throw fail('EVENT_STREAMS_FULL', 'the server is shutting down; reconnect', {}, 1);
      const slot = counts.take(client, { perClient: limits.perClient, total: limits.total });
      if (!slot.ok) {
        throw slot.reason === 'total'
          ? fail('EVENT_STREAMS_FULL', 'this server holds as many event streams as it can; retry shortly', {}, slot.retryAfter)
          : fail('TOO_MANY_EVENT_STREAMS', `at most ${limits.perClient} event streams per client`, { max: limits.perClient }, slot.retryAfter);
      }
      const release = slot.release!;
      let first: Manifest;
      try {
        first = watch.latest(id) ?? (await deps.status(id));
      } catch (e) {
        release();
        throw e;
      }
      return { first, release, run: (res) => serve(res, first, release, render) };
    },

    /** Ends every open stream (the app calls this when it closes). */
    closeAll() {
      closing = true;
      for (const end of [...open]) end();
      // Stryker disable next-line CallExpression: every stream's end has unsubscribed its watcher and `admit` refuses from here on, so nothing is left for close to stop.
      watch.close();
    },
  };

  function serve(res: ServerResponse, first: Manifest, release: () => void, render: (m: Manifest) => unknown) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const send = (m: Manifest) => res.write(`event: status\ndata: ${JSON.stringify(render(m))}\n\n`);
    // The client may have hung up while the stream was being admitted (its 'close' fired
    // before anyone listened): give the slot back now rather than at the stream's deadline.
    if (res.destroyed || res.socket?.destroyed) {
      release();
      return;
    }
    send(first);
    if (isTerminal(first.status)) {
      release();
      res.end();
      return;
    }
    let ended = false;
    // Every step of `end` is idempotent (the release too), so `ended` only saves repeating them.
    const end = () => {
      // Stryker disable next-line ConditionalExpression: every step below is idempotent.
      if (ended) return;
      // Stryker disable next-line BooleanLiteral: every step below is idempotent.
      ended = true;
      unsubscribe();
      clearInterval(ping);
      clearTimeout(deadline);
      // Stryker disable next-line CallExpression: only frees memory; closeAll calling an ended stream's end again does nothing.
      open.delete(end);
      release();
      // Stryker disable next-line ConditionalExpression: ServerResponse.end() on an ended response does nothing.
      if (!res.writableEnded) res.end();
    };
    const unsubscribe = watch.subscribe(first.id, first, (m) => {
      send(m);
      if (isTerminal(m.status)) end();
    });
    const ping = setInterval(() => res.write(': ping\n\n'), limits.pingMs);
    const deadline = setTimeout(end, limits.maxMs);
    // Stryker disable next-line OptionalChaining: Node's timers always have unref.
    ping.unref?.();
    // Stryker disable next-line OptionalChaining: Node's timers always have unref.
    deadline.unref?.();
    open.add(end);
    res.on('close', end);
    res.on('error', end);
  }
}

export type EventStreams = ReturnType<typeof createEventStreams>;
