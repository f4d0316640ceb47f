/**
 * A published file never changes, and the uploader chooses none of the download's headers:
 * the api with its default configuration (notably DROPSHIP_SINGLE_PUT_MAX, so small files
 * are one create-only PUT) and an in-process worker, against S3 on the emulator.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { dropKeys } from '../../src/core/layout.js';
import type { RunningWorker } from '../../src/worker/worker.js';
import { startTestWorker } from '../support/worker.js';
import { queueUrl } from '../support/env.js';
import { emptyQueue, testLog } from '../support/drops.js';
import { api, createTicket, download, putPart, sha256, startApi, type TestApi, type Ticket } from '../support/app.js';

let s: TestApi;
let worker: RunningWorker;
beforeAll(async () => {
  s = await startApi({ DROPSHIP_WORKER_VISIBILITY_TIMEOUT: '5', DROPSHIP_WORKER_RETRY_DELAY: '0', DROPSHIP_WORKER_WAIT_TIME: '1' });
  await emptyQueue(s.aws, queueUrl());
  worker = startTestWorker({ config: s.config, queueUrl: queueUrl(), log: testLog(s.config) });
});
afterAll(async () => {
  await worker?.stop();
  await s?.close();
});

const owner = (t: Ticket) => ({ 'x-owner-token': t.ownerToken });
async function until(id: string, statuses: string[], ms = 15_000): Promise<{ status: string; failureReason?: string }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await api<{ status: string; failureReason?: string }>(s.base, 'GET', `/v1/drops/${id}`);
    if (statuses.includes(r.body.status)) return r.body;
    if (Date.now() > deadline) throw new Error(`drop ${id} still ${r.body.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A small file through the single-PUT ticket, `headers` added to the PUT; waits for ready. */
async function readyDrop(data: Buffer, name: string, extra: Record<string, string> = {}) {
  const t = await createTicket(s.base, { name, size: data.length });
  expect(t.upload.mode).toBe('single');
  const p = t.parts[0]!;
  expect(p.headers).toEqual({ 'if-none-match': '*' });
  expect((await putPart(p.url, data, { ...extra, ...p.headers })).status).toBe(200);
  expect((await api(s.base, 'POST', `/v1/drops/${t.id}/complete`, undefined, owner(t))).status).toBe(200);
  expect((await until(t.id, ['ready', 'failed'])).status).toBe('ready');
  return t;
}

describe('a ready drop\'s single-PUT URL cannot change its bytes (default DROPSHIP_SINGLE_PUT_MAX)', () => {
  it('S3 refuses the URL without its signed If-None-Match (403) and, once published, with it (412)', async () => {
    const data = randomBytes(48 * 1024);
    const t = await createTicket(s.base, { name: 'report.pdf', size: data.length });
    expect((await putPart(t.parts[0]!.url, data, {})).status).toBe(403);
    expect((await putPart(t.parts[0]!.url, data, t.parts[0]!.headers)).status).toBe(200);
    await api(s.base, 'POST', `/v1/drops/${t.id}/complete`, undefined, owner(t));
    expect((await until(t.id, ['ready', 'failed'])).status).toBe('ready');

    const evil = Buffer.alloc(data.length, '<html><script>alert(1)</script></html>');
    expect((await putPart(t.parts[0]!.url, evil, t.parts[0]!.headers)).status).toBe(412);
    expect((await putPart(t.parts[0]!.url, evil, {})).status).toBe(403);
    // No fresh URL for a drop that is no longer uploading.
    const resign = await api(s.base, 'POST', `/v1/drops/${t.id}/parts`, { partNumbers: [1] }, owner(t));
    expect(resign.status).toBe(409);
    const got = await download(s.base, t.id);
    expect(sha256(got.data!)).toBe(sha256(data));
  });

  it('bytes written under a ready drop\'s key behind dropship\'s back fail the drop and are deleted (worker)', async () => {
    const data = randomBytes(2048);
    const t = await readyDrop(data, 'notes.bin');
    const key = dropKeys(t.id).original;
    await s.aws.s3.send(new PutObjectCommand({ Bucket: s.config.DROPSHIP_BUCKET, Key: key, Body: randomBytes(2048), ContentType: 'text/html' }));
    const after = await until(t.id, ['failed']);
    expect(after.status).toBe('failed');
    expect((await download(s.base, t.id)).status).toBe(409);
    expect(await s.store.head(key)).toBeUndefined();
  });
});

