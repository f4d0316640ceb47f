/**
 * The client SDK (used by the CLI and the SPA) against the real app on the in-memory
 * adapters: its fetch goes to the app through `inject` and to "S3" through the memory
 * signer, which refuses a create-only PUT sent without its signed header.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DropshipClient, type DropView } from '../../src/client/index.js';
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

describe('limits() and the upload choices', () => {
  it('limits() reads what the server allows', async () => {
    const client = new DropshipClient({ baseUrl: 'http://drops.test', fetch: memoryFetch });
    const limits = await client.limits();
    expect(limits).toMatchObject({ maxFileSize: t.config.DROPSHIP_MAX_FILE_SIZE, passwords: true, keyRequired: false });
    expect(limits.expiry.options).toContain(limits.expiry.default);
  });

  it('expiresIn and maxDownloads reach the drop; a password goes into the ticket body as `password`', async () => {
    const bodies: unknown[] = [];
    const spy: typeof fetch = (input, init) => {
      if (String(input).endsWith('/v1/drops') && init?.method === 'POST') bodies.push(JSON.parse(String(init.body)));
      return memoryFetch(input, init);
    };
    const client = new DropshipClient({ baseUrl: 'http://drops.test', fetch: spy });
    const view = await client.upload(bytesSource(randomBytes(10), 'a.txt'), { transport: 'fetch', expiresIn: 3600, maxDownloads: 2 });
    const status = (await client.status(view.id)) as DropView;
    expect(Date.parse(status.expiresAt!) - Date.parse(status.createdAt)).toBe(3_600_000);
    expect(status.maxDownloads).toBe(2);
    await client.upload(bytesSource(randomBytes(10), 'b.txt'), { transport: 'fetch', password: 'open sesame' }).catch(() => {});
    expect(bodies.at(-1)).toMatchObject({ name: 'b.txt', password: 'open sesame' });
  });
});

describe('resume picks up the parts already in S3', () => {
  it('a 20 MiB file stopped after its first part sends only the other three, and its progress starts at the saved bytes', async () => {
    const MIB = 1024 * 1024;
    const data = randomBytes(20 * MIB);
    const client = new DropshipClient({ baseUrl: 'http://drops.test', fetch: memoryFetch });
    const ctrl = new AbortController();
    let drop: { id: string; ownerToken: string } | undefined;
    const err = await client
      .upload(bytesSource(data, 'mid.bin'), {
        transport: 'fetch',
        deleteOnAbort: false,
        signal: ctrl.signal,
        onTicket: (tk) => {
          drop = { id: tk.id, ownerToken: tk.ownerToken };
          expect(tk.upload).toMatchObject({ mode: 'multipart', partCount: 4, partSize: 5 * MIB });
        },
        onProgress: (p) => p.partsDone >= 1 && ctrl.abort(),
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DOMException);
    // One part at a time for a file of four parts: the first is in S3 when the upload stops.
    expect(sent.map((s) => new URL(s.url).searchParams.get('partNumber'))).toEqual(['1']);
    expect((await client.listParts(drop!.id, drop!.ownerToken)).parts.map((p) => p.partNumber)).toEqual([1]);

    sent.length = 0;
    const progress: number[] = [];
    const view = await client.upload(bytesSource(data, 'mid.bin'), { transport: 'fetch', resume: drop!, onProgress: (p) => progress.push(p.bytesSent) });
    expect(view.status).toBe('processing');
    expect(sent.map((s) => new URL(s.url).searchParams.get('partNumber')).sort()).toEqual(['2', '3', '4']);
    expect(progress[0]).toBe(5 * MIB);
    expect(Buffer.compare(t.store.objects.get(dropKeys(view.id).original)!.body, data)).toBe(0);
  });
});
