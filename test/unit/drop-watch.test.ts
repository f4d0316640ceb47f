/**
 * The shared manifest poll behind server-sent events (src/api/services/events.ts
 * createDropWatch): one poll per drop however many watch it, every watcher told each change,
 * the poll stopped by the last watcher, a terminal status, an error-free close. Then the
 * event streams themselves (createEventStreams) on a response that records what the client
 * receives: caps and their errors, headers, pings, the deadline, the end on a terminal
 * status, a client leaving, and shutdown. routes-limits.test.ts runs them through the app.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DropshipError } from '../../src/core/errors.js';
import type { Manifest } from '../../src/core/manifest.js';
import { createDropWatch, createEventStreams } from '../../src/api/services/events.js';
import { memorySlots } from '../../src/memory/slots.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for `fn` (polls every 10 ms, at most 3 s): timing-independent on a loaded machine. */
async function until(fn: () => boolean) {
  const end = Date.now() + 3000;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in 3 s');
    await sleep(10);
  }
}
const at = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s)).toISOString();
const m = (status: Manifest['status'], s: number) => ({ id: 'd', status, updatedAt: at(s) }) as Manifest;

function setup(first: Manifest) {
  let stored = first;
  const errors: unknown[] = [];
  let fail = false;
  const watch = createDropWatch({
    read: async () => {
      if (fail) throw new Error('S3 down');
      return stored;
    },
    intervalMs: 20,
    onError: (e) => errors.push(e),
  });
  return { watch, errors, set: (x: Manifest) => void (stored = x), failing: (f: boolean) => void (fail = f) };
}

describe('createDropWatch', () => {
  it('one poll for many watchers; each gets every change once, and nothing when nothing changed', async () => {
    const s = setup(m('uploading', 0));
    const a: string[] = [];
    const b: string[] = [];
    s.watch.subscribe('d', m('uploading', 0), (x) => a.push(x.status));
    s.watch.subscribe('d', m('uploading', 0), (x) => b.push(x.status));
    await sleep(70);
    expect(a).toEqual([]);
    expect(s.watch.stats().watched).toBe(1);
    s.set(m('processing', 1));
    await until(() => a.length > 0 && b.length > 0);
    await sleep(50);
    expect([a, b]).toEqual([['processing'], ['processing']]);
    expect(s.watch.latest('d')?.status).toBe('processing');
    // One poll for both watchers: reads follow the clock, not the number of watchers.
    expect(s.watch.stats().reads).toBeGreaterThanOrEqual(1);
    s.watch.close();
  });

  it('a change of updatedAt alone is a change too', async () => {
    const s = setup(m('processing', 0));
    const seen: string[] = [];
    s.watch.subscribe('d', m('processing', 0), (x) => seen.push(x.updatedAt));
    s.set(m('processing', 5));
    await until(() => seen.length > 0);
    expect(seen).toEqual([at(5)]);
    s.watch.close();
  });

  it('the last watcher leaving stops the poll; leaving twice is harmless', async () => {
    const s = setup(m('uploading', 0));
    const off1 = s.watch.subscribe('d', m('uploading', 0), () => {});
    const off2 = s.watch.subscribe('d', m('uploading', 0), () => {});
    off1();
    off1();
    expect(s.watch.stats().watched).toBe(1);
    off2();
    expect(s.watch.stats().watched).toBe(0);
    expect(s.watch.latest('d')).toBeUndefined();
    const reads = s.watch.stats().reads;
    await sleep(60);
    expect(s.watch.stats().reads).toBe(reads);
  });

  it('a terminal status ends the poll after telling everyone', async () => {
    const s = setup(m('processing', 0));
    const seen: string[] = [];
    s.watch.subscribe('d', m('processing', 0), (x) => seen.push(x.status));
    s.set(m('ready', 1));
    await until(() => s.watch.stats().watched === 0);
    expect(seen).toEqual(['ready']);
  });

  it('a failing read is reported and the poll goes on', async () => {
    const s = setup(m('uploading', 0));
    const seen: string[] = [];
    s.watch.subscribe('d', m('uploading', 0), (x) => seen.push(x.status));
    s.failing(true);
    await until(() => s.errors.length >= 1);
    s.failing(false);
    s.set(m('ready', 2));
    await until(() => seen.length > 0);
    expect(seen).toEqual(['ready']);
  });

  it('a newcomer with a newer copy than the poll tells everyone at once; an older copy is ignored', async () => {
    const s = setup(m('uploading', 0));
    const seen: string[] = [];
    s.watch.subscribe('d', m('uploading', 0), (x) => seen.push(x.status));
    s.watch.subscribe('d', m('processing', 3), () => {});
    expect(seen).toEqual(['processing']);
    s.watch.subscribe('d', m('uploading', 1), () => {});
    expect(seen).toEqual(['processing']);
    expect(s.watch.latest('d')?.status).toBe('processing');
    s.watch.close();
  });

  it('close stops every poll; subscribing afterwards watches nothing', async () => {
    const s = setup(m('uploading', 0));
    s.watch.subscribe('d', m('uploading', 0), () => {});
    s.watch.close();
    expect(s.watch.stats().watched).toBe(0);
    const reads = s.watch.stats().reads;
    const off = s.watch.subscribe('d', m('uploading', 0), () => {});
    off();
    await sleep(60);
    expect(s.watch.stats()).toEqual({ watched: 0, reads });
  });
});

