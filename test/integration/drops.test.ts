/**
 * The drops API end to end against the emulator: tickets, parallel parts straight to S3,
 * completion checks, resume, cancellation, idempotence, auth and input validation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { UploadPartCommand } from '@aws-sdk/client-s3';
import { dropKeys } from '../../src/core/layout.js';
import { MIB } from '../../src/core/parts.js';
import {
  api,
  createTicket,
  download,
  putPart,
  sha256,
  startApi,
  uploadViaTickets,
  type TestApi,
  type Ticket,
} from '../support/app.js';

let t: TestApi;
let multi: TestApi; // everything multipart: no single-PUT shortcut

beforeAll(async () => {
  t = await startApi();
  multi = await startApi({ DROPSHIP_SINGLE_PUT_MAX: '0' });
});
afterAll(async () => {
  await t?.close();
  await multi?.close();
});

const owner = (tk: Ticket) => ({ 'x-owner-token': tk.ownerToken });
/** The ticket carries the first DROPSHIP_TICKET_PARTS URLs (default 16); the rest are signed on demand. */
const s16 = (tk: Ticket) => Math.min(16, tk.upload.partCount);

async function leftovers(s: TestApi, id: string) {
  const uploads = await s.store.listMultipartUploads(dropKeys(id).prefix);
  const objects = await s.store.listKeys(dropKeys(id).prefix);
  return { uploads, objects };
}

describe('uploads of every size round-trip byte for byte', () => {
  const sizes = [0, 1, 5 * MIB - 1, 5 * MIB, 5 * MIB + 1, 17 * MIB + 5];
  for (const [label, which] of [
    ['default plan', () => t],
    ['all multipart', () => multi],
  ] as const) {
    it.each(sizes)(`%i bytes (${label})`, async (size) => {
      const s = which();
      const data = randomBytes(size);
      const { ticket, complete } = await uploadViaTickets(s.base, data, { name: 'räksmörgås "q".bin' });
      expect(complete.status).toBe(200);
      expect(complete.body).toMatchObject({ id: ticket.id, status: 'processing', size });
      const got = await download(s.base, ticket.id);
      expect(got.status).toBe(200);
      expect(sha256(got.data!)).toBe(sha256(data));
      expect(got.location).toContain('response-content-disposition');
      expect(decodeURIComponent(got.location!)).toContain("filename*=UTF-8''r%C3%A4ksm%C3%B6rg%C3%A5s%20%22q%22.bin");
    });
  }

  it('64 MiB + 3 in 9 parts sent in parallel and in reverse order', async () => {
    const data = randomBytes(64 * MIB + 3);
    const { ticket, complete } = await uploadViaTickets(t.base, data, { order: (n) => [...n].reverse(), concurrency: 6 });
    expect(ticket.upload).toMatchObject({ mode: 'multipart', partCount: 9 });
    expect(ticket.parts.at(-1)!.size).toBe(3);
    expect(complete.status).toBe(200);
    const got = await download(t.base, ticket.id);
    expect(sha256(got.data!)).toBe(sha256(data));
  }, 120_000);
});

