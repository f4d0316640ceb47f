/**
 * Webhooks end to end: a real worker process (`src/worker/main.ts`) on the emulator, receivers
 * as HTTP servers on 127.0.0.1, signatures checked with `standardwebhooks`. A receiver gets
 * drop.ready with the metadata; one answering 500 twice gets it on the third attempt with the
 * same webhook-id; one that never answers 2xx (or redirects) ends in the deliveries DLQ; and a
 * worker SIGKILLed exactly between the manifest write and the enqueue still delivers (a fault
 * proxy kills it on its SendMessage and never forwards it).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { createServer, type Server } from 'node:http';
import { inject } from 'vitest';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { destroyAwsClients } from '../../src/aws/clients.js';
import { provision, provisionOptions } from '../../src/aws/provision.js';
import { webhookId } from '../../src/core/webhooks.js';
import { testAws, testConfig, eventually } from '../support/env.js';
import { TEST_ENV } from '../support/names.js';
import { dropKit, type DropKit } from '../support/drops.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';

const SECRET = 'whsec_' + Buffer.from('dropship webhook test secret, 32b').toString('base64');
const NAMES = {
  DROPSHIP_BUCKET: 'dropship-webhooks',
  DROPSHIP_QUEUE_NAME: 'dropship-webhooks-events',
  DROPSHIP_DLQ_NAME: 'dropship-webhooks-events-dlq',
  DROPSHIP_DELIVERIES_QUEUE_NAME: 'dropship-webhooks-deliveries',
  DROPSHIP_DELIVERIES_DLQ_NAME: 'dropship-webhooks-deliveries-dlq',
};
const WORKER_ENV = {
  ...NAMES,
  DROPSHIP_WORKER_VISIBILITY_TIMEOUT: '5',
  DROPSHIP_WORKER_RETRY_DELAY: '0',
  DROPSHIP_WORKER_WAIT_TIME: '2',
  DROPSHIP_SWEEP_INTERVAL: '0',
  // Three attempts a second apart, then the DLQ (maxReceiveCount 3, set by provisioning).
  DROPSHIP_WEBHOOK_RETRY_SCHEDULE: '1,1',
  DROPSHIP_WEBHOOK_TIMEOUT_MS: '2000',
  DROPSHIP_WEBHOOK_DLQ_CHECK_INTERVAL: '1',
  DROPSHIP_PUBLIC_URL: 'http://drops.test',
};

interface Hit {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** One server, one path per receiver behaviour. */
const hits: Hit[] = [];
let server: Server;
let base = '';
const flakyTries = new Map<string, number>();
const url = (path: string) => `${base}${path}`;

let env: Record<string, string>;
let kit: DropKit;
let aws: ReturnType<typeof testAws>;
let deliveriesDlqUrl = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hit: Hit = { path: req.url ?? '', headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString(), at: Date.now() };
      hits.push(hit);
      const id = hit.headers['webhook-id'] ?? '';
      if (hit.path === '/ok') return void res.writeHead(204).end();
      if (hit.path === '/flaky') {
        const n = (flakyTries.get(id) ?? 0) + 1;
        flakyTries.set(id, n);
        return void res.writeHead(n <= 2 ? 500 : 200).end();
      }
      if (hit.path === '/redirect') return void res.writeHead(302, { location: url('/ok') }).end();
      res.writeHead(500).end(); // /dead
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const all = ['drop.ready', 'drop.failed', 'drop.deleted', 'drop.expired'];
  env = {
    ...WORKER_ENV,
    DROPSHIP_WEBHOOKS: JSON.stringify(['/ok', '/flaky', '/dead', '/redirect'].map((p) => ({ url: url(p), secret: SECRET, events: all }))),
  };
  const config = testConfig(env);
  aws = testAws(config);
  const r = await provision(aws, provisionOptions(config));
  deliveriesDlqUrl = r.deliveriesDlqUrl!;
  kit = dropKit(config, aws);
}, 60_000);

const children: ChildProcess[] = [];
const shared: ChildProcess[] = [];
const proxies: FaultProxy[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const p of proxies.splice(0)) await p.close();
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  destroyAwsClients(aws);
});

/** `owner`: the list that kills it — `children` after each test, `shared` after all. */
function spawnWorker(extra: Record<string, string> = {}, owner: ChildProcess[] = children): WorkerProcess {
  return spawnWorkerProcess({ ...TEST_ENV, AWS_ENDPOINT_URL: inject('awsEndpoint'), LOG_LEVEL: 'debug', ...env, ...extra }, owner);
}

const consuming = (l: Record<string, unknown>) => l.msg === 'worker consuming';
const forDrop = (id: string, path: string) => hits.filter((h) => h.path === path && (JSON.parse(h.body) as { data: { id: string } }).data.id === id);
const bytes = Buffer.from('webhook test file\n');

/** A drop with metadata in its manifest (written as the api would once it accepts metadata), then its bytes. */
async function dropWithMetadata(metadata: Record<string, string>) {
  const id = await kit.announce(bytes, { name: 'notes.txt', type: 'text/plain' });
  await kit.manifests.rewrite(id, (m) => ({ ...m, metadata }));
  await kit.upload(id, bytes, 'text/plain');
  return id;
}

