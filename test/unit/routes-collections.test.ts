/**
 * Collections through `inject` on the in-memory adapters: one link for several drops — create,
 * add (both owner tokens needed), read in the order added, delete (its drops too), and the
 * lifetime that follows the last drop, through the sweep.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectionKeys } from '../../src/core/layout.js';
import { createManifestRepo } from '../../src/ports/manifests.js';
import { createSweep } from '../../src/worker/sweeper.js';
import { memoryApp, type MemoryApp } from '../support/memory-app.js';

const DAY = 86_400;
const code = (r: { json(): { error?: { code: string } } }) => r.json().error?.code;

let t: MemoryApp;
beforeEach(async () => {
  t = await memoryApp();
});
afterEach(() => t.close());

interface Ticket {
  id: string;
  ownerToken: string;
  shareUrl: string;
  parts: { url: string; headers?: Record<string, string> }[];
}

async function drop(name = 'a.txt', body: Record<string, unknown> = {}): Promise<Ticket> {
  const r = await t.call('POST', '/v1/drops', { body: { name, size: 5, ...body } });
  expect(r.statusCode, r.body).toBe(201);
  return r.json<Ticket>();
}

async function uploaded(name = 'a.txt', body: Record<string, unknown> = {}): Promise<Ticket> {
  const tk = await drop(name, body);
  expect((await t.put(tk.parts[0]!.url, Buffer.from('hello'), tk.parts[0]!.headers)).status).toBe(200);
  expect((await t.call('POST', `/v1/drops/${tk.id}/complete`, { owner: tk.ownerToken })).statusCode).toBe(200);
  return tk;
}

async function collection(body: Record<string, unknown> = {}): Promise<{ id: string; shareUrl: string; ownerToken: string }> {
  const r = await t.call('POST', '/v1/collections', { body });
  expect(r.statusCode, r.body).toBe(201);
  return r.json();
}

const ref = (d: Ticket) => ({ id: d.id, ownerToken: d.ownerToken });

describe('POST /v1/collections', () => {
  it('creates one link for several drops, listed in the order given with their public views', async () => {
    const [a, b, c] = [await uploaded('a.txt'), await drop('b.bin'), await uploaded('c.txt')];
    const col = await collection({ title: 'Trip', drops: [ref(a), ref(b), ref(c)] });
    expect(col.shareUrl).toBe(`http://drops.test/c/${col.id}`);
    expect(col.ownerToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const r = await t.call('GET', `/v1/collections/${col.id}`);
    expect(r.statusCode).toBe(200);
    const v = r.json();
    expect(v).toMatchObject({ id: col.id, title: 'Trip', shareUrl: col.shareUrl });
    expect(v.drops.map((d: { name: string; status: string }) => [d.name, d.status])).toEqual([
      ['a.txt', 'processing'],
      ['b.bin', 'uploading'],
      ['c.txt', 'processing'],
    ]);
    // Exactly what GET /v1/drops/:id shows the public.
    expect(v.drops[0]).toEqual((await t.call('GET', `/v1/drops/${a.id}`)).json());
    expect(v.expiresAt).toBe(new Date(t.now().getTime() + 7 * DAY * 1000).toISOString());
  });

  it('never shows a drop\'s private metadata, even to its owner', async () => {
    const a = await drop('a.txt', { metadata: { secret: 'x' } });
    const col = await collection({ drops: [ref(a)] });
    const r = await t.call('GET', `/v1/collections/${col.id}`, { owner: a.ownerToken });
    expect(r.json().drops[0].metadata).toBeUndefined();
    expect(r.json().title).toBeNull();
  });

  it('refuses a drop whose owner token is not its own, and creates nothing', async () => {
    const [a, b] = [await drop(), await drop()];
    const r = await t.call('POST', '/v1/collections', { body: { drops: [ref(a), { id: b.id, ownerToken: a.ownerToken }] } });
    expect(r.statusCode).toBe(403);
    expect(r.json().error).toMatchObject({ code: 'OWNER_TOKEN_INVALID', details: { dropId: b.id } });
    expect(await t.store.listKeys('collections/')).toEqual([]);
  });

  it('refuses unknown drops (404) and cancelled ones (409 DROP_NOT_ADDABLE)', async () => {
    const a = await drop();
    expect(code(await t.call('POST', '/v1/collections', { body: { drops: [{ id: 'AAAAAAAAAAAAAAAAAAAAA', ownerToken: 'x' }] } }))).toBe('DROP_NOT_FOUND');
    await t.call('DELETE', `/v1/drops/${a.id}`, { owner: a.ownerToken });
    const r = await t.call('POST', '/v1/collections', { body: { drops: [ref(a)] } });
    expect(r.statusCode).toBe(409);
    expect(r.json().error).toMatchObject({ code: 'DROP_NOT_ADDABLE', details: { dropId: a.id, status: 'cancelled' } });
  });

  it('needs an API key where public uploads are off', async () => {
    const keyed = await memoryApp({ DROPSHIP_PUBLIC_UPLOADS: 'false', DROPSHIP_API_KEYS: 'k1' });
    try {
      expect(code(await keyed.call('POST', '/v1/collections', { body: {} }))).toBe('UNAUTHORIZED');
      expect(code(await keyed.call('POST', '/v1/collections', { body: {}, headers: { authorization: 'Bearer nope' } }))).toBe('UNAUTHORIZED');
      expect((await keyed.call('POST', '/v1/collections', { body: {}, headers: { authorization: 'Bearer k1' } })).statusCode).toBe(201);
    } finally {
      await keyed.close();
    }
  });

  it('keeps collections out of the drops/ prefix the bucket notification watches', async () => {
    const col = await collection({ drops: [ref(await drop())] });
    const keys = await t.store.listKeys('');
    expect(keys).toContain(collectionKeys(col.id).manifest);
    expect(keys.filter((k) => k.includes(col.id)).every((k) => !k.startsWith('drops/'))).toBe(true);
  });
});

describe('POST /v1/collections/:id/drops', () => {
  it('adds with both tokens; adding again changes nothing', async () => {
    const col = await collection();
    const [a, b] = [await drop('a'), await drop('b')];
    const r1 = await t.call('POST', `/v1/collections/${col.id}/drops`, { owner: col.ownerToken, body: ref(a) });
    expect(r1.statusCode, r1.body).toBe(200);
    expect(r1.json().drops.map((d: { id: string }) => d.id)).toEqual([a.id]);
    await t.call('POST', `/v1/collections/${col.id}/drops`, { owner: col.ownerToken, body: ref(b) });
    const again = await t.call('POST', `/v1/collections/${col.id}/drops`, { owner: col.ownerToken, body: ref(a) });
    expect(again.statusCode).toBe(200);
    expect(again.json().drops.map((d: { id: string }) => d.id)).toEqual([a.id, b.id]);
  });

  it('refuses a wrong or missing collection token, and a wrong drop token', async () => {
    const col = await collection();
    const [a, b] = [await drop(), await drop()];
    const wrongCol = await t.call('POST', `/v1/collections/${col.id}/drops`, { owner: a.ownerToken, body: ref(a) });
    expect([wrongCol.statusCode, code(wrongCol)]).toEqual([403, 'OWNER_TOKEN_INVALID']);
    expect(code(await t.call('POST', `/v1/collections/${col.id}/drops`, { body: ref(a) }))).toBe('UNAUTHORIZED');
    const wrongDrop = await t.call('POST', `/v1/collections/${col.id}/drops`, { owner: col.ownerToken, body: { id: a.id, ownerToken: b.ownerToken } });
    expect([wrongDrop.statusCode, code(wrongDrop)]).toEqual([403, 'OWNER_TOKEN_INVALID']);
    expect((await t.call('GET', `/v1/collections/${col.id}`)).json().drops).toEqual([]);
  });

  it('loses no drop when many are added at once', async () => {
    const col = await collection();
    const drops = await Promise.all(Array.from({ length: 12 }, (_, i) => drop(`f${i}.txt`)));
    const answers = await Promise.all(drops.map((d) => t.call('POST', `/v1/collections/${col.id}/drops`, { owner: col.ownerToken, body: ref(d) })));
    expect(answers.map((r) => r.statusCode)).toEqual(drops.map(() => 200));
    const listed = (await t.call('GET', `/v1/collections/${col.id}`)).json().drops.map((d: { id: string }) => d.id);
    expect(new Set(listed)).toEqual(new Set(drops.map((d) => d.id)));
    expect(listed).toHaveLength(12);
  });

  it('refuses the drop after the last one that fits (COLLECTION_FULL)', async () => {
    // 1,000 drops: the record is written directly, as many adds over time would leave it.
    const col = await collection();
    const rec = JSON.parse((await t.store.getText(collectionKeys(col.id).manifest))!.text);
    rec.drops = Array.from({ length: 1000 }, (_, i) => ({ id: `X${String(i).padStart(20, '0')}`, addedAt: rec.createdAt }));
    await t.store.put(collectionKeys(col.id).manifest, JSON.stringify(rec), { contentType: 'application/json' });
    const r = await t.call('POST', `/v1/collections/${col.id}/drops`, { owner: col.ownerToken, body: ref(await drop()) });
    expect(r.statusCode).toBe(409);
    expect(r.json().error).toMatchObject({ code: 'COLLECTION_FULL', details: { max: 1000 } });
  });

  it('refuses cancelled and expired drops', async () => {
    const col = await collection();
    const a = await drop('a', { expiresIn: 60 });
    const b = await drop('b');
    await t.call('DELETE', `/v1/drops/${b.id}`, { owner: b.ownerToken });
    expect(code(await t.call('POST', `/v1/collections/${col.id}/drops`, { owner: col.ownerToken, body: ref(b) }))).toBe('DROP_NOT_ADDABLE');
    t.advance(61);
    const r = await t.call('POST', `/v1/collections/${col.id}/drops`, { owner: col.ownerToken, body: ref(a) });
    expect(r.json().error).toMatchObject({ code: 'DROP_NOT_ADDABLE', details: { status: 'expired' } });
  });
});

describe('DELETE /v1/collections/:id', () => {
  it('deletes the collection and its drops; idempotent; then 410 everywhere', async () => {
    const [a, b] = [await uploaded('a'), await drop('b')];
    const col = await collection({ drops: [ref(a), ref(b)] });
    expect(code(await t.call('DELETE', `/v1/collections/${col.id}`, { owner: a.ownerToken }))).toBe('OWNER_TOKEN_INVALID');
    const del = await t.call('DELETE', `/v1/collections/${col.id}`, { owner: col.ownerToken });
    expect(del.statusCode, del.body).toBe(200);
    expect(del.json()).toMatchObject({ id: col.id, status: 'deleted' });
    expect((await t.call('DELETE', `/v1/collections/${col.id}`, { owner: col.ownerToken })).statusCode).toBe(200);

    const get = await t.call('GET', `/v1/collections/${col.id}`);
    expect([get.statusCode, code(get)]).toEqual([410, 'COLLECTION_DELETED']);
    expect(code(await t.call('POST', `/v1/collections/${col.id}/drops`, { owner: col.ownerToken, body: ref(await drop()) }))).toBe('COLLECTION_DELETED');
    // The drops went with it: their links say so.
    expect((await t.call('GET', `/v1/drops/${a.id}`)).json().status).toBe('cancelled');
    expect((await t.call('GET', `/v1/drops/${b.id}`)).json().status).toBe('cancelled');
    expect((await t.call('GET', `/d/${a.id}/download`)).statusCode).toBe(410);
    expect((await t.store.listKeys(`drops/${a.id}/`)).filter((k) => !k.endsWith('manifest.json'))).toEqual([]);
    // A browser gets the styled page with the status.
    const page = await t.call('GET', `/c/${col.id}`, { headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(410);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('This collection was deleted');
  });

  it('answers 404 for unknown and malformed ids, 401 without a token', async () => {
    expect(code(await t.call('DELETE', '/v1/collections/AAAAAAAAAAAAAAAAAAAAA', { owner: 'x' }))).toBe('COLLECTION_NOT_FOUND');
    expect(code(await t.call('GET', '/v1/collections/nope'))).toBe('COLLECTION_NOT_FOUND');
    const col = await collection();
    expect(code(await t.call('DELETE', `/v1/collections/${col.id}`))).toBe('UNAUTHORIZED');
    const page = await t.call('GET', '/c/nope', { headers: { accept: 'text/html' } });
    expect([page.statusCode, page.body.includes('No such collection')]).toEqual([404, true]);
    const json = await t.call('GET', '/c/AAAAAAAAAAAAAAAAAAAAB/x', { headers: { accept: 'text/html' } });
    expect(json.statusCode).toBe(404);
  });
});

describe('lifetime: a collection lives until its last drop expires', () => {
  const log = pino({ level: 'silent' });
  const sweep = () => createSweep({ store: t.store, manifests: createManifestRepo(t.store), clock: t.now, log })();

  it('expires with its last drop (410 COLLECTION_EXPIRED), and the sweep deletes its record', async () => {
    const [a, b] = [await drop('a', { expiresIn: DAY }), await drop('b', { expiresIn: 3 * DAY })];
    const col = await collection({ drops: [ref(a)] });
    await t.call('POST', `/v1/collections/${col.id}/drops`, { owner: col.ownerToken, body: ref(b) });
    t.advance(DAY + 60);
    // The first drop is gone; the collection lists what is left.
    expect((await sweep()).collections).toBe(0);
    const mid = await t.call('GET', `/v1/collections/${col.id}`);
    expect(mid.json().drops.map((d: { id: string }) => d.id)).toEqual([b.id]);
    t.advance(2 * DAY);
    const gone = await t.call('GET', `/v1/collections/${col.id}`);
    expect([gone.statusCode, code(gone)]).toEqual([410, 'COLLECTION_EXPIRED']);
    const r = await sweep();
    expect(r.collections).toBe(1);
    expect(await t.store.listKeys('collections/')).toEqual([]);
    expect(await t.store.listKeys('index/collection-expiry/')).toEqual([]);
    expect(code(await t.call('GET', `/v1/collections/${col.id}`))).toBe('COLLECTION_NOT_FOUND');
  });

  it('an empty collection lives the ticket TTL', async () => {
    const col = await collection();
    t.advance(t.config.DROPSHIP_TICKET_TTL - 1);
    expect((await t.call('GET', `/v1/collections/${col.id}`)).statusCode).toBe(200);
    t.advance(1);
    expect(code(await t.call('GET', `/v1/collections/${col.id}`))).toBe('COLLECTION_EXPIRED');
  });
});

describe('GET /c/:id', () => {
  it('lists every file with its size, status and own link; Download all is there', async () => {
    const [a, b] = [await uploaded('a <b>.txt'), await drop('b.bin')];
    const col = await collection({ title: 'Trip & co', drops: [ref(a), ref(b)] });
    const r = await t.call('GET', `/c/${col.id}`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(r.body).toContain('Trip &amp; co');
    expect(r.body).toContain('a &lt;b&gt;.txt');
    expect(r.body).toContain(`href="/d/${a.id}/download"`);
    expect(r.body).not.toContain(`href="/d/${b.id}/download"`);
    expect(r.body).toContain('id="download-all"');
    expect(r.body).toContain('data-live="true"');
  });
});