describe('S3 enforces the signed sizes and complete checks the plan', () => {
  it('refuses a part PUT whose length differs from the signed one', async () => {
    const tk = await createTicket(multi.base, { name: 'a.bin', size: 9 * MIB });
    const r = await putPart(tk.parts[0]!.url, randomBytes(tk.parts[0]!.size - 1));
    expect(r.status).toBe(403);
  });

  it('answers 409 PART_MISSING, PART_UNEXPECTED, PART_ETAG_MISMATCH and publishes nothing', async () => {
    const data = randomBytes(12 * MIB); // 5 + 5 + 2 MiB
    const tk = await createTicket(multi.base, { name: 'b.bin', size: data.length });
    expect(tk.upload.partCount).toBe(3);
    const p1 = await putPart(tk.parts[0]!.url, data.subarray(0, tk.upload.partSize));
    const complete = (body: unknown) => api(multi.base, 'POST', `/v1/drops/${tk.id}/complete`, body, owner(tk));

    const missing = await complete({});
    expect(missing.status).toBe(409);
    expect(missing.body).toMatchObject({ error: { code: 'PART_MISSING', details: { missing: [2, 3] } } });

    const p2 = await putPart(tk.parts[1]!.url, data.subarray(tk.upload.partSize, 2 * tk.upload.partSize));
    const p3 = await putPart(tk.parts[2]!.url, data.subarray(2 * tk.upload.partSize));
    const extra = await complete({
      parts: [
        { partNumber: 1, etag: p1.etag },
        { partNumber: 2, etag: p2.etag },
        { partNumber: 3, etag: p3.etag },
        { partNumber: 4, etag: p3.etag },
      ],
    });
    expect(extra.status).toBe(409);
    expect(extra.body).toMatchObject({ error: { code: 'PART_UNEXPECTED' } });

    const wrongEtag = await complete({
      parts: [
        { partNumber: 1, etag: p2.etag },
        { partNumber: 2, etag: p2.etag },
        { partNumber: 3, etag: p3.etag },
      ],
    });
    expect(wrongEtag.status).toBe(409);
    expect(wrongEtag.body).toMatchObject({ error: { code: 'PART_ETAG_MISMATCH' } });

    expect(await multi.store.head(dropKeys(tk.id).original)).toBeUndefined();
    expect((await api(multi.base, 'GET', `/v1/drops/${tk.id}`)).body).toMatchObject({ status: 'uploading' });
    expect((await download(multi.base, tk.id)).status).toBe(409);
  });

  it('answers 409 PART_SIZE_MISMATCH for a part of the wrong size put behind its back', async () => {
    const tk = await createTicket(multi.base, { name: 'c.bin', size: 12 * MIB });
    const m = (await multi.manifests.get(tk.id))!.manifest;
    // Only someone holding bucket credentials can do this: our URLs sign the exact length.
    await multi.aws.s3.send(
      new UploadPartCommand({
        Bucket: multi.config.DROPSHIP_BUCKET,
        Key: dropKeys(tk.id).original,
        UploadId: m.upload.uploadId,
        PartNumber: 1,
        Body: randomBytes(6 * MIB),
      }),
    );
    for (const p of tk.parts.slice(1)) await putPart(p.url, randomBytes(p.size));
    const r = await api(multi.base, 'POST', `/v1/drops/${tk.id}/complete`, {}, owner(tk));
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ error: { code: 'PART_SIZE_MISMATCH' } });
    expect(await multi.store.head(dropKeys(tk.id).original)).toBeUndefined();
  });
});

describe('resume', () => {
  it('lists exactly the parts already uploaded, then finishes', async () => {
    const data = randomBytes(30 * MIB);
    const tk = await createTicket(multi.base, { name: 'r.bin', size: data.length });
    const slice = (n: number) => data.subarray((n - 1) * tk.upload.partSize, n * tk.upload.partSize);
    await putPart(tk.parts[0]!.url, slice(1));
    await putPart(tk.parts[2]!.url, slice(3));
    const listed = await api<{ parts: { partNumber: number; size: number }[] }>(
      multi.base, 'GET', `/v1/drops/${tk.id}/parts`, undefined, owner(tk));
    expect(listed.status).toBe(200);
    expect(listed.body.parts.map((p) => p.partNumber)).toEqual([1, 3]);
    // A resuming client asks for fresh URLs for what is missing.
    const fresh = await api<{ parts: Ticket['parts'] }>(multi.base, 'POST', `/v1/drops/${tk.id}/parts`, { partNumbers: [2, 4, 5, 6] }, owner(tk));
    expect(fresh.status).toBe(200);
    for (const p of fresh.body.parts) expect((await putPart(p.url, slice(p.partNumber))).status).toBe(200);
    const done = await api(multi.base, 'POST', `/v1/drops/${tk.id}/complete`, undefined, owner(tk));
    expect(done.status).toBe(200);
    expect(sha256((await download(multi.base, tk.id)).data!)).toBe(sha256(data));
  });
});

