/** The SDK's listing, batch status and metadata against the real app on the in-memory adapters. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DropshipApiError, DropshipClient, type DropView } from '../../src/client/index.js';
import { MEMORY_S3_ORIGIN } from '../../src/memory/signer.js';
import { bytesSource } from '../support/client.js';
import { memoryApp, type MemoryApp } from '../support/memory-app.js';

const KEY = 'sdk-key-0123456789abcdef';
let t: MemoryApp;
beforeEach(async () => {
  t = await memoryApp({}, { keysFile: { keys: [{ id: 'sdk', key: KEY }] } });
});
afterEach(() => t.close());

const memoryFetch: typeof fetch = async (input, init) => {
  const url = String(input);
  const headers = Object.fromEntries(new Headers(init?.headers));
  if (url.startsWith(MEMORY_S3_ORIGIN)) {
    const body = init?.body ? Buffer.from(init.body as Uint8Array) : undefined;
    const r = await t.signer.present((init?.method ?? 'GET') as 'PUT', url, body, t.now(), headers);
    return new Response(null, { status: r.status, headers: r.etag ? { etag: r.etag } : {} });
  }
  const u = new URL(url);
  const r = await t.app.inject({
    method: (init?.method ?? 'GET') as 'GET',
    url: u.pathname + u.search,
    headers,
    ...(init?.body ? { payload: String(init.body) } : {}),
  });
  return new Response(r.body, { status: r.statusCode, headers: r.headers as Record<string, string> });
};

describe('DropshipClient listing', () => {
  it('uploads with metadata, lists every drop page by page, looks drops up in order', async () => {
    const client = new DropshipClient({ baseUrl: 'http://drops.test', apiKey: KEY, fetch: memoryFetch });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const v = await client.upload(bytesSource(Buffer.from(`file ${i}`), `f${i}.txt`), { transport: 'fetch', metadata: { n: String(i) } });
      ids.push(v.id);
      t.advance(1);
    }
    const first = await client.listDrops({ limit: 2 });
    expect(first.drops.map((d) => d.id)).toEqual([ids[4], ids[3]]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const all: DropView[] = [];
    for await (const d of client.allDrops({ limit: 2 })) all.push(d);
    expect(all.map((d) => d.id)).toEqual([...ids].reverse());
    expect(all.map((d) => d.metadata?.n)).toEqual(['4', '3', '2', '1', '0']);
    expect((await client.listDrops({ status: 'ready' })).drops).toEqual([]);

    const found = await client.lookupDrops([ids[1]!, 'missing']);
    expect(found).toEqual([expect.objectContaining({ id: ids[1], metadata: { n: '1' } }), { id: 'missing', status: 'not_found' }]);
    expect(await client.status(ids[0]!)).toMatchObject({ metadata: { n: '0' } });
    // Without the key: the public view, and no listing.
    const anon = new DropshipClient({ baseUrl: 'http://drops.test', fetch: memoryFetch });
    expect(await anon.status(ids[0]!)).not.toHaveProperty('metadata');
    await expect(anon.listDrops()).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' } satisfies Partial<DropshipApiError>);
  });
});
