/**
 * Storage faults between dropship and S3, injected by a proxy on 127.0.0.1: errors, slow
 * answers, an outage mid-upload, and the api killed between CompleteMultipartUpload and its
 * answer. After recovery every completed upload is intact and nothing is left orphaned.
 *
 * "Emulator stopped and restarted" is played by the proxy refusing connections: LocalStack's
 * community edition keeps state in memory only, so a real restart would lose the bucket —
 * to dropship both look the same (S3 unreachable, then back).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { provision, provisionOptions } from '../../src/aws/provision.js';
import { MIB } from '../../src/core/parts.js';
import { api, bucketState as bucketStateOf, createTicket, download, putPart, sha256, startApi, type TestApi, type Ticket } from '../support/app.js';
import { eventually, isolatedStorage, testAws, testConfig } from '../support/env.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { TEST_ENV } from '../support/names.js';
import { inject } from 'vitest';
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import pino from 'pino';
import sharp from 'sharp';
import { startTestWorker } from '../support/worker.js';
import { createObjectStore } from '../../src/aws/store.js';
import { createManifestRepo } from '../../src/ports/manifests.js';

let env: Record<string, string> = {};
let proxy: FaultProxy;
let s: TestApi;

beforeAll(async () => {
  ({ env } = await isolatedStorage('fault-test'));
  proxy = await startFaultProxy(inject('awsEndpoint'));
  s = await startApi({ ...env, AWS_ENDPOINT_URL: proxy.url, DROPSHIP_SINGLE_PUT_MAX: '0' });
});
afterAll(async () => {
  await s?.close();
  await proxy?.close();
});
beforeEach(() => {
  proxy.rules.length = 0;
  proxy.hits.length = 0;
});

const owner = (t: Ticket) => ({ 'x-owner-token': t.ownerToken });
const MANIFEST = /\/manifest\.json/;
const CREATE_MPU = /\/original\?uploads/;
const COMPLETE_MPU = /\/original\?uploadId=/;

const bucketState = () => bucketStateOf(s.store);

async function sendAll(t: Ticket, data: Uint8Array) {
  const etags = [];
  for (const p of t.parts) {
    const start = (p.partNumber - 1) * t.upload.partSize;
    const r = await putPart(p.url, data.subarray(start, start + p.size));
    expect(r.status).toBe(200);
    etags.push({ partNumber: p.partNumber, etag: r.etag });
  }
  return etags;
}

describe('S3 errors', () => {
  it('transient 503s are retried inside the api: the ticket succeeds', async () => {
    proxy.rules.push({ method: 'POST', url: CREATE_MPU, status: 503, times: 2 });
    const t = await createTicket(s.base, { name: 'a.bin', size: 10 * MIB });
    expect(t.upload.mode).toBe('multipart');
    expect(proxy.hits).toHaveLength(2);
  });

  it('persistent 500s: 503 STORAGE_UNAVAILABLE with Retry-After, nothing left behind', async () => {
    const before = await bucketState();
    proxy.rules.push({ method: 'POST', url: CREATE_MPU, status: 500 });
    const r = await api(s.base, 'POST', '/v1/drops', { name: 'b.bin', size: 10 * MIB });
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ error: { code: 'STORAGE_UNAVAILABLE' } });
    expect(r.headers.get('retry-after')).toBeTruthy();
    proxy.rules.length = 0;
    expect(await bucketState()).toEqual(before);
  });

  it('a manifest that cannot be written rolls the multipart upload back', async () => {
    const before = await bucketState();
    proxy.rules.push({ method: 'PUT', url: MANIFEST, status: 500 });
    const r = await api(s.base, 'POST', '/v1/drops', { name: 'c.bin', size: 10 * MIB });
    expect(r.status).toBe(503);
    proxy.rules.length = 0;
    expect(proxy.hits.some((h) => MANIFEST.test(h))).toBe(true);
    expect(await bucketState()).toEqual(before);
  });

  it('complete failing in S3 answers 503; the retry after recovery completes the same bytes', async () => {
    const data = randomBytes(12 * MIB);
    const t = await createTicket(s.base, { name: 'd.bin', size: data.length });
    const etags = await sendAll(t, data);
    proxy.rules.push({ method: 'POST', url: COMPLETE_MPU, status: 500 });
    const failed = await api(s.base, 'POST', `/v1/drops/${t.id}/complete`, { parts: etags }, owner(t));
    expect(failed.status).toBe(503);
    expect((await api(s.base, 'GET', `/v1/drops/${t.id}`)).body).toMatchObject({ status: 'uploading' });
    proxy.rules.length = 0;
    const ok = await api(s.base, 'POST', `/v1/drops/${t.id}/complete`, { parts: etags }, owner(t));
    expect(ok.status).toBe(200);
    expect(sha256((await download(s.base, t.id)).data!)).toBe(sha256(data));
  });

  it('signing batch after batch reads the manifest from S3 once, not per batch', async () => {
    const t = await createTicket(s.base, { name: 'many.bin', size: 2 * 1024 ** 3 });
    proxy.rules.push({ method: 'GET', url: MANIFEST, delayMs: 1 });
    for (let first = 17; first < 256; first += 100) {
      const partNumbers = Array.from({ length: Math.min(100, 257 - first) }, (_, i) => first + i);
      const r = await api<{ parts: unknown[] }>(s.base, 'POST', `/v1/drops/${t.id}/parts`, { partNumbers }, owner(t));
      expect(r.body.parts).toHaveLength(partNumbers.length);
    }
    expect(proxy.hits.length).toBe(1);
  });

  it('slow S3 answers slow the api down but do not break it', async () => {
    proxy.rules.push({ url: /./, delayMs: 400 });
    const t = await createTicket(s.base, { name: 'e.bin', size: 100 });
    expect((await api(s.base, 'GET', `/v1/drops/${t.id}`)).body).toMatchObject({ status: 'uploading' });
  });
});

describe('storage outage mid-upload', () => {
  it('parts fail while S3 is down; after it is back the upload finishes intact', async () => {
    const data = randomBytes(20 * MIB);
    const t = await createTicket(s.base, { name: 'f.bin', size: data.length });
    const first = t.parts[0]!;
    expect((await putPart(first.url, data.subarray(0, first.size))).status).toBe(200);
    await proxy.down();
    expect((await api(s.base, 'GET', '/readyz')).status).toBe(503);
    const lost = await putPart(t.parts[1]!.url, data.subarray(first.size, 2 * first.size)).catch(() => ({ status: 0, etag: '' }));
    expect(lost.status).toBe(0);
    const during = await api(s.base, 'GET', `/v1/drops/${t.id}`);
    expect(during.status).toBe(503);
    await proxy.up();
    await eventually(async () => (await api(s.base, 'GET', '/readyz')).status === 200 || undefined);
    const done = await api(s.base, 'POST', `/v1/drops/${t.id}/complete`, { parts: await sendAll(t, data) }, owner(t));
    expect(done.status).toBe(200);
    expect(sha256((await download(s.base, t.id)).data!)).toBe(sha256(data));
  });
});

describe('storage outage mid-job (the worker)', () => {
  it('S3 failing and then down while the worker handles a drop: retried, and the drop becomes ready', async () => {
    const config = testConfig({ ...env, AWS_ENDPOINT_URL: proxy.url, DROPSHIP_WORKER_RETRY_DELAY: '1', DROPSHIP_WORKER_WAIT_TIME: '1',
      // A receive cut off by the outage hides its message for one visibility timeout.
      DROPSHIP_WORKER_VISIBILITY_TIMEOUT: '4',
    });
    const aws = testAws(config);
    const queueUrl = (await provision(aws, provisionOptions(config))).queueUrl;
    await aws.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    const worker = startTestWorker({ config, clients: aws, queueUrl, log: pino({ level: 'silent' }) });
    try {
      // The worker's first reads of the object fail with 500s, then S3 goes away for a while.
      proxy.rules.push({ method: 'GET', url: /\/original/, status: 500, times: 2 });
      const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#336699' } }).png().toBuffer();
      const t = await createTicket(s.base, { name: 'job.png', size: png.length });
      expect((await putPart(t.parts[0]!.url, png)).status).toBe(200);
      expect((await api(s.base, 'POST', `/v1/drops/${t.id}/complete`, undefined, owner(t))).status).toBe(200);
      await eventually(async () => proxy.hits.length >= 2 || undefined, 20_000);
      await proxy.down();
      await new Promise((r) => setTimeout(r, 2000));
      // Read past the proxy, straight from the emulator.
      const direct = testAws(testConfig(env));
      const manifests = createManifestRepo(createObjectStore(direct.s3, env.DROPSHIP_BUCKET!));
      expect((await manifests.get(t.id))?.manifest.status).not.toBe('ready');
      await proxy.up();
      const ready = await eventually(async () => {
        const m = (await manifests.get(t.id))?.manifest;
        return m?.status === 'ready' ? m : undefined;
      }, 30_000);
      expect(ready.thumbnail).toBe('ready');
    } finally {
      await worker.stop();
      aws.s3.destroy();
      aws.sqs.destroy();
    }
  }, 60_000);
});

describe('the api killed between CompleteMultipartUpload and its answer', () => {
  const freePort = () =>
    new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
  const startProcess = async (port: number) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/api/server.ts'], {
      env: {
        ...process.env,
        ...TEST_ENV,
        ...env,
        AWS_ENDPOINT_URL: proxy.url,
        PORT: String(port),
        DROPSHIP_PUBLIC_UPLOADS: 'true',
        DROPSHIP_SINGLE_PUT_MAX: '0',
      },
      stdio: 'ignore',
    });
    const base = `http://127.0.0.1:${port}`;
    await eventually(async () => (await fetch(`${base}/healthz`)).ok || undefined, 30_000);
    return { child, base };
  };

  it("the client's retry succeeds and the drop is whole", async () => {
    const port = await freePort();
    const first = await startProcess(port);
    const data = randomBytes(12 * MIB);
    const t = await createTicket(first.base, { name: 'g.bin', size: data.length });
    const etags = await sendAll(t, data);
    proxy.rules.push({ method: 'POST', url: COMPLETE_MPU, swallowResponse: true, times: 1 });
    const pending = api(first.base, 'POST', `/v1/drops/${t.id}/complete`, { parts: etags }, owner(t)).catch((e: unknown) => e);
    await eventually(async () => proxy.hits.length > 0 || undefined);
    // S3 has assembled the object; the api dies before it can say so.
    await eventually(async () => (await s.store.head(`drops/${t.id}/original`)) !== undefined || undefined);
    const exited = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    await exited;
    expect(await pending).toBeInstanceOf(Error);

    const second = await startProcess(port);
    try {
      const retry = await api(second.base, 'POST', `/v1/drops/${t.id}/complete`, { parts: etags }, owner(t));
      expect(retry.status).toBe(200);
      expect(retry.body).toMatchObject({ status: 'processing', size: data.length });
      expect(sha256((await download(second.base, t.id)).data!)).toBe(sha256(data));
      expect(await s.store.listMultipartUploads(`drops/${t.id}/`)).toEqual([]);
    } finally {
      second.child.kill('SIGTERM');
    }
  }, 90_000);
});