describe('abort and delete', () => {
  it('abort leaves no multipart upload and no file; a second DELETE is fine', async () => {
    const tk = await createTicket(multi.base, { name: 'x.bin', size: 20 * MIB });
    await putPart(tk.parts[0]!.url, randomBytes(tk.parts[0]!.size));
    const del = await api(multi.base, 'DELETE', `/v1/drops/${tk.id}`, undefined, owner(tk));
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ status: 'cancelled' });
    expect(await leftovers(multi, tk.id)).toEqual({ uploads: [], objects: [dropKeys(tk.id).manifest] });
    expect((await api(multi.base, 'DELETE', `/v1/drops/${tk.id}`, undefined, owner(tk))).status).toBe(200);
    const late = await api(multi.base, 'POST', `/v1/drops/${tk.id}/complete`, undefined, owner(tk));
    expect(late.status).toBe(409);
    expect((await api(multi.base, 'GET', `/v1/drops/${tk.id}`)).body).toMatchObject({ status: 'cancelled' });
  });

  it('delete after completion removes the file; downloads stop', async () => {
    const { ticket } = await uploadViaTickets(t.base, randomBytes(1000));
    expect((await download(t.base, ticket.id)).status).toBe(200);
    expect((await api(t.base, 'DELETE', `/v1/drops/${ticket.id}`, undefined, owner(ticket))).status).toBe(200);
    expect(await leftovers(t, ticket.id)).toEqual({ uploads: [], objects: [dropKeys(ticket.id).manifest] });
    expect((await download(t.base, ticket.id)).status).toBe(410);
  });
});

describe('idempotence and races', () => {
  it('complete twice returns the same drop', async () => {
    const { ticket, complete } = await uploadViaTickets(multi.base, randomBytes(6 * MIB));
    const again = await api(multi.base, 'POST', `/v1/drops/${ticket.id}/complete`, undefined, owner(ticket));
    expect(again.status).toBe(200);
    expect(again.body).toEqual(complete.body);
  });

  it('complete racing the worker ends consistent: ready, with completedAt, nothing lost', async () => {
    const data = randomBytes(5 * MIB); // one part
    const tk = await createTicket(multi.base, { name: 'race.bin', size: data.length });
    await putPart(tk.parts[0]!.url, data);
    const worker = multi.manifests.applyEvent(tk.id, {
      type: 'processed', at: new Date(), sniffedType: 'application/octet-stream', thumbnail: 'none', thumbnails: [],
    });
    const [c] = await Promise.all([api(multi.base, 'POST', `/v1/drops/${tk.id}/complete`, undefined, owner(tk)), worker]);
    expect(c.status).toBe(200);
    const m = (await multi.manifests.get(tk.id))!.manifest;
    expect(m.status).toBe('ready');
    expect(m.completedAt).toBeDefined();
    expect(m.thumbnail).toBe('none');
  });

  it('a retry after the upload was completed in S3 but the answer was lost succeeds', async () => {
    const data = randomBytes(5 * MIB); // one part
    const tk = await createTicket(multi.base, { name: 'lost.bin', size: data.length });
    const p = await putPart(tk.parts[0]!.url, data);
    const m = (await multi.manifests.get(tk.id))!.manifest;
    await multi.store.completeMultipart(dropKeys(tk.id).original, m.upload.uploadId!, [{ partNumber: 1, etag: p.etag }]);
    const r = await api(multi.base, 'POST', `/v1/drops/${tk.id}/complete`, undefined, owner(tk));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'processing' });
  });
});

describe('expiry', () => {
  it('an upload past its ticket TTL reads expired and its multipart upload is aborted', async () => {
    const tk = await createTicket(multi.base, { name: 'old.bin', size: 10 * MIB });
    await multi.manifests.rewrite(tk.id, (m) => ({ ...m, expiresAt: new Date(Date.now() - 1000).toISOString() }));
    const s = await api(multi.base, 'GET', `/v1/drops/${tk.id}`);
    expect(s.body).toMatchObject({ status: 'expired' });
    expect((await leftovers(multi, tk.id)).uploads).toEqual([]);
    const sign = await api(multi.base, 'POST', `/v1/drops/${tk.id}/parts`, { partNumbers: [1] }, owner(tk));
    expect(sign.status).toBe(410);
    expect(sign.body).toMatchObject({ error: { code: 'DROP_EXPIRED' } });
  });
});