describe('webhooks from a worker process', () => {
  let worker: WorkerProcess;
  let id = '';
  let readyAt = 0;

  beforeAll(async () => {
    worker = spawnWorker({}, shared);
    await worker.logged(consuming);
    id = await dropWithMetadata({ order: '4711', customer: 'ACME' });
    readyAt = Date.parse((await kit.until(id, ['ready'], 15_000)).readyAt!);
  }, 40_000);
  afterAll(() => {
    for (const c of shared.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('a receiver gets drop.ready within seconds, verifiable with standardwebhooks, with the metadata', async () => {
    const hit = await eventually(async () => forDrop(id, '/ok')[0], 10_000, 50);
    console.info(`ready → received ${hit.at - readyAt} ms`);
    expect(hit.at - readyAt).toBeLessThan(5000);
    const event = new Webhook(SECRET).verify(hit.body, hit.headers) as { type: string; timestamp: string; data: Record<string, unknown> };
    expect(event).toMatchObject({
      type: 'drop.ready',
      timestamp: new Date(readyAt).toISOString(),
      data: { id, status: 'ready', name: 'notes.txt', size: bytes.length, metadata: { order: '4711', customer: 'ACME' }, shareUrl: `http://drops.test/d/${id}` },
    });
    expect(hit.headers['webhook-id']).toBe(webhookId(id, 'drop.ready', 'global', url('/ok')));
    expect(Math.abs(Number(hit.headers['webhook-timestamp']) - hit.at / 1000)).toBeLessThan(5);
    expect(hit.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    // Someone without the secret cannot produce it.
    expect(() => new Webhook('whsec_' + Buffer.from('not the secret, but 32 bytes long').toString('base64')).verify(hit.body, hit.headers)).toThrow();
    expect(forDrop(id, '/ok')).toHaveLength(1);
  });

  it('a receiver answering 500 twice still gets the event, with the same webhook-id and body each time', async () => {
    const tries = await eventually(async () => (forDrop(id, '/flaky').length >= 3 ? forDrop(id, '/flaky') : undefined), 15_000, 100);
    expect(tries).toHaveLength(3);
    expect(new Set(tries.map((t) => t.headers['webhook-id']))).toEqual(new Set([webhookId(id, 'drop.ready', 'global', url('/flaky'))]));
    expect(new Set(tries.map((t) => t.body)).size).toBe(1);
    for (const t of tries) expect(() => new Webhook(SECRET).verify(t.body, t.headers)).not.toThrow();
    // The retries follow the shrunk schedule (1 s), not the first attempt's moment.
    expect(tries[2]!.at - tries[0]!.at).toBeGreaterThanOrEqual(1500);
  });

  it('a receiver that never answers 2xx, and one that redirects, end in the deliveries DLQ after the schedule; the worker reports the depth', async () => {
    const dead = new Map<string, { receiver: { url: string }; id: string }>();
    await eventually(
      async () => {
        const r = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: deliveriesDlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }));
        for (const m of r.Messages ?? []) {
          const d = JSON.parse(m.Body!) as { dropId: string; receiver: { url: string }; id: string };
          if (d.dropId === id) dead.set(d.receiver.url, d);
        }
        return dead.size === 2 || undefined;
      },
      20_000,
      200,
    );
    expect([...dead.keys()].sort()).toEqual([url('/dead'), url('/redirect')]);
    expect(dead.get(url('/dead'))!.id).toBe(webhookId(id, 'drop.ready', 'global', url('/dead')));
    // Three attempts each (the schedule's two retries), none followed to /ok.
    expect(forDrop(id, '/dead')).toHaveLength(3);
    expect(forDrop(id, '/redirect')).toHaveLength(3);
    expect(forDrop(id, '/ok')).toHaveLength(1);
    const report = await worker.logged((l) => l.msg === 'webhook deliveries in the dead-letter queue' && Number(l.dlqDepth) >= 1, 10_000);
    expect(report.level).toBe(40);
  });
});

describe('SIGKILL between "ready" and the enqueue', () => {
  it('still delivers: the redelivered S3 event takes the duplicate path, which enqueues with the same webhook-id', async () => {
    const proxy = await startFaultProxy(inject('awsEndpoint'));
    proxies.push(proxy);
    const at = { victim: undefined as WorkerProcess | undefined };
    // The worker's first SendMessage is its enqueue of the deliveries, made right after the
    // manifest write: it is killed there, and the request is never forwarded.
    proxy.rules.push({ method: 'POST', url: /.*/, target: /AmazonSQS\.SendMessage$/, hold: true, times: 1, onHit: () => at.victim?.child.kill('SIGKILL') });
    const victim = (at.victim = spawnWorker({ AWS_ENDPOINT_URL: proxy.url }));
    await victim.logged(consuming);
    const id = await dropWithMetadata({ crash: 'yes' });
    expect((await victim.exited).signal).toBe('SIGKILL');
    const killedAt = Date.now();
    expect(proxy.hits.filter((h) => h.endsWith('AmazonSQS.SendMessage'))).toHaveLength(1);
    // Killed after the manifest write: the drop is ready, and nobody has heard of it.
    expect((await kit.manifests.get(id))!.manifest.status).toBe('ready');
    expect(forDrop(id, '/ok')).toEqual([]);

    const next = spawnWorker();
    await next.logged(consuming);
    const hit = await eventually(async () => forDrop(id, '/ok')[0], 20_000, 100);
    console.info(`killed between ready and enqueue → delivered ${hit.at - killedAt} ms later (visibility timeout 5 s)`);
    expect(hit.headers['webhook-id']).toBe(webhookId(id, 'drop.ready', 'global', url('/ok')));
    expect(new Webhook(SECRET).verify(hit.body, hit.headers)).toMatchObject({ type: 'drop.ready', data: { id, metadata: { crash: 'yes' } } });
    await next.logged((l) => l.msg === 'message handled' && l.outcome === 'skipped' && String(l.reason).startsWith('drop is already ready'));
  }, 60_000);
});
