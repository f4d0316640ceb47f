/**
 * Hostile input against a running api: slow clients, oversized headers and bodies, JSON
 * bombs, prototype poisoning, and forged, expired and replayed part URLs. The service
 * answers with clear 4xx codes, cuts what it must, and stays responsive throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createSigner, credentialsOf } from '../../src/aws/signer.js';
import { dropKeys } from '../../src/core/layout.js';
import { MIB } from '../../src/core/parts.js';
import { api, createTicket, download, putPart, sha256, startApi, type TestApi } from '../support/app.js';


let s: TestApi;
beforeAll(async () => {
  s = await startApi({ DROPSHIP_HEADERS_TIMEOUT_MS: '1500', DROPSHIP_BODY_TIMEOUT_MS: '1500', DROPSHIP_SINGLE_PUT_MAX: '0' });
});
afterAll(async () => s?.close());

function openSocket(): { sock: Socket; closed: Promise<number>; data: () => string } {
  const url = new URL(s.base);
  const sock = connect(Number(url.port), url.hostname);
  const started = Date.now();
  let data = '';
  sock.on('data', (d) => (data += d));
  sock.on('error', () => {});
  const closed = new Promise<number>((r) => sock.on('close', () => r(Date.now() - started)));
  return { sock, closed, data: () => data };
}

describe('slow clients (slowloris)', () => {
  it('connections trickling headers or bodies are cut; the api keeps answering meanwhile', async () => {
    const attackers = Array.from({ length: 40 }, (_, i) => {
      const c = openSocket();
      if (i % 2 === 0) {
        c.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      } else {
        c.sock.write('POST /v1/drops HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
      }
      const drip = setInterval(() => c.sock.write(i % 2 === 0 ? 'X-a: b\r\n' : ' '), 200);
      c.closed.then(() => clearInterval(drip));
      return c;
    });
    // Meanwhile a normal client is served promptly.
    for (let i = 0; i < 5; i++) {
      const r = await api(s.base, 'GET', '/healthz');
      expect(r.status).toBe(200);
    }
    const lifetimes = await Promise.all(attackers.map((a) => a.closed));
    // Cut by the server (1.5 s deadlines, checked every second), not left open.
    expect(Math.max(...lifetimes)).toBeLessThan(6000);
    expect((await api(s.base, 'GET', '/healthz')).status).toBe(200);
  }, 30_000);
});

describe('oversized and malicious requests', () => {
  it('oversized headers: 431, and the api lives on', async () => {
    const r = await fetch(`${s.base}/healthz`, { headers: { 'x-big': 'a'.repeat(64 * 1024) } }).catch((e: unknown) => e);
    if (r instanceof Response) expect(r.status).toBe(431);
    expect((await api(s.base, 'GET', '/healthz')).status).toBe(200);
  });

  it('a body over 2 MiB: 413 BODY_TOO_LARGE', async () => {
    const r = await api(s.base, 'POST', '/v1/drops', JSON.stringify({ name: 'a'.repeat(3 * MIB), size: 1 }));
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
  });

  it('JSON bombs (deep nesting, huge arrays) are refused with 400', async () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const r1 = await api(s.base, 'POST', '/v1/drops', deep);
    expect(r1.status).toBe(400);
    const wide = JSON.stringify({ name: 'a', size: 1, junk: Array.from({ length: 100_000 }, () => ({})) });
    const r2 = await api(s.base, 'POST', '/v1/drops', wide);
    expect(r2.status).toBe(400);
    expect((await api(s.base, 'GET', '/healthz')).status).toBe(200);
  });

  it('prototype poisoning is refused', async () => {
    const r = await api(s.base, 'POST', '/v1/drops', '{"name":"a","size":1,"__proto__":{"admin":true}}');
    expect(r.status).toBe(400);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('wrong content type on a JSON route: 415', async () => {
    const r = await api(s.base, 'POST', '/v1/drops', 'name=a&size=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(r.status).toBe(415);
  });
});

describe('forged, expired and replayed part URLs', () => {
  it('S3 refuses a URL whose part number, upload id or expiry was edited', async () => {
    const t = await createTicket(s.base, { name: 'f.bin', size: 20 * MIB });
    const url = t.parts[0]!.url;
    const body = randomBytes(t.parts[0]!.size);
    for (const forged of [
      url.replace('partNumber=1', 'partNumber=2'),
      url.replace(/uploadId=[^&]+/, 'uploadId=forged'),
      url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604800'),
      url.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000'),
    ]) {
      expect((await putPart(forged, body)).status, forged.slice(-80)).toBe(403);
    }
    // Another drop's key with this drop's signature.
    const other = await createTicket(s.base, { name: 'g.bin', size: 20 * MIB });
    expect((await putPart(url.replace(t.id, other.id), body)).status).toBe(403);
  });

  it('an expired URL is refused', async () => {
    const signer = createSigner({
      bucket: s.config.DROPSHIP_BUCKET,
      region: s.config.AWS_REGION,
      endpoint: s.config.AWS_ENDPOINT_URL,
      pathStyle: true,
      credentials: credentialsOf(s.aws.s3),
      s3: s.aws.s3,
    });
    const { url } = await signer.signPut({ key: dropKeys('AAAAAAAAAAAAAAAAAAAAA').original, contentLength: 3, expiresIn: 1 }, new Date());
    await new Promise((r) => setTimeout(r, 2100));
    expect((await putPart(url, randomBytes(3))).status).toBe(403);
  });

  it('a part URL replayed after completion cannot change the published file', async () => {
    const data = randomBytes(9 * MIB);
    const t = await createTicket(s.base, { name: 'r.bin', size: data.length });
    const etags = [];
    for (const p of t.parts) {
      const start = (p.partNumber - 1) * t.upload.partSize;
      etags.push({ partNumber: p.partNumber, etag: (await putPart(p.url, data.subarray(start, start + p.size))).etag });
    }
    expect((await api(s.base, 'POST', `/v1/drops/${t.id}/complete`, { parts: etags }, { 'x-owner-token': t.ownerToken })).status).toBe(200);
    const replay = await putPart(t.parts[0]!.url, randomBytes(t.parts[0]!.size));
    expect(replay.status).not.toBe(200);
    expect(sha256((await download(s.base, t.id)).data!)).toBe(sha256(data));
  });
});