describe('authorization', () => {
  it('missing or wrong owner token: 401/403 and nothing changes', async () => {
    const tk = await createTicket(t.base, { name: 'mine.bin', size: 10 });
    const other = await createTicket(t.base, { name: 'theirs.bin', size: 10 });
    for (const [headers, status, code] of [
      [{}, 401, 'UNAUTHORIZED'],
      [{ 'x-owner-token': 'nope' }, 403, 'OWNER_TOKEN_INVALID'],
      [owner(other), 403, 'OWNER_TOKEN_INVALID'],
    ] as const) {
      for (const [method, path, body] of [
        ['POST', `/v1/drops/${tk.id}/parts`, { partNumbers: [1] }],
        ['GET', `/v1/drops/${tk.id}/parts`, undefined],
        ['POST', `/v1/drops/${tk.id}/complete`, {}],
        ['DELETE', `/v1/drops/${tk.id}`, undefined],
      ] as const) {
        const r = await api(t.base, method, path, body, headers);
        expect([r.status, (r.body as { error: { code: string } }).error.code], `${method} ${path}`).toEqual([status, code]);
      }
    }
    expect((await api(t.base, 'GET', `/v1/drops/${tk.id}`)).body).toMatchObject({ status: 'uploading' });
  });

  it('unknown and malformed ids are both 404 (ids are not enumerable)', async () => {
    for (const id of ['AAAAAAAAAAAAAAAAAAAAA', 'x', '..%2F..%2Fetc', 'a'.repeat(64)]) {
      const r = await api(t.base, 'GET', `/v1/drops/${id}`);
      expect(r.status, id).toBe(404);
      expect(r.body).toMatchObject({ error: { code: 'DROP_NOT_FOUND' } });
    }
    const a = await createTicket(t.base, { name: 'a', size: 1 });
    const b = await createTicket(t.base, { name: 'b', size: 1 });
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(a.id.slice(0, 10)).not.toBe(b.id.slice(0, 10));
  });

  it('with API keys configured and public uploads off, tickets need a known key', async () => {
    const s = await startApi({ DROPSHIP_PUBLIC_UPLOADS: 'false', DROPSHIP_API_KEYS: 'k-one,k-two' });
    try {
      const body = { name: 'k.bin', size: 1 };
      expect((await api(s.base, 'POST', '/v1/drops', body)).status).toBe(401);
      expect((await api(s.base, 'POST', '/v1/drops', body, { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await api(s.base, 'POST', '/v1/drops', body, { authorization: 'Bearer k-two' })).status).toBe(201);
    } finally {
      await s.close();
    }
  });
});

describe('bad input: 400 with a code, nothing created', () => {
  const cases: [string, unknown, string][] = [
    ['negative size', { name: 'a', size: -1 }, 'SIZE_INVALID'],
    ['huge size', { name: 'a', size: 6 * 1024 ** 4 }, 'SIZE_INVALID'],
    ['fractional size', { name: 'a', size: 1.5 }, 'SIZE_INVALID'],
    ['size as string', { name: 'a', size: '10' }, 'SIZE_INVALID'],
    ['missing size', { name: 'a' }, 'SIZE_INVALID'],
    ['empty name', { name: '', size: 1 }, 'NAME_INVALID'],
    ['blank name', { name: '   ', size: 1 }, 'NAME_INVALID'],
    ['10 KB name', { name: 'x'.repeat(10_000), size: 1 }, 'NAME_INVALID'],
    ['300-byte name', { name: 'é'.repeat(150), size: 1 }, 'NAME_INVALID'],
    ['control characters', { name: 'a\u0007b', size: 1 }, 'NAME_INVALID'],
    ['path traversal', { name: '../../etc/passwd', size: 1 }, 'NAME_INVALID'],
    ['backslash path', { name: '..\\boot.ini', size: 1 }, 'NAME_INVALID'],
    ['unknown field', { name: 'a', size: 1, owner: 'me' }, 'VALIDATION_FAILED'],
    ['wrong type for name', { name: 42, size: 1 }, 'NAME_INVALID'],
    ['bad sha256', { name: 'a', size: 1, sha256: 'abc' }, 'VALIDATION_FAILED'],
    ['not an object', [1, 2], 'VALIDATION_FAILED'],
  ];
  it.each(cases)('%s', async (_label, body, code) => {
    const r = await api(t.base, 'POST', '/v1/drops', body);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ error: { code } });
  });

  it('a complete call listing 10,000 parts fits the body limit', async () => {
    const tk = await createTicket(t.base, { name: 'many.bin', size: 100 * 1024 ** 3 });
    const parts = Array.from({ length: 10_000 }, (_, i) => ({ partNumber: i + 1, etag: `"${'0'.repeat(32)}"` }));
    const r = await api(t.base, 'POST', `/v1/drops/${tk.id}/complete`, { parts }, owner(tk));
    // Read and checked (nothing is uploaded), not refused for its size.
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ error: { code: 'PART_MISSING' } });
    await api(t.base, 'DELETE', `/v1/drops/${tk.id}`, undefined, owner(tk));
  });

  it('malformed JSON and bad part numbers are 400 too', async () => {
    expect((await api(t.base, 'POST', '/v1/drops', '{"name":')).status).toBe(400);
    const tk = await createTicket(multi.base, { name: 'p.bin', size: 20 * MIB });
    for (const partNumbers of [[0], [5], [1, 1], [], ['1']]) {
      const r = await api(multi.base, 'POST', `/v1/drops/${tk.id}/parts`, { partNumbers }, owner(tk));
      expect(r.status, JSON.stringify(partNumbers)).toBe(400);
    }
  });
});

