/**
 * Keys with policies, listings and metadata against S3 on the emulator: a real keys file, a
 * listening api, and the real worker. The per-key index is listed with real ListObjectsV2
 * pages (StartAfter), and a PNG-declared upload whose bytes are a PDF is failed by the worker.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destroyAwsClients } from '../../src/aws/clients.js';
import { keyIndexPrefix } from '../../src/core/key-index.js';
import { dropKeys } from '../../src/core/layout.js';
import { api, createTicket, putPart, startApi, type TestApi, type Ticket } from '../support/app.js';
import { emptyQueue, testLog } from '../support/drops.js';
import { eventually, queueUrl, testAws, testConfig } from '../support/env.js';
import { pngImage } from '../support/images.js';
import { startTestWorker } from '../support/worker.js';

const MIB = 1024 * 1024;
// Ids of this run's own, so drops of earlier runs in the same bucket are not in these listings.
const run = randomUUID().slice(0, 8);
const LISTER = { id: `lister-${run}`, key: `lister-key-${run}-0123456789` };
const OTHER = { id: `other-${run}`, key: `other-key-${run}-0123456789` };
const IMAGES = { id: `images-${run}`, key: `images-key-${run}-0123456789`, maxFileSize: MIB, allowedTypes: ['image/*'] };
const bearer = (k: { key: string }) => ({ authorization: `Bearer ${k.key}` });
const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');

const dir = mkdtempSync(join(tmpdir(), 'dropship-keys-'));
let t: TestApi;
beforeAll(async () => {
  const file = join(dir, 'keys.json');
  writeFileSync(file, JSON.stringify({ keys: [LISTER, OTHER, IMAGES] }));
  t = await startApi({
    DROPSHIP_KEYS_FILE: file,
    DROPSHIP_PUBLIC_UPLOADS: 'false',
    DROPSHIP_MAX_OPEN_TICKETS: '1000',
    DROPSHIP_RATE_LIMIT: '100000',
  });
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `n` drops of a key, `lanes` at a time. */
async function create(key: { key: string }, n: number, lanes = 8): Promise<Ticket[]> {
  const out: Ticket[] = [];
  let left = n;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (left > 0) {
        left--;
        out.push(await createTicket(t.base, { name: 'f.txt', size: 1, type: 'text/plain', metadata: { n: String(out.length) } }, bearer(key)));
      }
    }),
  );
  return out;
}

interface Listed {
  id: string;
  createdAt: string;
  metadata?: Record<string, string>;
}