describe('a replayed Uppy /s3/params form upload cannot change a drop\'s bytes', () => {
  /** Asks /s3/params for a POST policy, the way Uppy's fetch does (same-origin). */
  async function params(name: string, size: number) {
    const q = new URLSearchParams({ filename: name, type: 'text/plain', 'metadata[size]': String(size) });
    const r = await api<{ url: string; fields: Record<string, string>; key: string; id: string }>(s.base, 'GET', `/s3/params?${q}`, undefined, {
      'sec-fetch-mode': 'cors',
      'sec-fetch-dest': 'empty',
    });
    expect(r.status).toBe(200);
    return r.body;
  }
  async function post(p: { url: string; fields: Record<string, string> }, bytes: Buffer) {
    const form = new FormData();
    for (const [k, v] of Object.entries(p.fields)) form.append(k, v);
    form.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>]));
    return (await fetch(p.url, { method: 'POST', body: form })).status;
  }
  async function gone(key: string, ms = 15_000) {
    const deadline = Date.now() + ms;
    while (await s.store.head(key)) {
      if (Date.now() > deadline) throw new Error(`${key} still there`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('the policy addresses the posted key; the worker publishes the first upload; a replay after ready is removed and the download is unchanged', async () => {
    const data = Buffer.from('quarterly numbers, final version\n'.repeat(100));
    const p = await params('numbers.txt', data.length);
    expect(p.fields.key).toBe(dropKeys(p.id).posted);
    expect(await post(p, data)).toBe(204);
    expect((await until(p.id, ['ready', 'failed'])).status).toBe('ready');
    await gone(dropKeys(p.id).posted);
    expect(sha256((await download(s.base, p.id)).data!)).toBe(sha256(data));

    // The same policy, within its lifetime, with other bytes of the same length.
    const evil = Buffer.alloc(data.length, '<html><script>alert(1)</script></html>');
    expect(await post(p, evil)).toBe(204);
    await gone(dropKeys(p.id).posted);
    const after = await api<{ status: string }>(s.base, 'GET', `/v1/drops/${p.id}`);
    expect(after.body.status).toBe('ready');
    expect(sha256((await download(s.base, p.id)).data!)).toBe(sha256(data));
    expect((await s.store.head(dropKeys(p.id).original))?.size).toBe(data.length);
  });
});

describe('download responses carry no header the uploader chose', () => {
  it('a PUT with Content-Encoding gzip, Cache-Control public, Expires and Content-Language: none of them come back', async () => {
    const data = randomBytes(48 * 1024);
    const t = await readyDrop(data, 'small.bin', {
      'content-encoding': 'gzip',
      'cache-control': 'public, max-age=31536000',
      expires: 'Fri, 01 Jan 2100 00:00:00 GMT',
      'content-language': 'fr',
      'content-type': 'text/html',
    });
    const r = await fetch(`${s.base}/d/${t.id}/download`, { redirect: 'manual' });
    const f = await fetch(r.headers.get('location')!);
    const body = Buffer.from(await f.arrayBuffer());
    expect(f.status).toBe(200);
    expect(sha256(body)).toBe(sha256(data));
    expect({
      encoding: f.headers.get('content-encoding'),
      cache: f.headers.get('cache-control'),
      expires: f.headers.get('expires'),
      language: f.headers.get('content-language'),
      type: f.headers.get('content-type'),
      disposition: f.headers.get('content-disposition'),
    }).toEqual({
      encoding: 'identity',
      cache: 'private, no-store',
      expires: 'Thu, 01 Jan 1970 00:00:00 GMT',
      language: 'und',
      type: 'application/octet-stream',
      disposition: expect.stringMatching(/^attachment; filename="small\.bin"/),
    });
  });
});
