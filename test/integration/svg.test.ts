/**
 * SVG thumbnails against the real things: what sharp's librsvg itself does with hostile
 * documents (the check that normally stops them bypassed: defence in depth, and so a
 * librsvg upgrade that changes its mind shows up here), the child-process renderer and its
 * time limit, and an SVG uploaded through the api on the emulator becoming a ready drop with
 * WebP thumbnails, downloaded as an attachment.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { childProcessRasteriser, makeSvgThumbnails } from '../../src/worker/thumbnails.js';
import type { RunningWorker } from '../../src/worker/worker.js';
import { api, createTicket, download, putPart, startApi, type TestApi } from '../support/app.js';
import { eventually, queueUrl, testConfig } from '../support/env.js';
import { emptyQueue, testLog } from '../support/drops.js';
import { startTestWorker } from '../support/worker.js';
import { solid } from '../support/images.js';
import { billionLaughs, deeplyNestedSvg, externalSvgs, filterBomb, hugeSvg, plainSvg, useBomb } from '../support/svgs.js';

let dir: string;
let server: Server;
let requests: string[] = [];
let target: { file: string; path: string; svgFile: string; http: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dropship-svg-'));
  const red = await solid(100, 100, '#ff0000').png().toBuffer();
  writeFileSync(join(dir, 'red.png'), red);
  writeFileSync(
    join(dir, 'red.svg'),
    '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><linearGradient id="paint"><stop stop-color="#f00"/></linearGradient>' +
      '<rect id="red" width="100" height="100" fill="#f00"/></svg>',
  );
  // Everything this server could hand out is red: a red pixel in a raster means it was fetched.
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url?.endsWith('.png')) res.writeHead(200, { 'content-type': 'image/png' }).end(red);
    else if (req.url?.endsWith('.css')) res.writeHead(200, { 'content-type': 'text/css' }).end('rect { fill: #f00 }');
    else res.writeHead(200, { 'content-type': 'image/svg+xml' }).end('<svg xmlns="http://www.w3.org/2000/svg"><rect id="p" width="100" height="100" fill="#f00"/></svg>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  target = {
    file: pathToFileURL(join(dir, 'red.png')).href,
    path: join(dir, 'red.png'),
    svgFile: pathToFileURL(join(dir, 'red.svg')).href,
    http: `http://127.0.0.1:${port}`,
  };
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

async function redPixels(png: Buffer): Promise<number> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  let red = 0;
  for (let i = 0; i < data.length; i += info.channels) if (data[i]! > 200 && data[i + 1]! < 60 && data[i + 3]! > 128) red++;
  return red;
}

describe('librsvg on its own (the check bypassed)', () => {
  const rasterise = childProcessRasteriser();

  it('loads no external reference: no file, no HTTP request, nothing red drawn', async () => {
    // the measure works: red drawn by the document itself is seen
    const ownRed = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100" fill="#f00"/></svg>');
    expect(await redPixels(await rasterise(ownRed, 72, 100_000_000))).toBe(10_000);
    requests = [];
    const cases = Object.entries(externalSvgs(target));
    const results: Record<string, string> = {};
    for (const [name, svg] of cases) {
      try {
        const png = await rasterise(svg, 72, 100_000_000);
        results[name] = `${await redPixels(png)} red pixels`;
      } catch (e) {
        results[name] = `refused (${(e as Error).message.slice(0, 40)})`;
      }
    }
    for (const [name, outcome] of Object.entries(results)) expect.soft(outcome, name).toMatch(/^(0 red pixels|refused)/);
    // the entity and DTD cases librsvg refuses as malformed: it does not read their targets
    expect(results['external entity (file)']).toMatch(/^refused/);
    expect(requests).toEqual([]);
  });

  it('refuses billion laughs, 5,000 nested groups and a declared width of 100000000 px', async () => {
    await expect(rasterise(billionLaughs(), 72, 100_000_000)).rejects.toThrow(/amplification|entit/i);
    await expect(rasterise(deeplyNestedSvg(), 72, 100_000_000)).rejects.toThrow(/depth/i);
    await expect(rasterise(hugeSvg(), 1, 100_000_000)).rejects.toThrow(/pixel limit/);
  });

  it('a render that will not end is killed at the time limit', async () => {
    const quick = childProcessRasteriser(1000);
    await expect(quick(filterBomb(), 72, 100_000_000)).rejects.toThrow('SVG rendering took longer than 1 s');
    // a <use> bomb: librsvg's own limit on referenced elements, or the time limit
    await expect(quick(useBomb(), 72, 100_000_000)).rejects.toThrow();
  });

  it('through makeSvgThumbnails the bomb is a thumbnail error, and a plain SVG draws in the child', async () => {
    const opts = { widths: [256, 1024], maxPixels: 100_000_000 };
    expect(await makeSvgThumbnails(filterBomb(), { ...opts, rasterise: childProcessRasteriser(1000) })).toEqual({
      ok: false,
      reason: 'cannot render SVG: SVG rendering took longer than 1 s',
    });
    const made = await makeSvgThumbnails(plainSvg(), { ...opts, rasterise: childProcessRasteriser() });
    expect(made.ok && made.thumbs.map((t) => t.width)).toEqual([256, 1024]);
  });
});

describe('an SVG uploaded through the api', () => {
  let t: TestApi;
  let worker: RunningWorker;
  beforeAll(async () => {
    t = await startApi();
    await emptyQueue(t.aws, queueUrl());
    const config = testConfig({ DROPSHIP_WORKER_WAIT_TIME: '1' });
    worker = startTestWorker({ config, queueUrl: queueUrl(), log: testLog(config) });
  });
  afterAll(async () => {
    await worker?.stop();
    await t?.close();
  });

  async function upload(bytes: Buffer, name: string) {
    const ticket = await createTicket(t.base, { name, size: bytes.length, type: 'image/svg+xml' });
    const part = ticket.parts[0]!;
    const put = await putPart(part.url, bytes, part.headers);
    expect(put.status).toBe(200);
    await api(t.base, 'POST', `/v1/drops/${ticket.id}/complete`, { parts: [{ partNumber: 1, etag: put.etag }] }, { 'x-owner-token': ticket.ownerToken });
    return eventually(async () => {
      const r = await api<Record<string, unknown>>(t.base, 'GET', `/v1/drops/${ticket.id}`);
      return r.body.status === 'ready' ? { id: ticket.id, view: r.body } : undefined;
    }, 20_000);
  }

  it('is ready with WebP thumbnails 256 and 1024 px wide, and downloads as an attachment', async () => {
    const { id, view } = await upload(plainSvg(), 'logo.svg');
    expect(view).toMatchObject({ type: 'image/svg+xml', width: 200, height: 100 });
    const widths = (view.thumbnails as { width: number; height: number }[]).map((x) => [x.width, x.height]);
    expect(widths).toEqual([
      [256, 128],
      [1024, 512],
    ]);
    for (const w of [256, 1024]) {
      const r = await fetch(`${t.base}/d/${id}/thumb/${w}`, { redirect: 'manual' });
      expect(r.status).toBe(302);
      const thumb = await fetch(r.headers.get('location')!);
      expect(thumb.headers.get('content-type')).toBe('image/webp');
      const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
      expect(meta).toMatchObject({ format: 'webp', width: w, height: w / 2 });
    }
    // never shown inline from the bucket: a download, and not as a type a browser would run script in
    const d = await download(t.base, id);
    expect(d.status).toBe(200);
    expect(d.disposition).toMatch(/^attachment; filename="logo.svg"/);
    expect(new URL(d.location!).searchParams.get('response-content-type')).toBe('application/octet-stream');
  });

  it('an SVG reaching for a local server is ready without a thumbnail, and the server hears nothing', async () => {
    requests = [];
    const { view } = await upload(externalSvgs(target)['image href to an http URL'], 'tracker.svg');
    expect(view).toMatchObject({ status: 'ready', thumbnails: [] });
    expect(requests).toEqual([]);
  });
});
