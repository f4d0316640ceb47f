/**
 * dropship as it scales: two api processes and two worker processes on one emulator and one
 * Redis, behind a round-robin load balancer (test/support/round-robin-proxy.ts). Uploads made
 * with the SDK (src/client: its own retries) through the balancer, so each upload's ticket,
 * part signing, complete, status reads and event streams land on different replicas. Half-way
 * one api process is SIGKILLed: the balancer skips it, the clients' retries carry on on the
 * other, and at the end every drop is ready, none is lost, and no multipart upload is left.
 *
 * 200 uploads (one in ten multipart, of two parts) take about half a minute on 2 shared
 * cores, so they run in `npm test` itself. Two uploads made one after the other first put
 * every kind of request on both replicas whatever the interleaving of the rest: the balancer
 * alternates, and each of them makes five requests (ticket, part signing, complete, event
 * stream, status read).
 *
 * Before the kill the balancer stops sending tickets to the victim and waits until it holds
 * none: a ticket whose answer a crash loses may or may not have created a drop, and the SDK
 * does not send it again (docs/client.md); such a drop's upload is aborted when its ticket
 * expires (the bucket's lifecycle rule), which no test can wait for. Everything else — part
 * signing, completes, status reads, event streams — is in flight on the victim when it dies.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DropshipClient, blobSource, type DropView } from '../../src/client/index.js';
import { createAwsAdapters } from '../../src/aws/adapters.js';
import { eventually, isolatedStorage, testConfig } from '../support/env.js';
import { TEST_ENV } from '../support/names.js';
import { freePort } from '../support/redis-server.js';
import { routeKind, startRoundRobinProxy, type RoundRobinProxy } from '../support/round-robin-proxy.js';
import { spawnWorkerProcess } from '../support/worker-process.js';

const UPLOADS = 200;
const CONCURRENCY = 12;
const MIB = 1024 * 1024;

const children: ChildProcess[] = [];
let env: Record<string, string> = {};
let queueUrl: string;
let proxy: RoundRobinProxy;
let apis: { url: string; child: ChildProcess }[] = [];

async function spawnApi(port: number, publicUrl: string, shared: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/api/server.ts'], {
    env: {
      ...process.env,
      ...TEST_ENV,
      ...env,
      ...shared,
      AWS_ENDPOINT_URL: inject('awsEndpoint'),
      DROPSHIP_QUEUE_URL: queueUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      DROPSHIP_PUBLIC_URL: publicUrl,
      DROPSHIP_PUBLIC_UPLOADS: 'true',
      DROPSHIP_RATE_LIMIT: '1000000',
      // Multipart from 1 MiB, and one part URL per ticket: the second part is signed by a
      // POST /parts that the balancer sends to the other replica.
      DROPSHIP_SINGLE_PUT_MAX: String(MIB),
      DROPSHIP_TICKET_PARTS: '1',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => (await fetch(`${url}/healthz`)).status === 200 || undefined, 60_000, 200);
  return { url, child };
}

beforeAll(async () => {
  ({ env, queueUrl } = await isolatedStorage('replicas'));
  const ports = [await freePort(), await freePort()];
  proxy = await startRoundRobinProxy(ports.map((p) => `http://127.0.0.1:${p}`));
  const shared = { DROPSHIP_REDIS_URL: inject('redisUrl'), DROPSHIP_REDIS_PREFIX: `run-${randomUUID()}:` };
  apis = await Promise.all(ports.map((p) => spawnApi(p, proxy.url, shared)));
  const workers = [0, 1].map(() =>
    spawnWorkerProcess(
      {
        ...TEST_ENV,
        ...env,
        AWS_ENDPOINT_URL: inject('awsEndpoint'),
        DROPSHIP_QUEUE_URL: queueUrl,
        DROPSHIP_WORKER_CONCURRENCY: '4',
        DROPSHIP_WORKER_VISIBILITY_TIMEOUT: '10',
        DROPSHIP_WORKER_WAIT_TIME: '2',
        LOG_LEVEL: 'info',
      },
      children,
    ),
  );
  await Promise.all(workers.map((w) => w.logged((l) => l.msg === 'worker consuming', 60_000)));
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await proxy?.close();
});

/** Reads server-sent events through the balancer until the drop is ready (or failed); reconnects when a stream is cut. */
async function readyBySse(id: string): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const r = await fetch(`${proxy.url}/v1/drops/${id}/events`);
      if (r.status !== 200) {
        await r.arrayBuffer();
        await new Promise((res) => setTimeout(res, 200));
        continue;
      }
      const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
        const statuses = [...text.matchAll(/"status":"(\w+)"/g)].map((m) => m[1]!);
        const last = statuses.at(-1);
        if (last === 'ready' || last === 'failed' || last === 'cancelled' || last === 'expired') {
          await reader.cancel();
          return last;
        }
      }
    } catch {
      // The stream was cut (its replica died): reconnect, as EventSource does.
    }
  }
  throw new Error(`no final status for ${id} over server-sent events`);
}