describe('createDropWatch: who is polled after watchers come and go', () => {
  afterEach(() => vi.useRealTimers());

  it('a watcher that arrives while the poll is reading, after the last one left, is polled and told', async () => {
    let stored = m('uploading', 0);
    let release: () => void = () => {};
    let slow = false;
    const watch = createDropWatch({
      read: async () => {
        if (slow) await new Promise<void>((r) => (release = r));
        return stored;
      },
      intervalMs: 20,
      onError: () => {},
    });
    slow = true;
    const offA = watch.subscribe('d', m('uploading', 0), () => {});
    await until(() => watch.stats().reads === 1);
    // The poll is reading for A; A leaves and B comes before the read answers.
    offA();
    const seen: string[] = [];
    watch.subscribe('d', m('uploading', 0), (x) => seen.push(x.status));
    slow = false;
    release();
    stored = m('processing', 1);
    await until(() => seen.length > 0);
    expect(seen).toEqual(['processing']);
    expect(watch.stats().watched).toBe(1);
    watch.close();
  });

  it('a watcher left over from a poll that ended does not stop the next poll of the drop when it leaves', async () => {
    const s = setup(m('processing', 0));
    const offOld = s.watch.subscribe('d', m('processing', 0), () => {});
    s.set(m('ready', 1));
    await until(() => s.watch.stats().watched === 0);
    // A new poll of the same drop (a copy read before it became ready).
    const seen: string[] = [];
    s.set(m('processing', 0));
    s.watch.subscribe('d', m('processing', 0), (x) => seen.push(x.status));
    offOld();
    expect(s.watch.stats().watched).toBe(1);
    s.set(m('ready', 2));
    await until(() => seen.length > 0);
    expect(seen).toEqual(['ready']);
  });

  it('a newcomer whose copy is as old as the poll\'s is not news, even with another status', () => {
    const s = setup(m('uploading', 0));
    const seen: string[] = [];
    s.watch.subscribe('d', m('uploading', 3), (x) => seen.push(x.status));
    s.watch.subscribe('d', m('processing', 3), () => {});
    expect(seen).toEqual([]);
    expect(s.watch.latest('d')?.status).toBe('uploading');
    s.watch.close();
  });

  it('after close a subscriber starts no poll, and nothing reads', async () => {
    const s = setup(m('uploading', 0));
    s.watch.close();
    s.watch.subscribe('d', m('uploading', 0), () => {});
    expect(s.watch.stats()).toEqual({ watched: 0, reads: 0 });
    await sleep(60);
    expect(s.watch.stats()).toEqual({ watched: 0, reads: 0 });
  });

  it('the last watcher leaving and close leave no timer behind', () => {
    vi.useFakeTimers();
    const s = setup(m('uploading', 0));
    const off = s.watch.subscribe('d', m('uploading', 0), () => {});
    expect(vi.getTimerCount()).toBe(1);
    off();
    expect(vi.getTimerCount()).toBe(0);
    s.watch.subscribe('d', m('uploading', 0), () => {});
    s.watch.subscribe('e', m('uploading', 0), () => {});
    expect(vi.getTimerCount()).toBe(2);
    s.watch.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});

/** A response that records what the client would receive. */
class FakeResponse extends EventEmitter {
  status?: number;
  headers?: Record<string, string>;
  chunks: string[] = [];
  writableEnded = false;
  writeHead(status: number, headers: Record<string, string>) {
    this.status = status;
    this.headers = headers;
    return this;
  }
  write(chunk: string) {
    if (this.writableEnded) throw new Error('write after end');
    this.chunks.push(chunk);
    return true;
  }
  end() {
    this.writableEnded = true;
    return this;
  }
  get text() {
    return this.chunks.join('');
  }
}

describe('createEventStreams', () => {
  afterEach(() => vi.useRealTimers());
  const limits = { perClient: 2, total: 3, maxMs: 60_000, pingMs: 15_000 };

  function streams(first: Manifest = m('uploading', 0)) {
    let stored = first;
    const s = createEventStreams({
      slots: memorySlots(),
      clock: () => new Date(),
      status: async () => stored,
      render: (x) => ({ status: x.status }),
      limits,
      pollMs: 1000,
      onError: () => {},
    });
    const open = async (client = 'ip:a') => {
      const a = await s.admit('d', client);
      const res = new FakeResponse();
      a.run(res as unknown as ServerResponse);
      return res;
    };
    return { s, open, set: (x: Manifest) => void (stored = x) };
  }
  const refusal = async (p: Promise<unknown>) => (await p.then(() => undefined, (e: unknown) => e)) as DropshipError;

  it('answers 200 with the event-stream headers and the current status first', async () => {
    const t = streams();
    const res = await t.open();
    expect(res.status).toBe(200);
    expect(res.headers).toEqual({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    expect(res.text).toBe('event: status\ndata: {"status":"uploading"}\n\n');
    expect(res.writableEnded).toBe(false);
    t.s.closeAll();
  });

  it('the caps: a client over its share is TOO_MANY_EVENT_STREAMS naming the limit, a full process EVENT_STREAMS_FULL', async () => {
    const t = streams();
    await t.open('ip:a');
    await t.open('ip:a');
    const mine = await refusal(t.s.admit('d', 'ip:a'));
    expect(mine).toMatchObject({ code: 'TOO_MANY_EVENT_STREAMS', status: 429, message: 'at most 2 event streams per client', details: { max: 2 } });
    await t.open('ip:b');
    const full = await refusal(t.s.admit('d', 'ip:c'));
    expect(full).toMatchObject({ code: 'EVENT_STREAMS_FULL', status: 503, message: 'this server holds as many event streams as it can; retry shortly' });
    expect(full.retryAfter).toBeGreaterThan(0);
    t.s.closeAll();
  });

  it('every change is sent; a non-terminal one keeps the stream open, a terminal one ends it and frees the slot', async () => {
    vi.useFakeTimers();
    const t = streams(m('processing', 0));
    const res = await t.open();
    t.set(m('processing', 1));
    await vi.advanceTimersByTimeAsync(1000);
    expect(res.chunks).toHaveLength(2);
    expect(res.writableEnded).toBe(false);
    expect(t.s.stats()).toMatchObject({ open: 1, watched: 1 });
    t.set(m('ready', 2));
    await vi.advanceTimersByTimeAsync(1000);
    expect(res.chunks.at(-1)).toBe('event: status\ndata: {"status":"ready"}\n\n');
    expect(res.writableEnded).toBe(true);
    expect(t.s.stats()).toMatchObject({ open: 0, watched: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a comment ping every pingMs keeps proxies from closing a quiet stream; none after it ends', async () => {
    vi.useFakeTimers();
    const t = streams();
    const res = await t.open();
    await vi.advanceTimersByTimeAsync(limits.pingMs - 1);
    expect(res.chunks.filter((c) => c === ': ping\n\n')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(res.chunks.filter((c) => c === ': ping\n\n')).toHaveLength(1);
    res.emit('close');
    await vi.advanceTimersByTimeAsync(limits.pingMs * 2);
    expect(res.chunks.filter((c) => c === ': ping\n\n')).toHaveLength(1);
  });

  it('a stream ends after maxMs, freeing its slot and leaving no timer', async () => {
    vi.useFakeTimers();
    const t = streams();
    const res = await t.open();
    await vi.advanceTimersByTimeAsync(limits.maxMs - 1);
    expect(res.writableEnded).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(res.writableEnded).toBe(true);
    expect(t.s.stats()).toMatchObject({ open: 0, watched: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each(['close', 'error'])('the client going (%s) ends its stream: slot back, poll stopped, no timer left', async (event) => {
    vi.useFakeTimers();
    const t = streams();
    const res = await t.open();
    const other = await t.open('ip:b');
    expect(t.s.stats()).toMatchObject({ open: 2, watched: 1 });
    res.emit(event);
    expect(res.writableEnded).toBe(true);
    expect(t.s.stats()).toMatchObject({ open: 1, watched: 1 });
    other.emit(event);
    expect(t.s.stats()).toMatchObject({ open: 0, watched: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('closeAll ends every stream, stops the polls, and refuses newcomers with a 503 to reconnect elsewhere', async () => {
    vi.useFakeTimers();
    const t = streams();
    const a = await t.open('ip:a');
    const b = await t.open('ip:b');
    t.s.closeAll();
    expect([a.writableEnded, b.writableEnded]).toEqual([true, true]);
    expect(t.s.stats()).toEqual({ open: 0, watched: 0, reads: 0 });
    expect(vi.getTimerCount()).toBe(0);
    const late = await refusal(t.s.admit('d', 'ip:c'));
    expect(late).toMatchObject({ code: 'EVENT_STREAMS_FULL', status: 503, message: 'the server is shutting down; reconnect', retryAfter: 1 });
  });

  it('a stream whose slot was still being counted (Redis) when closeAll ran is refused too, and its slot given back', async () => {
    const backing = memorySlots();
    let counted: () => void = () => {};
    const gate = new Promise<void>((r) => (counted = r));
    const slow = { ...backing, shared: true, take: async (...a: Parameters<typeof backing.take>) => (await gate, backing.take(...a)) };
    const s = createEventStreams({
      slots: slow,
      clock: () => new Date(),
      status: async () => m('uploading', 0),
      render: (x) => ({ status: x.status }),
      limits,
      pollMs: 1000,
      onError: () => {},
    });
    const admitting = refusal(s.admit('d', 'ip:a'));
    s.closeAll();
    counted();
    expect(await admitting).toMatchObject({ code: 'EVENT_STREAMS_FULL', status: 503, message: 'the server is shutting down; reconnect' });
    expect(await backing.counts('events', 'ip:a', Date.now())).toEqual({ total: 0, forOwner: 0 });
  });
});
