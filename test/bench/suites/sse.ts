/**
 * Benchmark 7 — server-sent events fan-out: N watchers of one drop on
 * `GET /v1/drops/:id/events` (anonymous: the route needs no key or owner token), and the S3
 * reads the api makes meanwhile. The api runs as its own process with AWS_ENDPOINT_URL
 * pointed at the counting proxy (lib/s3-counter.ts), its event-stream caps raised so 300
 * streams from 127.0.0.1 fit. Per run: a fresh drop (manifest written by the bench, status
 * `uploading`), N watchers opened and each holding its first `status` event, then a fixed
 * window that starts right after one of the poll's manifest reads; halfway through it the
 * bench completes the upload (→ `processing`), after it marks the drop ready. Every watcher
 * must receive both changes and see its stream ended by the server (ready is terminal):
 * a fan-out that loses an event fails the suite. 1 and 300 watchers alternate which goes
 * first per repetition; the ratio of reads/s is per repetition.
 */
import { request, type ClientRequest } from 'node:http';
import { createManifestRepo } from '../../../src/ports/manifests.js';
import { indexExpiry } from '../../../src/ports/expiry-index.js';
import { expiryIndexKey } from '../../../src/core/retention.js';
import { dropKeys } from '../../../src/core/layout.js';
import { hashOwnerToken, newDropId, newOwnerToken } from '../../../src/core/ids.js';
import { newManifest } from '../../../src/core/manifest.js';
import type { BenchContext } from '../lib/env.js';
import { startApi, type ApiProcess } from '../lib/api.js';
import { sampleProc } from '../lib/proc.js';
import { startS3Counter, verifyCounter, type S3Counter } from '../lib/s3-counter.js';

export interface SseRun {
  rep: number;
  watchers: number;
  /** Window length, seconds. */
  seconds: number;
  /** Manifest GETs by the api in the window, and per second. */
  manifestReads: number;
  readsPerSecond: number;
  /** Every S3 request the api made in the window, by operation. */
  ops: Record<string, number>;
  /** api CPU seconds in the window, and its RSS at the window's end. */
  cpuSeconds: number;
  rssBytes: number;
  /** Watchers that received `processing` and then `ready`, and whose stream the server ended. */
  gotProcessing: number;
  gotReady: number;
  endedByServer: number;
  /** ready written → last watcher has it, ms. */
  readyFanOutMs: number;
}

export interface SseResults {
  watcherCounts: number[];
  pollMs: number;
  runs: SseRun[];
}

interface Watcher {
  req: ClientRequest;
  statuses: string[];
  ended: boolean;
  readyAt?: number;
  error?: string;
}

