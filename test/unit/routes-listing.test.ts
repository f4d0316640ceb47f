/**
 * A key's listing (GET /v1/drops), batch status (POST /v1/drops/lookup) and private metadata,
 * through `inject` on the in-memory adapters. test/integration/listing.test.ts runs the
 * pagination against S3 on the emulator.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyIndexPrefix } from '../../src/core/key-index.js';
import { dropKeys } from '../../src/core/layout.js';
import { MAX_SCAN } from '../../src/api/services/listing.js';
import { createManifestRepo } from '../../src/ports/manifests.js';
import { createSweep } from '../../src/worker/sweeper.js';
import { memoryApp, type MemoryApp } from '../support/memory-app.js';

const A = 'key-a-0123456789abcdef';
const B = 'key-b-0123456789abcdef';
const keysFile = { keys: [{ id: 'a', key: A }, { id: 'b', key: B }] };
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
const code = (r: { json(): { error?: { code?: string } } }) => r.json().error?.code;

let t: MemoryApp;
beforeEach(async () => {
  t = await memoryApp({ DROPSHIP_MAX_OPEN_TICKETS: '1000', DROPSHIP_RATE_LIMIT: '100000' }, { keysFile });
});
afterEach(() => t.close());

interface Ticket {
  id: string;
  ownerToken: string;
}

async function drop(key: string | undefined, body: Record<string, unknown> = {}): Promise<Ticket> {
  const r = await t.call('POST', '/v1/drops', { body: { name: 'f.txt', size: 10, ...body }, headers: key ? bearer(key) : {} });
  expect(r.statusCode, r.body).toBe(201);
  t.advance(1);
  return r.json<Ticket>();
}

async function listAll(key: string, query = '', limit = 100): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const q = `limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`;
    const r = await t.call('GET', `/v1/drops?${q}`, { headers: bearer(key) });
    expect(r.statusCode, r.body).toBe(200);
    const page = r.json<{ drops: { id: string }[]; nextCursor: string | null }>();
    ids.push(...page.drops.map((d) => d.id));
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  return { ids, pages };
}

describe('GET /v1/drops', () => {
  it('pages through 250 drops of one key exactly once, newest first; other keys see only their own', async () => {
    const mine: string[] = [];
    const theirs: string[] = [];
    for (let i = 0; i < 250; i++) {
      mine.push((await drop(A)).id);
      if (i % 25 === 0) theirs.push((await drop(B)).id);
      if (i % 50 === 0) await drop(undefined);
    }
    const all = await listAll(A);
    expect(all.pages).toBe(3);
    expect(all.ids).toEqual([...mine].reverse());
    expect(new Set(all.ids).size).toBe(250);
    expect((await listAll(B)).ids).toEqual([...theirs].reverse());
    // Pages of 7: the same drops, the same order.
    expect((await listAll(A, '', 7)).ids).toEqual([...mine].reverse());
  });

  it('lists drops created in the same millisecond each once', async () => {
    const ids = await Promise.all(Array.from({ length: 12 }, () => t.call('POST', '/v1/drops', { body: { name: 'f', size: 1 }, headers: bearer(A) })));
    const listed = await listAll(A, '', 5);
    expect(listed.ids.sort()).toEqual(ids.map((r) => r.json().id).sort());
  });

  it('defaults to 50 a page and refuses more than 100', async () => {
    for (let i = 0; i < 51; i++) await drop(A);
    const r = await t.call('GET', '/v1/drops', { headers: bearer(A) });
    expect(r.json().drops).toHaveLength(50);
    expect(r.json().nextCursor).toEqual(expect.any(String));
    expect(r.headers['cache-control']).toBe('private, no-store');
    for (const q of ['limit=101', 'limit=0', 'limit=x', 'status=gone', 'other=1']) {
      const bad = await t.call('GET', `/v1/drops?${q}`, { headers: bearer(A) });
      expect([bad.statusCode, code(bad)], q).toEqual([400, 'VALIDATION_FAILED']);
    }
  });

  it('is 401 without a key (even with public uploads on) or with an unknown one', async () => {
    await drop(A);
    const anon = await t.call('GET', '/v1/drops');
    expect([anon.statusCode, code(anon)]).toEqual([401, 'UNAUTHORIZED']);
    const wrong = await t.call('GET', '/v1/drops', { headers: bearer('nope-0123456789abcdef') });
    expect([wrong.statusCode, code(wrong)]).toEqual([401, 'UNAUTHORIZED']);
  });

  it('refuses a cursor it did not give out; another key\'s cursor lists nothing of that key', async () => {
    for (let i = 0; i < 3; i++) await drop(A);
    await drop(B);
    const first = (await t.call('GET', '/v1/drops?limit=1', { headers: bearer(A) })).json();
    for (const c of ['junk!', Buffer.from(`../${keyIndexPrefix('b')}`).toString('base64url'), Buffer.from('x').toString('base64url')]) {
      const bad = await t.call('GET', `/v1/drops?cursor=${encodeURIComponent(c)}`, { headers: bearer(A) });
      expect([bad.statusCode, code(bad)], c).toEqual([400, 'VALIDATION_FAILED']);
    }
    // A's cursor, sent by B, walks B's own prefix only.
    const r = await t.call('GET', `/v1/drops?cursor=${first.nextCursor}`, { headers: bearer(B) });
    expect(r.statusCode).toBe(200);
    for (const d of r.json().drops) expect((await t.manifests.get(d.id))!.manifest.keyId).toBe('b');
  });

  it('filters by status, reading a bounded number of entries per request', async () => {
    const done: string[] = [];
    for (let i = 0; i < 5; i++) {
      const tk = await drop(A);
      if (i % 2 === 0) {
        await t.call('DELETE', `/v1/drops/${tk.id}`, { owner: tk.ownerToken });
        continue;
      }
      done.push(tk.id);
    }
    const r = await t.call('GET', '/v1/drops?status=uploading', { headers: bearer(A) });
    expect(r.json().drops.map((d: { id: string }) => d.id)).toEqual([...done].reverse());
    expect(r.json().nextCursor).toBeNull();
    // A filter that matches nothing stops after MAX_SCAN entries and hands back a cursor.
    for (let i = 0; i < MAX_SCAN + 5; i++) await drop(A);
    t.store.calls.length = 0;
    const none = await t.call('GET', '/v1/drops?status=ready&limit=100', { headers: bearer(A) });
    expect(none.json().drops).toEqual([]);
    expect(none.json().nextCursor).toEqual(expect.any(String));
    expect(t.store.calls.filter((c) => c.op === 'getText').length).toBeLessThanOrEqual(MAX_SCAN);
    const rest = await t.call('GET', `/v1/drops?status=ready&cursor=${none.json().nextCursor}`, { headers: bearer(A) });
    expect(rest.json()).toEqual({ drops: [], nextCursor: null });
  });

  it('a deleted drop leaves the listing (and its index entry goes)', async () => {
    const keep = await drop(A);
    const gone = await drop(A);
    const del = await t.call('DELETE', `/v1/drops/${gone.id}`, { owner: gone.ownerToken });
    expect(del.statusCode).toBe(200);
    expect((await listAll(A)).ids).toEqual([keep.id]);
    expect([...t.store.objects.keys()].filter((k) => k.startsWith(keyIndexPrefix('a')))).toHaveLength(1);
  });

  it('an expired drop is listed as expired until the sweep deletes it, then leaves the listing', async () => {
    const keep = await drop(A, { expiresIn: 3600 });
    const short = await drop(A, { expiresIn: 60 });
    t.advance(120);
    const before = (await t.call('GET', '/v1/drops', { headers: bearer(A) })).json();
    expect(before.drops.map((d: { id: string; status: string }) => [d.id, d.status])).toEqual([
      [short.id, 'expired'],
      [keep.id, 'uploading'],
    ]);
    const swept = await createSweep({ store: t.store, manifests: createManifestRepo(t.store), clock: t.now, log: pino({ level: 'silent' }) })();
    expect(swept.purged).toBe(1);
    expect((await listAll(A)).ids).toEqual([keep.id]);
    expect([...t.store.objects.keys()].filter((k) => k.startsWith(keyIndexPrefix('a')))).toHaveLength(1);
  });

  it('skips an entry whose manifest is gone, and cleans it once it is older than a creation takes', async () => {
    const keep = await drop(A);
    const lost = await drop(A);
    t.store.objects.delete(dropKeys(lost.id).manifest);
    const entries = () => [...t.store.objects.keys()].filter((k) => k.startsWith(keyIndexPrefix('a')));
    expect((await listAll(A)).ids).toEqual([keep.id]);
    expect(entries()).toHaveLength(2);
    t.advance(600);
    expect((await listAll(A)).ids).toEqual([keep.id]);
    expect(entries()).toHaveLength(1);
  });

  it('a failed creation leaves no entry behind', async () => {
    t.store.beforeCall = (op, key) => {
      if (op === 'put' && key.endsWith('manifest.json')) throw new Error('S3 down');
    };
    const r = await t.call('POST', '/v1/drops', { body: { name: 'f', size: 1 }, headers: bearer(A) });
    expect(r.statusCode).toBeGreaterThanOrEqual(500);
    expect([...t.store.objects.keys()].filter((k) => k.startsWith('index/keys/'))).toEqual([]);
  });
});

describe('private metadata', () => {
  const metadata = { invoice: 'INV-42', 'customer.id': 'c_9' };

  it('is shown to the key that created the drop and to the owner token, never to anyone else', async () => {
    const tk = await drop(A, { metadata });
    const url = `/v1/drops/${tk.id}`;
    const mine = await t.call('GET', url, { headers: bearer(A) });
    expect(mine.json().metadata).toEqual(metadata);
    expect(mine.headers['cache-control']).toBe('private, no-store');
    expect(mine.headers.vary).toMatch(/authorization/);
    expect((await t.call('GET', url, { owner: tk.ownerToken })).json().metadata).toEqual(metadata);
    // Anonymous readers and other keys get the public view.
    const anon = await t.call('GET', url);
    expect(anon.statusCode).toBe(200);
    expect(anon.json()).not.toHaveProperty('metadata');
    expect(anon.body).not.toContain('INV-42');
    expect((await t.call('GET', url, { headers: bearer(B) })).json()).not.toHaveProperty('metadata');
    // A token or key that is not the drop's gets the public view (status is public).
    for (const opts of [{ owner: 'x'.repeat(43) }, { headers: bearer('nope-0123456789abcdef') }]) {
      const r = await t.call('GET', url, opts);
      expect(r.statusCode).toBe(200);
      expect(r.json()).not.toHaveProperty('metadata');
    }
    // In the key's listing.
    expect((await t.call('GET', '/v1/drops', { headers: bearer(A) })).json().drops[0].metadata).toEqual(metadata);
  });

  it('never appears on the share page, in the event stream\'s view or in any S3 key', async () => {
    const tk = await drop(A, { metadata });
    const page = await t.call('GET', `/d/${tk.id}`, { headers: { ...bearer(A), accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('INV-42');
    expect(page.body).not.toContain('customer.id');
    for (const key of t.store.objects.keys()) {
      expect(key).not.toContain('INV-42');
      expect(key).not.toContain('customer');
    }
    // It lives only inside the manifest.
    expect((await t.manifests.get(tk.id))!.manifest.metadata).toEqual(metadata);

    // The event stream sends the public view, even to the creating key and the owner.
    const ac = new AbortController();
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/drops/${tk.id}/events`,
      headers: { ...bearer(A), 'x-owner-token': tk.ownerToken },
      payloadAsStream: true,
      signal: ac.signal,
    });
    expect(res.statusCode).toBe(200);
    let text = '';
    const s = res.stream();
    s.on('error', () => {});
    await new Promise<void>((resolve) => {
      s.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('\n\n')) resolve();
      });
    });
    ac.abort();
    expect(text).toContain('event: status');
    expect(text).toContain(tk.id);
    expect(text).not.toContain('INV-42');
    expect(text).not.toContain('metadata');
  });

  it('the index entry carries the drop\'s retention tag, so lifecycle rules delete it with the drop', async () => {
    const tk = await drop(A, { expiresIn: 3 * 86_400 });
    const [entry] = [...t.store.objects.keys()].filter((k) => k.startsWith(keyIndexPrefix('a')) && k.endsWith(tk.id));
    expect(entry).toBeDefined();
    expect(t.store.objects.get(entry!)!.tags).toEqual({ 'dropship-retention': 'd3' });
    expect(t.store.objects.get(entry!)!.body.length).toBe(0);
  });

  it('an anonymous drop\'s metadata is the owner token\'s only', async () => {
    const tk = await drop(undefined, { metadata });
    expect((await t.call('GET', `/v1/drops/${tk.id}`, { headers: bearer(A) })).json()).not.toHaveProperty('metadata');
    expect((await t.call('GET', `/v1/drops/${tk.id}`, { owner: tk.ownerToken })).json().metadata).toEqual(metadata);
  });

  it.each([
    ['17 entries', Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']))],
    ['a name with a space', { 'bad name': 'v' }],
    ['a name of 65 characters', { ['n'.repeat(65)]: 'v' }],
    ['an empty name', { '': 'v' }],
    ['a number', { n: 1 }],
    ['a nested object', { n: { deep: 'x' } }],
    ['an array', ['a']],
    ['more than 2 KiB in all', Object.fromEntries(Array.from({ length: 2 }, (_, i) => [`k${i}`, 'x'.repeat(1100)]))],
  ])('refuses %s with a 400 naming metadata', async (_what, bad) => {
    const r = await t.call('POST', '/v1/drops', { body: { name: 'f', size: 1, metadata: bad }, headers: bearer(A) });
    expect([r.statusCode, code(r)]).toEqual([400, 'VALIDATION_FAILED']);
    expect(JSON.stringify(r.json().error)).toMatch(/metadata/);
    expect([...t.store.objects.keys()]).toEqual([]);
  });

  it('accepts 16 entries of exactly 2 KiB in all', async () => {
    const m: Record<string, string> = {};
    for (let i = 0; i < 16; i++) m[`k${String(i).padStart(2, '0')}`] = 'x';
    const used = Buffer.byteLength(JSON.stringify(m));
    m.k00 = 'x'.repeat(2048 - used + 1);
    expect(Buffer.byteLength(JSON.stringify(m))).toBe(2048);
    const r = await t.call('POST', '/v1/drops', { body: { name: 'f', size: 1, metadata: m }, headers: bearer(A) });
    expect(r.statusCode, r.body).toBe(201);
  });
});

describe('POST /v1/drops/lookup', () => {
  it('answers each id in the order asked; metadata only for the caller\'s drops; unknown and malformed ids not_found', async () => {
    const a = await drop(A, { metadata: { k: 'a' } });
    const b = await drop(B, { metadata: { k: 'b' } });
    const ids = [b.id, 'nope', a.id, 'AAAAAAAAAAAAAAAAAAAAA'];
    const r = await t.call('POST', '/v1/drops/lookup', { body: { ids }, headers: bearer(A) });
    expect(r.statusCode, r.body).toBe(200);
    const drops = r.json().drops;
    expect(drops.map((d: { id: string }) => d.id)).toEqual(ids);
    expect(drops[0]).toMatchObject({ id: b.id, status: 'uploading' });
    expect(drops[0]).not.toHaveProperty('metadata');
    expect(drops[1]).toEqual({ id: 'nope', status: 'not_found' });
    expect(drops[2]).toMatchObject({ id: a.id, metadata: { k: 'a' } });
    expect(drops[3]).toEqual({ id: 'AAAAAAAAAAAAAAAAAAAAA', status: 'not_found' });
  });

  it('reads manifests with bounded concurrency', async () => {
    const ids = [];
    for (let i = 0; i < 40; i++) ids.push((await drop(A)).id);
    let inFlight = 0;
    let most = 0;
    const get = t.store.getText.bind(t.store);
    t.store.getText = async (key) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 1));
      try {
        return await get(key);
      } finally {
        inFlight--;
      }
    };
    const r = await t.call('POST', '/v1/drops/lookup', { body: { ids }, headers: bearer(A) });
    expect(r.json().drops).toHaveLength(40);
    expect(most).toBeLessThanOrEqual(8);
  });

  it.each([
    ['no ids', { ids: [] }],
    ['101 ids', { ids: Array.from({ length: 101 }, (_, i) => `id${i}`) }],
    ['a duplicate', { ids: ['a', 'a'] }],
    ['a number', { ids: [1] }],
    ['an unknown field', { ids: ['a'], more: true }],
  ])('refuses %s', async (_what, body) => {
    const r = await t.call('POST', '/v1/drops/lookup', { body, headers: bearer(A) });
    expect([r.statusCode, code(r)]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('is 401 without a key', async () => {
    const r = await t.call('POST', '/v1/drops/lookup', { body: { ids: ['a'] } });
    expect([r.statusCode, code(r)]).toEqual([401, 'UNAUTHORIZED']);
  });
});

describe('OpenAPI', () => {
  it('declares the listing and batch status with operationId, tags, security and every answer', async () => {
    const doc = (await t.call('GET', '/openapi.json')).json();
    const ops = [
      [doc.paths['/v1/drops'].get, 'listDrops', ['200', '400', '401', '429', '500', '503']],
      [doc.paths['/v1/drops/lookup'].post, 'lookupDrops', ['200', '400', '401', '413', '415', '429', '500', '503']],
    ] as const;
    for (const [op, id, statuses] of ops) {
      expect(op.operationId).toBe(id);
      expect(op.tags).toEqual(['drops']);
      expect(op.security).toEqual([{ apiKey: [] }]);
      expect(Object.keys(op.responses).sort()).toEqual(statuses);
      expect(op.responses['200'].description).not.toBe('Default Response');
    }
    expect(doc.paths['/v1/drops'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['cursor', 'limit', 'status']);
  });
});
