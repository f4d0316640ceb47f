/**
 * Acceptance of retention against S3 on the emulator: a drop created with `expiresIn: 60`
 * answers expired/410 once its minute is up, a download URL taken before the expiry stops
 * working at the expiry, and the worker's sweep deletes its objects shortly after. The api's
 * clock starts 50 s behind, so the drop is created "50 s ago" and its minute ends ~10 s into
 * the test (the emulator checks URLs against the real time). Provisioning's lifecycle rules are
 * asserted as far as an emulator allows: stored, and announced by `x-amz-expiration`.
 */
import { GetBucketLifecycleConfigurationCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsAdapters } from '../../src/aws/adapters.js';
import { dropKeys } from '../../src/core/layout.js';
import { expiryIndexKey } from '../../src/core/retention.js';
import { systemClock } from '../../src/ports/clock.js';
import { createManifestRepo } from '../../src/ports/manifests.js';
import { createSweep, startSweeper } from '../../src/worker/sweeper.js';
import type { RunningWorker } from '../../src/worker/worker.js';
import { api, startApi, type TestApi, type Ticket } from '../support/app.js';
import { eventually, isolatedStorage, testConfig } from '../support/env.js';
import { startTestWorker } from '../support/worker.js';

const log = pino({ level: 'silent' });
let s: TestApi;
let worker: RunningWorker;
let sweeper: { stop(): Promise<void> };
let skew = -50_000;
let env: Record<string, string>;

beforeAll(async () => {
  const storage = await isolatedStorage('retention');
  env = storage.env;
  s = await startApi(env, { clock: () => new Date(Date.now() + skew) });
  const config = testConfig(env);
  worker = startTestWorker({ config, queueUrl: storage.queueUrl, log });
  const aws = createAwsAdapters(config, { queueUrl: storage.queueUrl, clients: s.aws });
  // As src/worker/main.ts runs it, at a test's pace.
  sweeper = startSweeper(createSweep({ store: aws.store, manifests: createManifestRepo(aws.store), clock: systemClock, log }), {
    intervalMs: 1000,
    log,
  });
});
afterAll(async () => {
  await sweeper?.stop();
  await worker?.stop();
  await s?.close();
});

describe('retention on S3', () => {
  it('expiresIn 60: expired and 410 after its minute, an earlier download URL refused at expiry, objects gone', async () => {
    const bytes = Buffer.from('short-lived bytes\n');
    const created = await api<Ticket & { expiresAt: string }>(s.base, 'POST', '/v1/drops', { name: 'brief.txt', size: bytes.length, expiresIn: 60 });
    expect(created.status).toBe(201);
    const tk = created.body;
    const expiresAt = Date.parse(tk.expiresAt);
    skew = 0; // from here on the api's clock is the real one: the drop has ~10 s left
    expect(expiresAt - Date.now()).toBeGreaterThan(5_000);
    expect(expiresAt - Date.now()).toBeLessThan(11_000);
    expect(tk.upload.expiresAt).toBe(tk.expiresAt); // the upload deadline never passes the expiry
    const keys = dropKeys(tk.id);
    expect(await s.store.head(expiryIndexKey(tk.id, new Date(expiresAt)))).toBeDefined();

    expect((await fetch(tk.parts[0]!.url, { method: 'PUT', body: bytes, headers: tk.parts[0]!.headers ?? {} })).status).toBe(200);
    expect((await api(s.base, 'POST', `/v1/drops/${tk.id}/complete`, {}, { 'x-owner-token': tk.ownerToken })).status).toBe(200);
    await eventually(async () => (await api<{ status: string }>(s.base, 'GET', `/v1/drops/${tk.id}`)).body.status === 'ready');

    // The worker tagged the original; the lifecycle rule of its class matches it.
    expect(await s.store.getTags(keys.original)).toEqual({ 'dropship-retention': 'd1' });
    const head = await s.aws.s3.send(new HeadObjectCommand({ Bucket: env.DROPSHIP_BUCKET, Key: keys.original }));
    expect(head.Expiration).toMatch(/rule-id="dropship-retention-d1"/);

    const dl = await api(s.base, 'GET', `/d/${tk.id}/download`);
    expect(dl.status).toBe(302);
    const url = dl.headers.get('location')!;
    // DROPSHIP_DOWNLOAD_URL_TTL is 300 s; the URL lives only until the drop expires.
    expect(Number(new URL(url).searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(Math.ceil((expiresAt - Date.now()) / 1000));
    expect(await (await fetch(url)).text()).toBe(bytes.toString());

    await new Promise((r) => setTimeout(r, expiresAt - Date.now() + 1000));
    expect((await fetch(url)).status).toBe(403);
    const view = await api<{ status: string }>(s.base, 'GET', `/v1/drops/${tk.id}`);
    // Either still there and expired, or already swept.
    if (view.status === 200) expect(view.body.status).toBe('expired');
    else expect(view.status).toBe(404);
    const again = await api<{ error: { code: string } }>(s.base, 'GET', `/d/${tk.id}/download`);
    expect([410, 404]).toContain(again.status);

    // The sweep deletes the file, thumbnails, manifest and marker within its interval.
    await eventually(async () => (await s.store.listKeys(keys.prefix)).length === 0, 10_000, 250);
    expect(await s.store.listKeys(`index/expiry/`)).not.toContainEqual(expect.stringContaining(tk.id));
    expect((await api(s.base, 'GET', `/v1/drops/${tk.id}`)).status).toBe(404);
  }, 60_000);

  it('provisioning sets the retention classes and an abort rule that waits for the upload deadline', async () => {
    const r = await s.aws.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: env.DROPSHIP_BUCKET }));
    const rules = r.Rules ?? [];
    const abort = rules.find((x) => x.ID === 'dropship-abort-incomplete-multipart');
    expect(abort?.AbortIncompleteMultipartUpload?.DaysAfterInitiation).toBe(Math.ceil(s.config.DROPSHIP_TICKET_TTL / 86_400));
    const d7 = rules.find((x) => x.ID === 'dropship-retention-d7');
    expect(d7).toMatchObject({ Status: 'Enabled', Expiration: { Days: 7 }, Filter: { Tag: { Key: 'dropship-retention', Value: 'd7' } } });
    expect(rules.filter((x) => x.ID?.startsWith('dropship-retention-'))).toHaveLength(13);
  });
});
