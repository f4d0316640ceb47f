/**
 * The client SDK against a real api and the emulator: every size round-trips byte for byte,
 * parts go in parallel, transient failures are retried, uploads resume, abort cleans up on
 * the server, and expired part URLs are signed again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DropshipApiError, DropshipClient, DropshipTransferError, isAbortError, type Ticket, type UploadProgress } from '../../src/client/index.js';
import { fileSource } from '../../src/client/node.js';
import { dropKeys } from '../../src/core/layout.js';
import { MIB } from '../../src/core/parts.js';
import { download, sha256, startApi, type TestApi } from '../support/app.js';
import { bytesSource, recordingFetch } from '../support/client.js';

let t: TestApi; // default plan: small files are one PUT
let multi: TestApi; // everything multipart (8 MiB parts)
let dir: string;

beforeAll(async () => {
  [t, multi] = await Promise.all([startApi(), startApi({ DROPSHIP_SINGLE_PUT_MAX: '0' })]);
  dir = await mkdtemp(join(tmpdir(), 'dropship-client-'));
});
afterAll(async () => {
  await t?.close();
  await multi?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const fastRetries = { random: () => 0 };

async function expectSameBytes(s: TestApi, id: string, data: Uint8Array) {
  const got = await download(s.base, id);
  expect(got.status).toBe(200);
  expect(sha256(got.data!)).toBe(sha256(data));
}

describe('upload round-trips byte for byte', () => {
  const cases: [string, () => TestApi, number][] = [
    ['0 B single PUT', () => t, 0],
    ['1 B single PUT', () => t, 1],
    ['1 B multipart', () => multi, 1],
    ['8 MiB + 1 multipart (2 parts)', () => multi, 8 * MIB + 1],
    ['17 MiB + 5 multipart (4 parts)', () => multi, 17 * MIB + 5],
  ];
  it.each(cases)('%s', async (_label, which, size) => {
    const s = which();
    const data = randomBytes(size);
    const client = new DropshipClient({ baseUrl: s.base });
    let ticket: Ticket | undefined;
    let progressBeforeTicket = false;
    const seen: UploadProgress[] = [];
    const view = await client.upload(bytesSource(data, 'räksmörgås.bin'), {
      onTicket: (tk) => (ticket = tk),
      onProgress: (p) => {
        if (!ticket) progressBeforeTicket = true;
        seen.push(p);
      },
    });
    expect(ticket?.shareUrl).toBe(`${s.base}/d/${view.id}`);
    expect(progressBeforeTicket).toBe(false);
    expect(view).toMatchObject({ id: ticket!.id, status: 'processing', size, name: 'räksmörgås.bin' });
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ bytesSent: size, bytesTotal: size, partsDone: ticket!.upload.partCount });
    await expectSameBytes(s, view.id, data);
  });

  it('uploads a file from disk through fileSource', async () => {
    const data = randomBytes(9 * MIB);
    const path = join(dir, 'disk.bin');
    await writeFile(path, data);
    const view = await new DropshipClient({ baseUrl: multi.base }).upload(await fileSource(path));
    expect(view).toMatchObject({ name: 'disk.bin', size: data.length });
    await expectSameBytes(multi, view.id, data);
  });
});

describe('parallelism and retries', () => {
  it('sends parts in parallel, never more than `concurrency` at once', async () => {
    const data = randomBytes(64 * MIB + 3); // 9 parts of 8 MiB
    // Holding each PUT briefly makes the overlap certain rather than a race.
    const rec = recordingFetch(() => new Promise((r) => setTimeout(() => r(undefined), 50)));
    const client = new DropshipClient({ baseUrl: multi.base, fetch: rec.fetch });
    const view = await client.upload(bytesSource(data), { concurrency: 3 });
    expect(rec.maxInFlight).toBeGreaterThan(1);
    expect(rec.maxInFlight).toBeLessThanOrEqual(3);
    expect(rec.puts.map((p) => p.partNumber).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await expectSameBytes(multi, view.id, data);
  });

  it('retries parts after network errors and 5xx answers', async () => {
    const data = randomBytes(17 * MIB + 5);
    const rec = recordingFetch(({ partNumber, attempt }) => {
      if (partNumber === 1 && attempt === 1) throw new TypeError('fetch failed');
      if (partNumber === 3 && attempt <= 2) return new Response('<Error><Code>InternalError</Code></Error>', { status: 500 });
      return undefined;
    });
    const view = await new DropshipClient({ baseUrl: multi.base, fetch: rec.fetch }).upload(bytesSource(data), fastRetries);
    expect(rec.attempts.get(1)).toBe(2);
    expect(rec.attempts.get(2)).toBe(1);
    expect(rec.attempts.get(3)).toBe(3);
    await expectSameBytes(multi, view.id, data);
  });

  it('does not retry a 400 from S3 and reports which part failed', async () => {
    const data = randomBytes(9 * MIB);
    const rec = recordingFetch(({ partNumber }) =>
      partNumber === 2 ? new Response('<Error><Code>BadDigest</Code></Error>', { status: 400 }) : undefined,
    );
    const err = await new DropshipClient({ baseUrl: multi.base, fetch: rec.fetch })
      .upload(bytesSource(data), fastRetries)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DropshipTransferError);
    expect(err).toMatchObject({ partNumber: 2, status: 400 });
    expect(rec.attempts.get(2)).toBe(1);
  });

  it('gives up after `retries` and says so', async () => {
    const data = randomBytes(3);
    const rec = recordingFetch(() => {
      throw new TypeError('fetch failed');
    });
    const err = await new DropshipClient({ baseUrl: t.base, fetch: rec.fetch })
      .upload(bytesSource(data), { ...fastRetries, retries: 2 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DropshipTransferError);
    expect(rec.attempts.get(1)).toBe(3);
  });
});

describe('resume and abort', () => {
  it('resumes an interrupted upload, sending only the missing parts', async () => {
    const data = randomBytes(17 * MIB + 5); // 4 parts of 5 MiB (the last 2 MiB + 5)
    const ctrl = new AbortController();
    let ticket: Ticket | undefined;
    const first = new DropshipClient({ baseUrl: multi.base });
    const err = await first
      .upload(bytesSource(data), {
        concurrency: 1,
        deleteOnAbort: false,
        signal: ctrl.signal,
        onTicket: (tk) => (ticket = tk),
        onProgress: (p) => p.partsDone >= 1 && ctrl.abort(),
      })
      .catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    expect((await first.status(ticket!.id)).status).toBe('uploading');

    const rec = recordingFetch();
    let last: UploadProgress | undefined;
    const view = await new DropshipClient({ baseUrl: multi.base, fetch: rec.fetch }).upload(bytesSource(data), {
      resume: { id: ticket!.id, ownerToken: ticket!.ownerToken },
      onProgress: (p) => (last = p),
    });
    expect(view.id).toBe(ticket!.id);
    expect(rec.puts.map((p) => p.partNumber)).not.toContain(1);
    expect(rec.bytesPut()).toBeLessThan(data.length);
    expect(last).toMatchObject({ bytesSent: data.length, bytesResumed: 5 * MIB });
    expect(last!.bytesTransferred).toBe(rec.bytesPut());
    await expectSameBytes(multi, view.id, data);
  });

  it('resuming a drop that already completed sends nothing and returns it', async () => {
    const data = randomBytes(10);
    const client = new DropshipClient({ baseUrl: t.base });
    let ticket: Ticket | undefined;
    await client.upload(bytesSource(data), { onTicket: (tk) => (ticket = tk) });
    const rec = recordingFetch();
    const again = await new DropshipClient({ baseUrl: t.base, fetch: rec.fetch }).upload(bytesSource(data), {
      resume: { id: ticket!.id, ownerToken: ticket!.ownerToken },
    });
    expect(again).toMatchObject({ id: ticket!.id, status: 'processing' });
    expect(rec.puts).toHaveLength(0);
  });

  it('abort stops the upload and deletes the drop: no multipart upload is left in S3', async () => {
    const data = randomBytes(25 * MIB); // 4 parts
    const ctrl = new AbortController();
    let ticket: Ticket | undefined;
    const client = new DropshipClient({ baseUrl: multi.base });
    const err = await client
      .upload(bytesSource(data), {
        concurrency: 1,
        signal: ctrl.signal,
        onTicket: (tk) => (ticket = tk),
        onProgress: (p) => p.partsDone >= 1 && ctrl.abort(),
      })
      .catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    expect(await multi.store.listMultipartUploads(dropKeys(ticket!.id).prefix)).toEqual([]);
    expect((await client.status(ticket!.id)).status).toBe('cancelled');
  });
});

describe('expired part URLs', () => {
  let short: TestApi;
  beforeAll(async () => {
    short = await startApi({ DROPSHIP_PART_URL_TTL: '10', DROPSHIP_SINGLE_PUT_MAX: '0' });
  });
  afterAll(async () => short?.close());

  it('signs a part again when S3 refuses its URL as expired', async () => {
    const data = randomBytes(9 * MIB); // 2 parts
    let s3Said = 0;
    // The first PUT of part 1 is held past its URL's lifetime and then really sent, so S3 itself refuses it.
    const rec = recordingFetch(async ({ partNumber, attempt, url }) => {
      if (partNumber !== 1 || attempt !== 1) return undefined;
      await new Promise((r) => setTimeout(r, 11_000));
      const res = await fetch(url, { method: 'PUT', body: new Uint8Array(8 * MIB) });
      s3Said = res.status;
      return res;
    });
    const view = await new DropshipClient({ baseUrl: short.base, fetch: rec.fetch }).upload(bytesSource(data), fastRetries);
    expect(s3Said).toBe(403);
    expect(rec.attempts.get(1)).toBe(2);
    expect(rec.apiCalls.filter((c) => c.method === 'POST' && c.url.endsWith('/parts')).length).toBeGreaterThanOrEqual(1);
    await expectSameBytes(short, view.id, data);
  }, 60_000);
});

describe('api errors', () => {
  it('turns error answers into DropshipApiError with the stable code', async () => {
    const client = new DropshipClient({ baseUrl: t.base });
    const err = await client.status('AAAAAAAAAAAAAAAAAAAAAA').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DropshipApiError);
    expect(err).toMatchObject({ status: 404, code: 'DROP_NOT_FOUND' });
  });

  it('refuses a wrong owner token', async () => {
    const client = new DropshipClient({ baseUrl: t.base });
    const tk = await client.createDrop({ name: 'x.bin', size: 1 });
    const err = await client.deleteDrop(tk.id, 'not-the-token').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403, code: 'OWNER_TOKEN_INVALID' });
    await client.deleteDrop(tk.id, tk.ownerToken);
  });

  it('waitUntil returns once the drop reaches a terminal status', async () => {
    const client = new DropshipClient({ baseUrl: t.base });
    const tk = await client.createDrop({ name: 'x.bin', size: 1 });
    await client.deleteDrop(tk.id, tk.ownerToken);
    expect((await client.waitUntil(tk.id, { timeoutMs: 5_000 })).status).toBe('cancelled');
  });
});
