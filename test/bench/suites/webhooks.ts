/**
 * Benchmark 6 — webhook latency: from the moment the worker marks a drop ready (the
 * manifest's `readyAt`) to the moment a receiver on 127.0.0.1 has the signed `drop.ready`
 * POST. One worker process with one global receiver; drops made as the api makes them
 * (manifest, then the bytes, so the real S3 notification fires), one every 200 ms. Both
 * clocks are this machine's. Each received event is verified with `standardwebhooks`.
 */
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { createManifestRepo } from '../../../src/ports/manifests.js';
import { dropKeys } from '../../../src/core/layout.js';
import { hashOwnerToken, newDropId, newOwnerToken } from '../../../src/core/ids.js';
import { newManifest } from '../../../src/core/manifest.js';
import type { BenchContext } from '../lib/env.js';
import { drainQueue, startWorkers, type Workers } from '../lib/workers.js';
import { percentile } from '../lib/stats.js';

export interface WebhookRun {
  rep: number;
  count: number;
  received: number;
  /** ready → received, ms, one per delivered drop. */
  latenciesMs: number[];
  p50: number;
  p95: number;
  max: number;
  badSignatures: number;
}

export interface WebhookResults {
  runs: WebhookRun[];
}

const SECRET = 'whsec_' + Buffer.from('dropship bench webhook secret!!!').toString('base64');

export async function runWebhooks(ctx: BenchContext): Promise<WebhookResults> {
  const count = ctx.quick ? 10 : 50;
  const received = new Map<string, { at: number; ok: boolean }>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks).toString();
      let ok = true;
      let id: string;
      try {
        id = (new Webhook(SECRET).verify(body, req.headers as Record<string, string>) as { data: { id: string } }).data.id;
      } catch {
        ok = false;
        id = (JSON.parse(body) as { data?: { id?: string } }).data?.id ?? '';
      }
      if (!received.has(id)) received.set(id, { at, ok });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  const runs: WebhookRun[] = [];
  let workers: Workers | undefined;
  const repo = createManifestRepo(ctx.store);
  try {
    await drainQueue(ctx);
    workers = await startWorkers(ctx, 1, {
      DROPSHIP_WEBHOOKS: JSON.stringify([{ url, secret: SECRET, events: ['drop.ready'] }]),
      DROPSHIP_SWEEP_INTERVAL: '0',
    });
    for (let rep = 1; rep <= ctx.reps; rep++) {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const id = newDropId();
        const bytes = Buffer.from(`webhook bench ${rep}/${i}\n`);
        const now = new Date();
        await repo.create(
          newManifest({
            id,
            name: `hook-${i}.txt`,
            size: bytes.length,
            type: 'text/plain',
            ownerTokenHash: hashOwnerToken(newOwnerToken()),
            upload: { mode: 'single', partSize: bytes.length, partCount: 1 },
            source: 'ticket',
            now,
            expiresAt: new Date(now.getTime() + 3600_000),
          }),
        );
        await ctx.store.put(dropKeys(id).original, bytes, { contentType: 'text/plain' });
        ids.push(id);
        await new Promise((r) => setTimeout(r, 200));
      }
      const until = Date.now() + 60_000;
      while (ids.some((id) => !received.has(id)) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      const latenciesMs: number[] = [];
      for (const id of ids) {
        const got = received.get(id);
        const m = (await repo.get(id))?.manifest;
        if (got && m?.readyAt) latenciesMs.push(got.at - Date.parse(m.readyAt));
      }
      const run: WebhookRun = {
        rep,
        count,
        received: ids.filter((id) => received.has(id)).length,
        latenciesMs,
        p50: percentile(latenciesMs, 50),
        p95: percentile(latenciesMs, 95),
        max: Math.max(...latenciesMs),
        badSignatures: ids.filter((id) => received.get(id)?.ok === false).length,
      };
      runs.push(run);
      ctx.log(`webhooks rep ${rep}: ${run.received}/${count} received, ready → received p50 ${run.p50} ms, p95 ${run.p95} ms, max ${run.max} ms`);
      for (const id of ids) await ctx.store.deleteKeys([dropKeys(id).original, dropKeys(id).manifest]);
    }
  } finally {
    await workers?.stop();
    await new Promise((r) => server.close(r));
  }
  return { runs };
}
