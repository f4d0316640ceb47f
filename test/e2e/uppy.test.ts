/**
 * Uppy 6 (@uppy/core + @uppy/aws-s3, bundled by Vite from test/e2e/uppy-page with the
 * configuration docs/uppy.md gives) uploads to dropship through the Companion-compatible
 * routes, multipart and one-request (/s3/params), and the result is a real drop that the
 * worker makes ready.
 *
 * The page lives on its own origin — "your app" — which forwards /s3/* to dropship and adds
 * the API key there, as docs/uppy.md recommends: the key never reaches the browser, and the
 * owner-token cookie stays first-party.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import type { Browser } from 'playwright-core';
import { dropKeys } from '../../src/core/layout.js';
import { MIB } from '../../src/core/parts.js';
import { api, download, sha256 } from '../support/app.js';
import { eventually } from '../support/env.js';
import { UPPY_PAGE, countPartBytes, launch, newPage, randomFile, startStack, watch, type Stack } from './support.js';

const API_KEY = 'uppy-app-server-key';
let stack: Stack;
let browser: Browser;
let app: Server;
let appBase: string;

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

/** The app's server: its own pages, plus /s3/* forwarded to dropship with the API key. */
function startAppServer(dropship: string): Promise<Server> {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://app');
      if (url.pathname.startsWith('/s3/')) {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const r = await fetch(`${dropship}${url.pathname}${url.search}`, {
          method: req.method!,
          headers: {
            authorization: `Bearer ${API_KEY}`,
            ...(req.headers.cookie ? { cookie: req.headers.cookie } : {}),
            ...(req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {}),
            // What the browser said about the request, as a reverse proxy passes it on:
            // dropship refuses /s3/params unless it is a script's fetch.
            ...Object.fromEntries(
              ['sec-fetch-mode', 'sec-fetch-dest', 'sec-fetch-site', 'origin'].flatMap((h) => (typeof req.headers[h] === 'string' ? [[h, req.headers[h]]] : [])),
            ),
          },
          ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
        });
        const headers: Record<string, string | string[]> = { 'content-type': r.headers.get('content-type') ?? 'application/json' };
        if (r.headers.getSetCookie().length) headers['set-cookie'] = r.headers.getSetCookie();
        res.writeHead(r.status, headers).end(Buffer.from(await r.arrayBuffer()));
        return;
      }
      const rel = normalize(url.pathname.replace(/^\/uppy\//, '').replace(/^\/+/, '')) || 'index.html';
      const body = await readFile(join(UPPY_PAGE, rel));
      res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack({ DROPSHIP_PUBLIC_UPLOADS: 'false', DROPSHIP_API_KEYS: API_KEY }), launch()]);
  app = await startAppServer(stack.base);
  appBase = `http://127.0.0.1:${(app.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((r) => app?.close(r));
  await browser?.close();
  await stack?.close();
});

interface UppyResult {
  successful: { name: string; size: number; body: { location: string; key: string }; uploadURL: string }[];
  failed: { name: string; error: string }[];
}

describe('Uppy with dropship as its Companion endpoint', () => {
  it('uploads a file above the multipart threshold in parts and the drop becomes ready', async () => {
    const f = randomFile('uppy-upload.bin', 12 * MIB + 5);
    const { context, page } = await newPage(browser);
    const seen = watch(page);
    const sent = countPartBytes(page, stack.s3);
    await page.goto(`${appBase}/uppy/index.html`);
    await page.setInputFiles('#file', f.path);
    await page.locator('#result').filter({ hasText: /\S/ }).waitFor({ timeout: 60_000 });
    const result = JSON.parse((await page.locator('#result').textContent())!) as UppyResult;
    expect(result.failed).toEqual([]);
    expect(result.successful).toHaveLength(1);
    const { location, key } = result.successful[0]!.body;
    const id = new URL(location).pathname.split('/')[2]!;
    expect(location).toBe(`${stack.base}/d/${id}`);
    expect(key).toBe(dropKeys(id).original);
    // Multipart in Uppy's own part size (5 MiB), each part PUT straight to S3.
    expect(sent.parts.sort()).toEqual([1, 2, 3]);
    expect(sent.bytes).toBe(f.size);

    const view = await eventually(async () => {
      const r = await api<{ status: string; name: string; size: number; thumbnail: string }>(stack.base, 'GET', `/v1/drops/${id}`);
      return r.body.status === 'ready' ? r.body : undefined;
    }, 30_000);
    expect(view).toMatchObject({ name: f.name, size: f.size, thumbnail: 'none' });
    expect(sha256((await download(stack.base, id)).data!)).toBe(f.sha256);
    expect(await stack.api.store.listMultipartUploads(dropKeys(id).prefix)).toEqual([]);
    // The owner token travelled as an HttpOnly cookie: page scripts never see it.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(seen.problems).toEqual([]);
    await context.close();
  });

  it('a file below the threshold goes through /s3/params (a script\'s fetch) and becomes ready; an <img> of the same URL is refused', async () => {
    const f = randomFile('uppy-small.txt', 100 * 1024);
    const { context, page } = await newPage(browser);
    const params: { status: number; mode?: string; dest?: string }[] = [];
    page.on('response', async (r) => {
      if (!r.url().includes('/s3/params')) return;
      const h = await r.request().allHeaders();
      params.push({ status: r.status(), mode: h['sec-fetch-mode'], dest: h['sec-fetch-dest'] });
    });
    // Uppy 6.3's Companion client sends the /s3/params answer as a form POST whatever its
    // `method` says: why dropship answers a POST policy there (docs/uppy.md).
    const toS3: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(stack.s3) && r.method() !== 'OPTIONS') toS3.push(r.method());
    });
    await page.goto(`${appBase}/uppy/index.html`);
    await page.setInputFiles('#file', f.path);
    await page.locator('#result').filter({ hasText: /\S/ }).waitFor({ timeout: 60_000 });
    const result = JSON.parse((await page.locator('#result').textContent())!) as UppyResult;
    expect(result.failed).toEqual([]);
    expect(params).toEqual([{ status: 200, mode: 'cors', dest: 'empty' }]);
    expect(toS3).toEqual(['POST']);
    const id = result.successful[0]!.body.key.split('/')[1]!;
    await eventually(async () => {
      const r = await api<{ status: string }>(stack.base, 'GET', `/v1/drops/${id}`);
      return r.body.status === 'ready' ? r.body : undefined;
    }, 30_000);
    expect(sha256((await download(stack.base, id)).data!)).toBe(f.sha256);

    // The same URL as an image, as a page on another site would embed it: refused, no drop.
    const before = (await stack.api.store.listKeys('drops/')).length;
    const status = await page.evaluate(async (u) => {
      const img = new Image();
      const done = new Promise((r) => ((img.onerror = r), (img.onload = r)));
      img.src = u;
      await done;
      return 'loaded';
    }, `${appBase}/s3/params?filename=x.txt&type=text%2Fplain&metadata%5Bsize%5D=3`);
    expect(status).toBe('loaded');
    // The response listener reads the request headers asynchronously: wait for its entry.
    await eventually(async () => (params.length >= 2 ? true : undefined), 10_000);
    expect(params[1]).toEqual({ status: 403, mode: 'no-cors', dest: 'image' });
    expect((await stack.api.store.listKeys('drops/')).length).toBe(before);
    await context.close();
  });
});

