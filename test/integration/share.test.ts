/**
 * The pages the api serves: the share page in every state (escaping, CSP, states, 404) and
 * the SPA's index and assets (with a stand-in build, so this suite does not need Vite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { s3Origin } from '../../src/api/share/csp.js';
import { webAssets } from '../../src/api/share/assets.js';
import webRoutes from '../../src/api/routes/web.js';
import errors from '../../src/api/plugins/errors.js';
import { api, createTicket, startApi, type TestApi } from '../support/app.js';
import { testConfig } from '../support/env.js';

let t: TestApi;
beforeAll(async () => {
  t = await startApi();
});
afterAll(async () => {
  await t?.close();
});

async function page(path: string) {
  const r = await fetch(`${t.base}${path}`, { redirect: 'manual' });
  return { status: r.status, headers: r.headers, html: await r.text() };
}

/** Parses a CSP header into directive → sources. */
function csp(header: string | null): Record<string, string[]> {
  expect(header, 'a Content-Security-Policy header').toBeTruthy();
  return Object.fromEntries(
    header!
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([k, ...v]) => [k!, v]),
  );
}

function expectStrictScripts(policy: Record<string, string[]>) {
  expect(policy['default-src']).toEqual(["'none'"]);
  expect(policy['script-src']).not.toContain("'unsafe-inline'");
  expect(policy['script-src']).not.toContain("'unsafe-eval'");
  expect(policy['style-src']).not.toContain("'unsafe-inline'");
  expect(policy['frame-ancestors']).toEqual(["'none'"]);
  expect(policy['object-src']).toEqual(["'none'"]);
}

const hostile = `"><img src=x onerror=alert(1)><script>alert('2')</script>&amp;.html`.replace('/', '∕');