describe('two api processes and two workers behind a round-robin balancer, one api killed half-way', () => {
  it(`${UPLOADS} uploads all become ready, none lost, no multipart upload left`, async () => {
    const client = new DropshipClient({ baseUrl: proxy.url, apiRetries: 6 });
    // Multipart files of two parts (8 MiB parts): the ticket carries one URL, POST /parts the other.
    const files = Array.from({ length: UPLOADS }, (_, i) => randomBytes(i % 10 === 0 ? 8 * MIB + 4096 + i : 1024 + i));
    const ready: string[] = [];
    let finished = 0;
    let killed: Promise<void> | undefined;
    const victim = apis[1]!;

    const killHalfWay = async () => {
      // Drain the victim of tickets (see the header), then SIGKILL it with the rest in flight.
      proxy.avoid(victim.url, (m, u) => routeKind(m, u) === 'ticket');
      await eventually(async () => proxy.inFlight(victim.url, (m, u) => routeKind(m, u) === 'ticket') === 0 || undefined, 10_000, 5);
      victim.child.kill('SIGKILL');
      await new Promise<void>((r) => victim.child.once('exit', () => r()));
    };

    const one = async (i: number) => {
      const drop = await client.upload(blobSource(new Blob([files[i]!])), { concurrency: 2 });
      // Half wait over server-sent events, half by polling the status: both through the balancer.
      const status = i % 2 ? await readyBySse(drop.id) : (await client.waitUntil(drop.id, { statuses: ['ready'], timeoutMs: 60_000, pollMs: 200 })).status;
      expect(status, drop.id).toBe('ready');
      ready.push(drop.id);
      if (++finished === Math.floor(UPLOADS / 2)) killed = killHalfWay();
    };

    // One after the other: the five requests of each alternate between the two replicas.
    for (const i of [0, 10]) {
      const drop = await client.upload(blobSource(new Blob([files[i]!])));
      expect(await readyBySse(drop.id)).toBe('ready');
      expect((await client.status(drop.id)).status).toBe('ready');
      ready.push(drop.id);
      finished++;
    }
    for (const url of apis.map((a) => a.url)) {
      expect(proxy.served.get(url)).toEqual({ ticket: 1, parts: 1, complete: 1, status: 1, events: 1, other: 0 });
    }

    const rest = files.map((_, i) => i).filter((i) => i !== 0 && i !== 10);
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let k = next++; k < rest.length; k = next++) await one(rest[k]!);
      }),
    );
    await killed;

    expect(victim.child.signalCode).toBe('SIGKILL');
    // Requests sent to the dead replica after the kill were refused at connect and went to the other.
    expect(proxy.stats.failedOver).toBeGreaterThan(0);
    expect(new Set(ready).size).toBe(UPLOADS);
    // Each kind of request landed on both replicas.
    for (const url of apis.map((a) => a.url)) {
      const s = proxy.served.get(url)!;
      for (const kind of ['ticket', 'parts', 'complete', 'status', 'events'] as const) expect(s[kind], `${kind} on ${url}`).toBeGreaterThan(0);
    }

    // Every drop ready as read straight from S3, its bytes of the right size; nothing left half-uploaded.
    const config = testConfig(env);
    const adapters = createAwsAdapters(config, { queueUrl });
    try {
      const sizes = new Map(files.map((f) => [f.length, 0]));
      for (const f of files) sizes.set(f.length, sizes.get(f.length)! + 1);
      const views = (await Promise.all(ready.map((id) => client.status(id)))) as DropView[];
      expect(views.filter((v) => v.status !== 'ready')).toEqual([]);
      for (const v of views) sizes.set(v.size, sizes.get(v.size)! - 1);
      expect([...sizes.values()].every((n) => n === 0)).toBe(true);
      expect(await adapters.store.listMultipartUploads('drops/')).toEqual([]);
    } finally {
      adapters.close();
    }
  }, 240_000);
});