async function listAll(key: { key: string }, limit = 100): Promise<{ drops: Listed[]; pages: number }> {
  const drops: Listed[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r: { status: number; body: { drops: Listed[]; nextCursor: string | null } } = await api(
      t.base,
      'GET',
      `/v1/drops?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
      undefined,
      bearer(key),
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    drops.push(...r.body.drops);
    cursor = r.body.nextCursor;
    pages++;
  } while (cursor);
  return { drops, pages };
}

describe('GET /v1/drops on S3', () => {
  it('pages through 250 drops exactly once, newest first; another key sees only its own; anonymous is 401', async () => {
    const mine = await create(LISTER, 250);
    const theirs = await create(OTHER, 5, 2);
    const { drops, pages } = await listAll(LISTER);
    expect(pages).toBe(3);
    expect(drops).toHaveLength(250);
    expect(new Set(drops.map((d) => d.id))).toEqual(new Set(mine.map((d) => d.id)));
    for (let i = 1; i < drops.length; i++) expect(Date.parse(drops[i - 1]!.createdAt)).toBeGreaterThanOrEqual(Date.parse(drops[i]!.createdAt));
    expect(drops.every((d) => d.metadata?.n !== undefined)).toBe(true);
    expect(new Set((await listAll(OTHER)).drops.map((d) => d.id))).toEqual(new Set(theirs.map((d) => d.id)));
    expect((await api(t.base, 'GET', '/v1/drops')).status).toBe(401);
    // One entry per drop under the key's own prefix.
    expect(await t.store.listKeys(keyIndexPrefix(LISTER.id))).toHaveLength(250);
  });

  it('a deleted drop leaves the listing; metadata is not for anonymous readers or the share page', async () => {
    const [keep, gone] = [await createTicket(t.base, { name: 'a', size: 1, metadata: { secret: 'S-1' } }, bearer(OTHER)), (await create(OTHER, 1))[0]!];
    expect((await api(t.base, 'DELETE', `/v1/drops/${gone.id}`, undefined, { 'x-owner-token': gone.ownerToken })).status).toBe(200);
    const ids = (await listAll(OTHER)).drops.map((d) => d.id);
    expect(ids).toContain(keep.id);
    expect(ids).not.toContain(gone.id);
    const anon = await api<Record<string, unknown>>(t.base, 'GET', `/v1/drops/${keep.id}`);
    expect(anon.status).toBe(200);
    expect(anon.body).not.toHaveProperty('metadata');
    expect((await api<Record<string, unknown>>(t.base, 'GET', `/v1/drops/${keep.id}`, undefined, bearer(OTHER))).body.metadata).toEqual({ secret: 'S-1' });
    const page = await fetch(`${t.base}/d/${keep.id}`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).not.toContain('S-1');
  });
});

describe('a key limited to image/* and 1 MiB, with the real worker', () => {
  const workerConfig = testConfig({ DROPSHIP_WORKER_VISIBILITY_TIMEOUT: '5', DROPSHIP_WORKER_RETRY_DELAY: '0', DROPSHIP_WORKER_WAIT_TIME: '1' });
  const aws = testAws(workerConfig);
  afterAll(() => destroyAwsClients(aws));

  it('is refused a 2 MiB ticket and a declared PDF', async () => {
    const big = await api<{ error: { code: string } }>(t.base, 'POST', '/v1/drops', { name: 'a.png', size: 2 * MIB, type: 'image/png' }, bearer(IMAGES));
    expect([big.status, big.body.error.code]).toEqual([413, 'FILE_TOO_LARGE']);
    const pdf = await api<{ error: { code: string } }>(t.base, 'POST', '/v1/drops', { name: 'a.pdf', size: 10, type: 'application/pdf' }, bearer(IMAGES));
    expect([pdf.status, pdf.body.error.code]).toEqual([415, 'TYPE_NOT_ALLOWED']);
    const stream = await fetch(`${t.base}/a.pdf`, { method: 'PUT', body: PDF, headers: { ...bearer(IMAGES), 'content-type': 'application/pdf' } });
    expect(stream.status).toBe(415);
  });

  it('with Expect: 100-continue (curl), the key\'s refusals replace the 100: the body is never sent', async () => {
    const { connect } = await import('node:net');
    const rawPut = (path: string, headers: Record<string, string>) => {
      const url = new URL(t.base);
      const sock = connect(Number(url.port), url.hostname);
      let response = '';
      sock.on('data', (d) => (response += d.toString('latin1')));
      sock.on('error', () => {});
      const closed = new Promise<void>((r) => sock.on('close', () => r()));
      sock.write(`PUT ${path} HTTP/1.1\r\nHost: ${url.host}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      return { sock, closed, response: () => response };
    };
    const received = t.app.streamStats().bytesReceived;
    const auth = `Bearer ${IMAGES.key}`;
    for (const [headers, status, code] of [
      [{ 'content-length': String(2 * MIB), 'content-type': 'image/png' }, 413, 'FILE_TOO_LARGE'],
      [{ 'content-length': '100', 'content-type': 'application/pdf' }, 415, 'TYPE_NOT_ALLOWED'],
    ] as const) {
      const c = rawPut('/v1/stream/x.png', { ...headers, authorization: auth, expect: '100-continue' });
      await c.closed;
      expect(c.response()).toMatch(new RegExp(`^HTTP/1\\.1 ${status}`));
      expect(c.response()).not.toMatch(/100 Continue/);
      expect(c.response()).toContain(`"code":"${code}"`);
    }
    expect(t.app.streamStats().bytesReceived).toBe(received);
  });

  it('a PNG-declared upload whose bytes are a PDF ends failed with a reason, its object deleted', async () => {
    await emptyQueue(aws, queueUrl());
    const worker = startTestWorker({ config: workerConfig, queueUrl: queueUrl(), log: testLog(workerConfig) });
    try {
      const bad = await createTicket(t.base, { name: 'photo.png', size: PDF.length, type: 'image/png' }, bearer(IMAGES));
      expect((await putPart(bad.parts[0]!.url, PDF, bad.parts[0]!.headers)).status).toBe(200);
      const good = await pngImage();
      const ok = await createTicket(t.base, { name: 'real.png', size: good.length, type: 'image/png' }, bearer(IMAGES));
      expect((await putPart(ok.parts[0]!.url, good, ok.parts[0]!.headers)).status).toBe(200);

      const failed = await eventually(async () => {
        const r = await api<{ status: string; failureReason?: string }>(t.base, 'GET', `/v1/drops/${bad.id}`);
        return r.body.status === 'failed' ? r.body : undefined;
      }, 20_000);
      expect(failed.failureReason).toMatch(/^type not allowed: the bytes are application\/pdf/);
      expect(await t.store.head(dropKeys(bad.id).original)).toBeUndefined();
      await eventually(async () => (await api<{ status: string }>(t.base, 'GET', `/v1/drops/${ok.id}`)).body.status === 'ready' || undefined, 20_000);
    } finally {
      await worker.stop();
    }
  });
});