describe('share page', () => {
  it('renders an uploading drop with every user string escaped, a strict CSP and nosniff', async () => {
    const tk = await createTicket(t.base, { name: hostile, size: 10, type: 'text/html"><script>' });
    const p = await page(`/d/${tk.id}`);
    expect(p.status).toBe(200);
    expect(p.headers.get('content-type')).toMatch(/^text\/html/);
    expect(p.headers.get('x-content-type-options')).toBe('nosniff');
    const policy = csp(p.headers.get('content-security-policy'));
    expectStrictScripts(policy);
    expect(policy['script-src']).toEqual(["'self'"]);
    expect(policy['connect-src']).toEqual(["'self'"]);
    expect(policy['img-src']).toContain(s3Origin(t.config));

    expect(p.html).not.toContain('<img src=x');
    expect(p.html).not.toContain('<script>alert');
    expect(p.html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(&#39;2&#39;)&lt;∕script&gt;&amp;amp;.html');
    // No inline script at all: every <script> has a src.
    for (const tag of p.html.match(/<script\b[^>]*>/g) ?? []) expect(tag).toMatch(/\ssrc="\/assets\//);
    expect(p.html).toContain('Still uploading');
    expect(p.html).not.toContain(`href="/d/${tk.id}/download"`);
    expect(p.html).toContain(`data-live="true"`);
  });

  it('offers the download once complete, and a thumbnail once ready', async () => {
    // States are written the way the api and the worker write them, without bytes in S3, so
    // no worker that happens to consume the test queue can move the drop on behind our back.
    const tk = await createTicket(t.base, { name: 'holiday photo.jpg', size: 4, type: 'image/jpeg' });
    await t.manifests.applyEvent(tk.id, { type: 'complete', at: new Date() });
    const processing = await page(`/d/${tk.id}`);
    expect(processing.html).toContain(`href="/d/${tk.id}/download"`);
    expect(processing.html).toContain('preparing the preview');
    expect(processing.html).toContain('Preview on its way');

    // What the worker writes once the thumbnails exist.
    await t.manifests.applyEvent(tk.id, {
        type: 'processed',
        at: new Date(),
        sniffedType: 'image/jpeg',
        width: 4000,
        height: 3000,
        thumbnail: 'ready',
        thumbnails: [
          { width: 256, height: 192, key: `drops/${tk.id}/thumb-256.webp` },
          { width: 1024, height: 768, key: `drops/${tk.id}/thumb-1024.webp` },
        ],
      });
    const ready = await page(`/d/${tk.id}`);
    expect(ready.html).toContain('Ready to download.');
    expect(ready.html).toMatch(new RegExp(`<img id="thumbnail" src="/d/${tk.id}/thumb/1024" srcset="/d/${tk.id}/thumb/256 256w, /d/${tk.id}/thumb/1024 1024w"`));
    expect(ready.html).toContain('alt="Preview of holiday photo.jpg"');
    expect(ready.html).toContain('4000 × 3000');
    expect(ready.html).not.toContain('data-live');
  });

  it('says so when a drop was cancelled, has expired or failed', async () => {
    const cancelled = await createTicket(t.base, { name: 'gone.bin', size: 1 });
    await api(t.base, 'DELETE', `/v1/drops/${cancelled.id}`, undefined, { 'x-owner-token': cancelled.ownerToken });
    const deleted = await page(`/d/${cancelled.id}`);
    expect(deleted.status).toBe(410);
    const gone = deleted.html;
    expect(gone).toContain('cancelled before it finished');
    expect(gone).not.toContain('<dt>Size</dt>');

    const expired = await createTicket(t.base, { name: 'late.bin', size: 1 });
    await t.manifests.rewrite(expired.id, (m) => ({ ...m, expiresAt: new Date(Date.now() - 1000).toISOString() }));
    const e = await page(`/d/${expired.id}`);
    expect(e.status).toBe(410);
    expect(e.html).toContain('never finished and has expired');
    expect(e.html).not.toContain('/download"');

    const failed = await createTicket(t.base, { name: 'broken.bin', size: 1 });
    await t.manifests.applyEvent(failed.id, { type: 'verify_failed', at: new Date(), reason: 'size mismatch' });
    const f = await page(`/d/${failed.id}`);
    expect(f.status).toBe(200);
    expect(f.html).toContain('This upload failed');
    expect(f.html).not.toContain('/download"');
  });

  it('answers unknown and malformed ids with a 404 page', async () => {
    for (const id of ['AAAAAAAAAAAAAAAAAAAAA', 'x', '%3Cscript%3E', 'a'.repeat(90)]) {
      const p = await page(`/d/${id}`);
      expect(p.status, id).toBe(404);
      expect(p.headers.get('content-type')).toMatch(/^text\/html/);
      expect(p.html).toContain('No such drop');
      expect(p.html).not.toContain('<script');
      expectStrictScripts(csp(p.headers.get('content-security-policy')));
    }
  });
});

describe('SPA', () => {
  it("allows part PUTs to exactly the origin the signer's URLs point at", async () => {
    const tk = await createTicket(t.base, { name: 'o.bin', size: 1 });
    expect(new URL(tk.parts[0]!.url).origin).toBe(s3Origin(t.config));
    // And the same rule for real AWS, both addressing styles.
    const aws = (region: string, s3PathStyle: boolean) =>
      s3Origin({ AWS_ENDPOINT_URL: '', DROPSHIP_BUCKET: 'my-drops', AWS_REGION: region, s3PathStyle });
    expect(aws('us-east-1', false)).toBe('https://my-drops.s3.amazonaws.com');
    expect(aws('eu-west-1', false)).toBe('https://my-drops.s3.eu-west-1.amazonaws.com');
    expect(aws('eu-west-1', true)).toBe('https://s3.eu-west-1.amazonaws.com');
  });

  describe('with a stand-in build', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dropship-web-'));
    const app = Fastify({ logger: false });
    beforeAll(async () => {
      app.decorate('config', testConfig());
      await app.register(errors);
      await app.register(webRoutes, { assets: webAssets(dir) });
      await app.ready();
    });
    afterAll(async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('says how to build before the first build', async () => {
      const r = await app.inject({ url: '/' });
      expect(r.statusCode).toBe(503);
      expect(r.body).toContain('not built yet');
    });

    it('serves index.html under the SPA policy and hashed assets for a year', async () => {
      mkdirSync(join(dir, 'assets'), { recursive: true });
      writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/main-abc.js"></script>');
      writeFileSync(join(dir, 'assets', 'main-abc.js'), 'console.log(1)');
      const r = await app.inject({ url: '/' });
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toMatch(/^text\/html/);
      expect(r.headers['cache-control']).toBe('no-cache');
      const policy = csp(String(r.headers['content-security-policy']));
      expectStrictScripts(policy);
      expect(policy['connect-src']).toEqual(["'self'", s3Origin(testConfig())]);
      const js = await app.inject({ url: '/assets/main-abc.js' });
      expect(js.statusCode).toBe(200);
      expect(js.headers['content-type']).toMatch(/javascript/);
      expect(js.headers['cache-control']).toMatch(/max-age=31536000.*immutable/);
      expect((await app.inject({ url: '/assets/nope.js' })).statusCode).toBe(404);
      expect((await app.inject({ url: '/assets/../index.html' })).statusCode).toBe(404);
    });
  });
});
