/**
 * The client SDK (used by the CLI and the SPA) against the real app on the in-memory
 * adapters: its fetch goes to the app through `inject` and to "S3" through the memory
 * signer, which refuses a create-only PUT sent without its signed header.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DropshipClient } from '../../src/client/index.js';
import { dropKeys } from '../../src/core/layout.js';
import { MEMORY_S3_ORIGIN } from '../../src/memory/signer.js';
import { bytesSource } from '../support/client.js';
import { memoryApp, type MemoryApp } from '../support/memory-app.js';

let t: MemoryApp;
const sent: { url: string; headers: Record<string, string> }[] = [];
beforeEach(async () => {
  t = await memoryApp();
  sent.length = 0;
});
afterEach(() => t.close());

const memoryFetch: typeof fetch = async (input, init) => {
  const url = String(input);
  const headers = Object.fromEntries(new Headers(init?.headers));
  if (url.startsWith(MEMORY_S3_ORIGIN)) {
    sent.push({ url, headers });
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
  return new Response(r.statusCode === 204 ? null : r.body, { status: r.statusCode, headers: r.headers as Record<string, string> });
};

describe('the SDK sends each part entry\'s headers', () => {
  it('a single-PUT file: the PUT carries If-None-Match: *, S3 accepts it, the bytes are stored', async () => {
    const data = randomBytes(1000);
    const client = new DropshipClient({ baseUrl: 'http://drops.test', fetch: memoryFetch });
    const view = await client.upload(bytesSource(data, 'note.txt'), { transport: 'fetch' });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers['if-none-match']).toBe('*');
    expect(Buffer.compare(t.store.objects.get(dropKeys(view.id).original)!.body, data)).toBe(0);
  });
});
