/**
 * The shared manifest poll behind server-sent events (src/api/services/events.ts
 * createDropWatch): one poll per drop however many watch it, every watcher told each change,
 * the poll stopped by the last watcher, a terminal status, an error-free close.
 */
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/core/manifest.js';
import { createDropWatch } from '../../src/api/services/events.js';

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
