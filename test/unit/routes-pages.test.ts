/**
 * Browser routes answer a browser with a page, never JSON: the download and thumbnail links
 * of an unknown, not-ready or expired drop, and a rate-limited share page. Programs (no
 * `Accept: text/html`) keep the JSON error. Through `inject` on the in-memory adapters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryApp, type MemoryApp } from '../support/memory-app.js';

const BROWSER = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'user-agent': 'Mozilla/5.0 Chrome/131.0' };
const UNKNOWN = 'AAAAAAAAAAAAAAAAAAAAA';

let t: MemoryApp;
beforeAll(async () => {
  t = await memoryApp();
});
afterAll(async () => {
  await t?.close();
});

const isPage = (r: { headers: Record<string, unknown>; body: string }) =>
  String(r.headers['content-type']).startsWith('text/html') && r.body.startsWith('<!doctype html>');

describe('error pages for browsers on /d/…', () => {
  it('an unknown drop\'s download link: 404 page saying so, under the strict page CSP', async () => {
    const r = await t.call('GET', `/d/${UNKNOWN}/download`, { headers: BROWSER });
    expect(r.statusCode).toBe(404);
    expect(isPage(r)).toBe(true);
    expect(r.body).toContain('<h1 class="name">No such drop</h1>');
    expect(r.body).not.toContain('"error"');
    expect(String(r.headers['content-security-policy'])).toContain("default-src 'none'");
    expect(r.headers['cache-control']).toBe('no-store');
  });

  it('a drop still uploading: 409 page in words; the same request from a program stays JSON', async () => {
    const created = await t.call('POST', '/v1/drops', { body: { name: 'report.pdf', size: 3 } });
    const id = created.json<{ id: string }>().id;
    const page = await t.call('GET', `/d/${id}/download`, { headers: BROWSER });
    expect(page.statusCode).toBe(409);
    expect(isPage(page)).toBe(true);
    expect(page.body).toContain('Not available');
    const program = await t.call('GET', `/d/${id}/download`);
    expect(program.statusCode).toBe(409);
    expect(program.json()).toMatchObject({ error: { code: 'DROP_NOT_READY' } });
  });

  it('an expired drop: 410 page; a missing thumbnail: 404 page; an unknown route under /d/: 404 page', async () => {
    const created = await t.call('POST', '/v1/drops', { body: { name: 'gone.txt', size: 3, expiresIn: 60 } });
    const id = created.json<{ id: string }>().id;
    t.advance(61);
    const expired = await t.call('GET', `/d/${id}/download`, { headers: BROWSER });
    expect([expired.statusCode, isPage(expired)]).toEqual([410, true]);
    expect(expired.body).toContain('This drop has expired');
    const thumb = await t.call('GET', `/d/${UNKNOWN}/thumb/256`, { headers: BROWSER });
    expect([thumb.statusCode, isPage(thumb)]).toEqual([404, true]);
    const nowhere = await t.call('GET', `/d/${UNKNOWN}/nowhere`, { headers: BROWSER });
    expect([nowhere.statusCode, isPage(nowhere)]).toEqual([404, true]);
  });

  it('a rate-limited share page is a 429 page with Retry-After, not JSON', async () => {
    const limited = await memoryApp({ DROPSHIP_RATE_LIMIT: '2', DROPSHIP_PAGE_RATE_LIMIT: '2' });
    try {
      for (let i = 0; i < 2; i++) await limited.call('GET', `/d/${UNKNOWN}`, { headers: BROWSER });
      const r = await limited.call('GET', `/d/${UNKNOWN}`, { headers: BROWSER });
      expect(r.statusCode).toBe(429);
      expect(isPage(r)).toBe(true);
      expect(r.body).toContain('Too many requests');
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      // The api itself keeps answering programs in JSON.
      for (let i = 0; i < 2; i++) await limited.call('GET', `/v1/drops/${UNKNOWN}`);
      const api = await limited.call('GET', `/v1/drops/${UNKNOWN}`, { headers: { accept: 'text/html' } });
      expect(api.statusCode).toBe(429);
      expect(api.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    } finally {
      await limited.close();
    }
  });

  it('a drop name cannot inject markup into an error page (only our own words are shown)', async () => {
    const created = await t.call('POST', '/v1/drops', { body: { name: '<script>alert(1)</script>.txt', size: 3 } });
    const id = created.json<{ id: string }>().id;
    const r = await t.call('GET', `/d/${id}/download`, { headers: BROWSER });
    expect(r.body).not.toContain('<script>alert');
  });
});

describe('page views have a budget of their own', () => {
  it('share views (page, thumbnail, download link) do not spend the api budget, and api calls do not spend theirs', async () => {
    const app = await memoryApp({ DROPSHIP_RATE_LIMIT: '3', DROPSHIP_PAGE_RATE_LIMIT: '20' });
    try {
      for (let i = 0; i < 5; i++) {
        for (const path of [`/d/${UNKNOWN}`, `/d/${UNKNOWN}/thumb/256`, `/d/${UNKNOWN}/download`]) {
          expect((await app.call('GET', path, { headers: BROWSER })).statusCode).toBe(404);
        }
      }
      // 15 page requests made; the api still has all 3 of its own.
      for (let i = 0; i < 3; i++) expect((await app.call('GET', `/v1/drops/${UNKNOWN}`)).statusCode).toBe(404);
      expect((await app.call('GET', `/v1/drops/${UNKNOWN}`)).statusCode).toBe(429);
      // ...and the exhausted api budget leaves pages working, up to theirs.
      for (let i = 0; i < 5; i++) expect((await app.call('GET', `/d/${UNKNOWN}`, { headers: BROWSER })).statusCode).toBe(404);
      expect((await app.call('GET', `/d/${UNKNOWN}`, { headers: BROWSER })).statusCode).toBe(429);
    } finally {
      await app.close();
    }
  });
});