describe('the CLI', () => {
  it('uploads with --meta and lists the key\'s drops with their metadata', async () => {
    const { runCli } = await import('../support/cli.js');
    const key = { id: `cli-${run}`, key: `cli-key-${run}-0123456789` };
    // A key of its own, so the listing holds only this test's drop.
    const file = join(dir, 'keys-cli.json');
    writeFileSync(file, JSON.stringify({ keys: [key] }));
    const api2 = await startApi({ DROPSHIP_KEYS_FILE: file, DROPSHIP_PUBLIC_UPLOADS: 'false' });
    try {
      const env = { DROPSHIP_URL: api2.base, XDG_STATE_HOME: join(dir, 'state'), DROPSHIP_API_KEY: key.key };
      writeFileSync(join(dir, 'note.txt'), 'hello');
      const up = await runCli(['upload', '--quiet', '--meta', 'ticket=T-7', '--meta', 'team=ops', 'note.txt'], { cwd: dir, env });
      expect(up.code, up.stderr).toBe(0);
      const id = /\/d\/([^/\s]+)/.exec(up.stdout)![1]!;
      const listed = await runCli(['list', '--json'], { cwd: dir, env });
      expect(listed.code, listed.stderr).toBe(0);
      const rows = listed.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Listed);
      expect(rows).toEqual([expect.objectContaining({ id, metadata: { ticket: 'T-7', team: 'ops' } })]);
      const human = await runCli(['list'], { cwd: dir, env });
      expect(human.stdout).toContain(id);
      const anon = await runCli(['list'], { cwd: dir, env: { ...env, DROPSHIP_API_KEY: '' } });
      expect(anon.code).not.toBe(0);
      expect(anon.stderr).toMatch(/API key/);
    } finally {
      await api2.close();
    }
  });
});

describe('api start-up with a bad keys file', () => {
  it.each([
    ['a file that is not there', undefined, /DROPSHIP_KEYS_FILE \(.*absent\.json\): cannot be read/],
    ['a file that is not JSON', '{"keys": [', /DROPSHIP_KEYS_FILE \(.*\): not JSON/],
    ['an unknown field', JSON.stringify({ keys: [{ ...LISTER, color: 'red' }] }), /keys\[0\]: unknown field "color"/],
    ['a duplicate id', JSON.stringify({ keys: [LISTER, { ...OTHER, id: LISTER.id }] }), /duplicate key id/],
  ])('stops with exit code 78 on %s, naming the problem', async (_what, text, message) => {
    const { spawn } = await import('node:child_process');
    const file = join(dir, text === undefined ? 'absent.json' : `bad-${randomUUID()}.json`);
    if (text !== undefined) writeFileSync(file, text);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/api/server.ts'], {
      env: { ...process.env, DROPSHIP_KEYS_FILE: file, PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code, output).toBe(78);
    expect(output).toMatch(message);
  });
});
