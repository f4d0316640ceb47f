/**
 * Collections against the real app and the emulator, over HTTP: three drops made with the
 * SDK become one collection that lists all three; the CLI reads it by its URL and deletes it
 * (its drops too), after which the collection answers 410 and its drops say "cancelled".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DropshipClient, DropshipApiError, type CollectionView } from '../../src/client/index.js';
import { collectionKeys } from '../../src/core/layout.js';
import { startApi, type TestApi } from '../support/app.js';
import { runCli } from '../support/cli.js';

let s: TestApi;
let dir: string;
let client: DropshipClient;

beforeAll(async () => {
  s = await startApi();
  dir = await mkdtemp(join(tmpdir(), 'dropship-collections-'));
  client = new DropshipClient({ baseUrl: s.base });
});
afterAll(async () => {
  await s?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const lines = (text: string) => text.split('\n').filter(Boolean);

async function uploaded(name: string, size: number) {
  let token = '';
  const bytes = randomBytes(size);
  const view = await client.upload({ name, size, type: 'application/octet-stream', slice: async (a: number, b: number) => bytes.subarray(a, b) }, {
    onTicket: (t) => void (token = t.ownerToken),
  });
  return { id: view.id, ownerToken: token };
}

describe('collections on the emulator', () => {
  it('three drops → one collection listing all three → deleted with its drops → 410', async () => {
    const drops = [await uploaded('one.bin', 10), await uploaded('two.bin', 2000), await uploaded('three.bin', 0)];
    const c = await client.createCollection({ title: 'Three', drops: drops.slice(0, 2) });
    expect(c.shareUrl).toBe(`${s.base}/c/${c.id}`);
    // The third is added on its own, with both tokens.
    const added = await client.addToCollection(c.id, c.ownerToken, drops[2]!);
    expect(added.drops.map((d) => d.id)).toEqual(drops.map((d) => d.id));
    // The record is S3's, outside the worker's drops/ prefix.
    expect(await s.store.getText(collectionKeys(c.id).manifest)).toBeDefined();

    // No password: the full view.
    const view = (await client.getCollection(c.id)) as CollectionView;
    expect(view).toMatchObject({ id: c.id, title: 'Three', shareUrl: c.shareUrl });
    expect(view.drops.map((d) => d.name)).toEqual(['one.bin', 'two.bin', 'three.bin']);

    // The page lists them for people.
    const page = await fetch(c.shareUrl);
    expect(page.status).toBe(200);
    const text = await page.text();
    for (const n of ['one.bin', 'two.bin', 'three.bin']) expect(text).toContain(n);

    // The CLI reads the collection by its URL, and deletes it with its owner token.
    const env = { XDG_STATE_HOME: join(dir, 'state'), DROPSHIP_API_KEY: '' };
    const st = await runCli(['status', c.shareUrl], { cwd: dir, env });
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toContain('title      Three');
    expect(lines(st.stdout).filter((l) => /\/d\//.test(l))).toHaveLength(3);
    const del = await runCli(['delete', c.shareUrl, '--owner-token', c.ownerToken], { cwd: dir, env });
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout.trim()).toBe(`${c.id} deleted`);

    const gone = await client.getCollection(c.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(DropshipApiError);
    expect(gone).toMatchObject({ status: 410, code: 'COLLECTION_DELETED' });
    for (const d of drops) expect((await client.status(d.id)).status).toBe('cancelled');
    const after = await runCli(['status', c.shareUrl], { cwd: dir, env });
    expect(after.code).toBe(4);
    // Deleting again is still fine.
    expect((await client.deleteCollection(c.id, c.ownerToken)).status).toBe('deleted');
  });

  it('`dropship upload a b` makes a collection and `delete <collection url>` needs no token from this machine', async () => {
    const env = { DROPSHIP_URL: s.base, XDG_STATE_HOME: join(dir, 'state2'), DROPSHIP_API_KEY: '' };
    const paths = ['x.txt', 'y.txt'].map((n) => join(dir, n));
    for (const p of paths) await writeFile(p, randomBytes(100));
    const up = await runCli(['upload', ...paths], { cwd: dir, env });
    expect(up.code, up.stderr).toBe(0);
    const out = lines(up.stdout);
    expect(out).toHaveLength(3);
    const collection = out[2]!;
    expect(collection).toMatch(/\/c\/[A-Za-z0-9_-]{21}$/);
    expect(((await client.getCollection(collection.split('/').at(-1)!)) as CollectionView).drops.map((d) => d.name)).toEqual(['x.txt', 'y.txt']);
    const skip = await runCli(['upload', '--no-collection', '--no-resume', ...paths], { cwd: dir, env });
    expect(lines(skip.stdout)).toHaveLength(2);
    const del = await runCli(['delete', collection], { cwd: dir, env });
    expect(del.code, del.stderr).toBe(0);
  });
});