function watch(base: string, id: string): Watcher {
  const w: Watcher = { req: undefined as unknown as ClientRequest, statuses: [], ended: false };
  const u = new URL(`/v1/drops/${id}/events`, base);
  w.req = request({ hostname: u.hostname, port: u.port, path: u.pathname, headers: { accept: 'text/event-stream' }, agent: false }, (res) => {
    if (res.statusCode !== 200) {
      w.error = `HTTP ${res.statusCode}`;
      res.resume();
      return;
    }
    res.setEncoding('utf8');
    let buf = '';
    res.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (!/^event: status$/m.test(block)) continue;
        const data = /^data: (.*)$/m.exec(block)?.[1];
        const status = data ? (JSON.parse(data) as { status?: string }).status : undefined;
        if (status) {
          w.statuses.push(status);
          if (status === 'ready') w.readyAt = performance.now();
        }
      }
    });
    res.on('end', () => (w.ended = true));
    res.on('error', (e) => (w.error = e.message));
  });
  w.req.on('error', (e) => (w.error ??= e.message));
  w.req.end();
  return w;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`sse: ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSse(ctx: BenchContext): Promise<SseResults> {
  const watcherCounts = [1, 300];
  // The window starts right after a poll read and lasts whole seconds + half a poll, so every
  // run counts the same number of polls unless something reads more (no ±1 from where it starts).
  const seconds = (ctx.quick ? 3 : 10) + 0.5;
  const pollMs = 1000;
  const repo = createManifestRepo(ctx.store);
  const runs: SseRun[] = [];
  let counter: S3Counter | undefined;
  let api: ApiProcess | undefined;
  let watchers: Watcher[] = [];
  const made: { id: string; expiresAt: Date }[] = [];
  try {
    counter = await startS3Counter(ctx.endpoint);
    await verifyCounter(ctx, counter);
    api = await startApi(ctx, {
      AWS_ENDPOINT_URL: counter.url,
      DROPSHIP_EVENT_STREAMS: '1000',
      DROPSHIP_EVENT_STREAMS_PER_CLIENT: '1000',
      DROPSHIP_EVENT_POLL_MS: String(pollMs),
    });
    for (let rep = 1; rep <= ctx.reps; rep++) {
      const order = rep % 2 ? watcherCounts : [...watcherCounts].reverse();
      for (const n of order) {
        // A drop as the api makes it (marker, manifest), waiting for its bytes.
        const id = newDropId();
        const now = new Date();
        const expiresAt = new Date(now.getTime() + 3600_000);
        const m = newManifest({
          id,
          name: `sse-${rep}-${n}.txt`,
          size: 16,
          type: 'text/plain',
          ownerTokenHash: hashOwnerToken(newOwnerToken()),
          upload: { mode: 'single', partSize: 16, partCount: 1 },
          source: 'ticket',
          now,
          expiresAt,
        });
        made.push({ id, expiresAt });
        await indexExpiry(ctx.store, m, expiresAt);
        await repo.create(m);

        watchers = Array.from({ length: n }, () => watch(api!.base, id));
        await until(() => watchers.every((w) => w.statuses.length > 0 || w.error), 30_000, `${n} watchers did not all get their first event`);
        const failed = watchers.filter((w) => w.error);
        if (failed.length) throw new Error(`sse: ${failed.length}/${n} watchers could not open: ${failed[0]!.error}`);

        // Align the window on the poll: start right after one of its manifest reads ends.
        const manifestKey = dropKeys(id).manifest;
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('sse: no manifest poll within 5 s')), 5000);
          counter!.onDone((r) => {
            if (r.op === 'GetObject' && r.key === manifestKey) {
              clearTimeout(t);
              counter!.onDone(undefined);
              resolve();
            }
          });
        });
        counter.reset();
        const before = sampleProc(api.pid);
        const t0 = performance.now();
        await sleep((seconds * 1000) / 2);
        await repo.applyEvent(id, { type: 'complete', at: new Date() });
        await sleep(Math.max(0, t0 + seconds * 1000 - performance.now()));
        const after = sampleProc(api.pid);
        const window = counter.requests();
        const ops = counter.counts();
        // After the window: every watcher must have the change, then the final ready.
        await until(() => watchers.every((w) => w.statuses.includes('processing')), 10_000, `not every watcher got "processing"`).catch(() => {});
        const gotProcessing = watchers.filter((w) => w.statuses.includes('processing')).length;
        const readyWritten = performance.now();
        await repo.applyEvent(id, { type: 'processed', at: new Date(), sniffedType: 'text/plain', thumbnail: 'none', thumbnails: [] });
        await until(() => watchers.every((w) => w.ended || w.error), 10_000, 'streams did not all end after ready').catch(() => {});
        const gotReady = watchers.filter((w) => w.statuses.at(-1) === 'ready').length;
        const endedByServer = watchers.filter((w) => w.ended).length;
        const readyFanOutMs = Math.max(...watchers.map((w) => (w.readyAt ?? NaN) - readyWritten));
        const manifestReads = window.filter((r) => r.op === 'GetObject' && r.key === manifestKey).length;
        const run: SseRun = {
          rep,
          watchers: n,
          seconds,
          manifestReads,
          readsPerSecond: manifestReads / seconds,
          ops,
          cpuSeconds: after.cpuSeconds - before.cpuSeconds,
          rssBytes: after.rssBytes,
          gotProcessing,
          gotReady,
          endedByServer,
          readyFanOutMs,
        };
        runs.push(run);
        ctx.log(
          `  sse rep ${rep}, ${n} watcher(s): ${manifestReads} manifest reads in ${seconds} s (${run.readsPerSecond.toFixed(2)}/s; all S3: ${JSON.stringify(ops)}), ` +
            `api CPU ${(run.cpuSeconds * 1000).toFixed(0)} ms, RSS ${(run.rssBytes / 2 ** 20).toFixed(0)} MiB; processing ${gotProcessing}/${n}, ready ${gotReady}/${n}, ended ${endedByServer}/${n}, ready fan-out ${readyFanOutMs.toFixed(0)} ms`,
        );
        for (const w of watchers) w.req.destroy();
        watchers = [];
        if (gotProcessing < n || gotReady < n || endedByServer < n) {
          throw new Error(`sse: with ${n} watchers, ${n - gotProcessing} missed "processing", ${n - gotReady} missed "ready", ${n - endedByServer} streams were not ended by the server`);
        }
      }
    }
    return { watcherCounts, pollMs, runs };
  } finally {
    for (const w of watchers) w.req.destroy();
    await api?.stop();
    await counter?.close();
    for (const { id, expiresAt } of made) {
      await ctx.store.deleteKeys([dropKeys(id).manifest, expiryIndexKey(id, expiresAt)]).catch(() => {});
    }
  }
}