describe('limits', () => {
  it('a file over the configured maximum is refused at ticket time with 413', async () => {
    const s = await startApi({ DROPSHIP_MAX_FILE_SIZE: String(10 * MIB) });
    try {
      const r = await api(s.base, 'POST', '/v1/drops', { name: 'big', size: 10 * MIB + 1 });
      expect(r.status).toBe(413);
      expect(r.body).toMatchObject({ error: { code: 'FILE_TOO_LARGE' } });
    } finally {
      await s.close();
    }
  });

  it('open tickets per uploader (429) and upload slots (503 + Retry-After)', async () => {
    const s = await startApi({ DROPSHIP_MAX_OPEN_TICKETS: '2', DROPSHIP_UPLOAD_SLOTS: '3' });
    try {
      const a = await createTicket(s.base, { name: 'a', size: 1 });
      await createTicket(s.base, { name: 'b', size: 1 });
      const third = await api(s.base, 'POST', '/v1/drops', { name: 'c', size: 1 });
      expect(third.status).toBe(429);
      expect(third.body).toMatchObject({ error: { code: 'TOO_MANY_OPEN_TICKETS' } });
      // Finishing one frees its slot.
      await putPart(a.parts[0]!.url, randomBytes(1));
      expect((await api(s.base, 'POST', `/v1/drops/${a.id}/complete`, undefined, owner(a))).status).toBe(200);
      expect((await api(s.base, 'POST', '/v1/drops', { name: 'c', size: 1 })).status).toBe(201);
    } finally {
      await s.close();
    }
    const slots = await startApi({ DROPSHIP_UPLOAD_SLOTS: '1' });
    try {
      await createTicket(slots.base, { name: 'a', size: 1 });
      const r = await api(slots.base, 'POST', '/v1/drops', { name: 'b', size: 1 });
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ error: { code: 'UPLOAD_SLOTS_FULL' } });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await slots.close();
    }
  });

  it('rate limit answers 429 with Retry-After', async () => {
    const s = await startApi({ DROPSHIP_RATE_LIMIT: '3' });
    try {
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push(await api(s.base, 'GET', '/v1/drops/AAAAAAAAAAAAAAAAAAAAA'));
      expect(codes.map((c) => c.status)).toEqual([404, 404, 404, 429, 429]);
      expect(codes[3]!.body).toMatchObject({ error: { code: 'RATE_LIMITED' } });
      expect(Number(codes[3]!.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  });

  it('a 2 GiB ticket is plan and URLs only: no memory proportional to the size', async () => {
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    const tk = await createTicket(t.base, { name: 'huge.iso', size: 2 * 1024 ** 3 });
    const after = process.memoryUsage().heapUsed;
    expect(tk.upload.partCount).toBe(256);
    expect(tk.parts).toHaveLength(s16(tk));
    expect(after - before).toBeLessThan(64 * MIB);
    await api(t.base, 'DELETE', `/v1/drops/${tk.id}`, undefined, owner(tk));
  });
});

describe('errors and docs', () => {
  it('5xx never leak internals', async () => {
    const s = await startApi({ DROPSHIP_BUCKET: 'no-such-bucket-here' });
    try {
      const r = await api(s.base, 'POST', '/v1/drops', { name: 'a', size: 10 * MIB * 3 });
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    } finally {
      await s.close();
    }
  });

  it('storage that cannot be reached is a 503 with Retry-After, not a 500', async () => {
    const s = await startApi({ AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
    try {
      const r = await api(s.base, 'POST', '/v1/drops', { name: 'a', size: 30 * MIB });
      expect(r.status).toBe(503);
      expect(r.body).toEqual({ error: { code: 'STORAGE_UNAVAILABLE', message: 'storage is unavailable; retry shortly' } });
      expect(r.headers.get('retry-after')).toBe('5');
    } finally {
      await s.close();
    }
  });

  it('publishes OpenAPI at /openapi.json and a UI at /docs', async () => {
    const r = await api<{ openapi: string; paths: Record<string, unknown> }>(t.base, 'GET', '/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toMatch(/^3\./);
    for (const p of ['/v1/drops', '/v1/drops/{id}/parts', '/v1/drops/{id}/complete', '/v1/drops/{id}', '/d/{id}/download']) {
      expect(r.body.paths, p).toHaveProperty([p]);
    }
    const docs = await fetch(`${t.base}/docs/`, { redirect: 'follow' });
    expect(docs.status).toBe(200);
  });

  it('exposes Prometheus metrics labelled by route pattern, never by id', async () => {
    await api(t.base, 'GET', '/v1/drops/AAAAAAAAAAAAAAAAAAAAA');
    const r = await fetch(`${t.base}/metrics`);
    const text = await r.text();
    expect(r.status).toBe(200);
    expect(text).toMatch(/dropship_http_request_duration_seconds_count\{[^}]*route="\/v1\/drops\/:id"[^}]*status="404"/);
    expect(text).not.toContain('AAAAAAAAAAAAAAAAAAAAA');
    expect(text).toMatch(/dropship_stream_uploads_active 0/);
  });

  it('status events stream until the drop is done', async () => {
    const tk = await createTicket(t.base, { name: 'sse.bin', size: 3 });
    const res = await fetch(`${t.base}/v1/drops/${tk.id}/events`);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toMatch(/event: status\ndata: .*"status":"uploading"/);
    await putPart(tk.parts[0]!.url, randomBytes(3));
    await api(t.base, 'DELETE', `/v1/drops/${tk.id}`, undefined, owner(tk));
    let rest = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(rest).toMatch(/"status":"cancelled"/);
  });
  // Regression check over real sockets (Fastify already cut the hijacked sockets on close
  // before the fix; what kept the process alive was the streams' poll loops, which
  // test/unit/routes-limits.test.ts "app.close() ends every open stream" covers).
  it('an api with open event streams closes at once (the streams end, the listener is freed)', async () => {
    const own = await startApi();
    const tk = await createTicket(own.base, { name: 'sse-close.bin', size: 3 });
    const readers = await Promise.all(
      [1, 2, 3].map(async () => {
        const res = await fetch(`${own.base}/v1/drops/${tk.id}/events`);
        const reader = res.body!.getReader();
        expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/"status":"uploading"/);
        return reader;
      }),
    );
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(3000);
    for (const r of readers) expect((await r.read().catch(() => ({ done: true }))).done).toBe(true);
  }, 30_000);
});
