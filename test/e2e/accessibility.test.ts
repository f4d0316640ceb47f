/**
 * Accessibility of every page a person sees, by axe-core in headless Chromium: each page in
 * the light and the dark colour scheme, on a desktop (1280×800) and a phone (390×844), with
 * no violation of impact "serious" or "critical", and a focus ring of at least 3:1 on every
 * element the keyboard reaches. Reduced motion is asked for, so a scheme switch is measured
 * after it, not mid-transition. Every combination is also saved as a
 * screenshot in test/e2e/artifacts/a11y-<page>-<scheme>-<viewport>.png.
 *
 * A new page is one entry in PAGES: a name, and how to get the browser onto it.
 * The Uppy test page (test/e2e/uppy-page) is test scaffolding, not a product page: not here.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { api, createTicket, putPart, startApi, type TestApi } from '../support/app.js';
import { eventually } from '../support/env.js';
import { E2E_ENV, launch, newPage, screenshotPath, startStack, writeTestFile, type Stack } from './support.js';
import { solid } from '../support/images.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const SCHEMES = ['light', 'dark'] as const;
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

let stack: Stack;
let limited: TestApi;
let browser: Browser;
/** Drops in the states the share page shows, made once. */
const drops: Record<'ready' | 'uploading' | 'cancelled' | 'deleted' | 'expired' | 'protected', string> = {
  ready: '',
  uploading: '',
  cancelled: '',
  deleted: '',
  expired: '',
  protected: '',
};
const PASSWORD = 'correct horse battery';
let collection = '';
let protectedCollection = '';

async function upload(base: string, bytes: Buffer, name: string, type: string, extra: Record<string, unknown> = {}) {
  const t = await createTicket(base, { name, size: bytes.length, type, ...extra });
  const put = await putPart(t.parts[0]!.url, bytes, t.parts[0]!.headers);
  await api(base, 'POST', `/v1/drops/${t.id}/complete`, { parts: [{ partNumber: 1, etag: put.etag }] }, { 'x-owner-token': t.ownerToken });
  return t;
}

beforeAll(async () => {
  [stack, limited, browser] = await Promise.all([startStack(), startApi({ ...E2E_ENV, DROPSHIP_PAGE_RATE_LIMIT: '1' }), launch()]);
  const png = await solid(1200, 800, '#2a9d8f').png().toBuffer();
  const ready = await upload(stack.base, png, 'harbour at dawn.png', 'image/png');
  drops.ready = ready.id;
  drops.uploading = (await createTicket(stack.base, { name: 'quarterly report.pdf', size: 5_000_000, type: 'application/pdf' })).id;
  const cancelled = await createTicket(stack.base, { name: 'draft.docx', size: 10_000, type: 'application/octet-stream' });
  await api(stack.base, 'DELETE', `/v1/drops/${cancelled.id}`, undefined, { 'x-owner-token': cancelled.ownerToken });
  drops.cancelled = cancelled.id;
  const expired = await upload(stack.base, Buffer.from('old notes\n'), 'notes.txt', 'text/plain');
  drops.expired = expired.id;
  const deleted = await upload(stack.base, Buffer.from('minutes\n'), 'minutes.txt', 'text/plain');
  drops.deleted = deleted.id;
  drops.protected = (await upload(stack.base, Buffer.from('salaries\n'), 'salaries.csv', 'text/csv', { password: PASSWORD })).id;
  const agenda = await upload(stack.base, Buffer.from('1. coffee\n'), 'agenda.txt', 'text/plain');
  await eventually(async () => {
    const r = await api<{ status: string; thumbnails: unknown[] }>(stack.base, 'GET', `/v1/drops/${ready.id}`);
    const e = await api<{ status: string }>(stack.base, 'GET', `/v1/drops/${expired.id}`);
    const d = await api<{ status: string }>(stack.base, 'GET', `/v1/drops/${deleted.id}`);
    return r.body.status === 'ready' && r.body.thumbnails.length > 0 && e.body.status === 'ready' && d.body.status === 'ready';
  }, 30_000);
  const made = await api<{ id: string }>(stack.base, 'POST', '/v1/collections', {
    title: 'Trip photos and notes',
    drops: [
      { id: ready.id, ownerToken: ready.ownerToken },
      { id: agenda.id, ownerToken: agenda.ownerToken },
    ],
  });
  expect(made.status).toBe(201);
  collection = made.body.id;
  const locked = await api<{ id: string }>(stack.base, 'POST', '/v1/collections', { title: 'Board papers', password: PASSWORD });
  expect(locked.status).toBe(201);
  protectedCollection = locked.body.id;
  // Deleted by its owner once it was ready.
  await api(stack.base, 'DELETE', `/v1/drops/${deleted.id}`, undefined, { 'x-owner-token': deleted.ownerToken });
  // Past its lifetime: expired on every read from now on.
  await stack.api.manifests.rewrite(expired.id, (m) => ({ ...m, expiresAt: new Date(Date.now() - 60_000).toISOString() }));
});
afterAll(async () => {
  await browser?.close();
  await limited?.close();
  await stack?.close();
});

/** An HTML error page as the api answers it to a browser (`Accept: text/html`). */
async function errorPage(base: string, path: string, status: number) {
  const r = await fetch(`${base}${path}`, { headers: { accept: 'text/html' } });
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^text\/html/);
  return { body: await r.text(), headers: Object.fromEntries(r.headers) };
}

interface PageCase {
  name: string;
  /** Puts the page on screen. */
  open(page: Page): Promise<void>;
}

const goto = (path: string) => async (page: Page) => {
  await page.goto(`${stack.base}${path}`);
};

const PAGES: PageCase[] = [
  { name: 'upload-empty', open: goto('/') },
  {
    name: 'upload-finished',
    async open(page) {
      await page.goto(stack.base);
      const f = writeTestFile('holiday notes.txt', Buffer.from('sun, sea, and a very long lunch\n'));
      await page.setInputFiles('#file-input', f.path);
      await expect.poll(() => page.locator('li.upload').getAttribute('data-state'), { timeout: 30_000 }).toBe('done');
    },
  },
  {
    name: 'share-ready',
    async open(page) {
      await page.goto(`${stack.base}/d/${drops.ready}`);
      await expect.poll(() => page.locator('#thumbnail').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    },
  },
  { name: 'share-uploading', open: async (page) => goto(`/d/${drops.uploading}`)(page) },
  { name: 'share-cancelled', open: async (page) => goto(`/d/${drops.cancelled}`)(page) },
  { name: 'share-deleted', open: async (page) => goto(`/d/${drops.deleted}`)(page) },
  { name: 'share-expired', open: async (page) => goto(`/d/${drops.expired}`)(page) },
  {
    name: 'share-password-form',
    open: async (page) => goto(`/d/${drops.protected}`)(page),
  },
  {
    name: 'share-password-wrong',
    async open(page) {
      await page.goto(`${stack.base}/d/${drops.protected}`);
      await page.fill('#password', 'not the password');
      await Promise.all([page.waitForURL(`${stack.base}/d/${drops.protected}/unlock`), page.click('#unlock-button')]);
      await page.getByRole('alert').waitFor();
    },
  },
  {
    name: 'share-password-unlocked',
    async open(page) {
      await page.goto(`${stack.base}/d/${drops.protected}`);
      await page.fill('#password', PASSWORD);
      await Promise.all([page.waitForURL(`${stack.base}/d/${drops.protected}`), page.click('#unlock-button')]);
      await page.locator('#download').waitFor();
    },
  },
  {
    name: 'collection',
    async open(page) {
      await page.goto(`${stack.base}/c/${collection}`);
      await page.locator('img').first().waitFor();
      await expect.poll(() => page.locator('img').first().evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    },
  },
  { name: 'collection-password-form', open: async (page) => goto(`/c/${protectedCollection}`)(page) },
  { name: 'collection-404', open: goto('/c/AAAAAAAAAAAAAAAAAAAAA') },
  { name: 'error-404', open: goto('/d/AAAAAAAAAAAAAAAAAAAAA') },
  { name: 'error-410', open: async (page) => goto(`/d/${drops.expired}/download`)(page) },
  {
    name: 'error-429',
    async open(page) {
      // A server whose page limit is spent: its 429 page, shown with the main server's assets.
      const path = '/d/AAAAAAAAAAAAAAAAAAAAA';
      await fetch(`${limited.base}${path}`, { headers: { accept: 'text/html' } }).then((r) => r.arrayBuffer());
      const { body } = await errorPage(limited.base, path, 429);
      await page.route(`${stack.base}/rate-limited`, (route) =>
        route.fulfill({ status: 429, contentType: 'text/html; charset=utf-8', body }),
      );
      await page.goto(`${stack.base}/rate-limited`);
    },
  },
];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

async function axe(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    const w = window as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } };
    return (await w.axe.run()).violations;
  });
}

/**
 * Tabs through the page and, for every element that takes the focus, reads the focus ring
 * (outline) and the background it is drawn on (outside the element: the nearest ancestor's
 * opaque background) and their contrast (WCAG 1.4.11: at least 3:1). Axe has no rule for this.
 */
async function focusRings(page: Page): Promise<string[]> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const problems: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press('Tab');
    const ring = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return undefined;
      const ctx = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;
      const rgba = (css: string) => {
        ctx.clearRect(0, 0, 1, 1);
        ctx.fillStyle = css;
        ctx.fillRect(0, 0, 1, 1);
        return [...ctx.getImageData(0, 0, 1, 1).data];
      };
      const lum = ([r, g, b]: number[]) =>
        [r!, g!, b!].map((c) => c / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)).reduce((a, c, k) => a + c * [0.2126, 0.7152, 0.0722][k]!, 0);
      let bg: number[] = [255, 255, 255, 255];
      for (let p = el.parentElement; p; p = p.parentElement) {
        const c = rgba(getComputedStyle(p).backgroundColor);
        if (c[3]! > 250) {
          bg = c;
          break;
        }
      }
      const style = getComputedStyle(el);
      const outline = rgba(style.outlineColor);
      const [hi, lo] = [lum(outline), lum(bg)].sort((a, b) => b - a);
      const label = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ').join('.')}` : ''}`;
      return { label, style: style.outlineStyle, width: parseFloat(style.outlineWidth), ratio: (hi! + 0.05) / (lo! + 0.05) };
    });
    if (!ring) continue;
    if (seen.has(ring.label)) break;
    seen.add(ring.label);
    if (ring.style === 'none' || ring.width < 2) problems.push(`${ring.label}: no visible focus ring (${ring.style} ${ring.width}px)`);
    else if (ring.ratio < 3) problems.push(`${ring.label}: focus ring contrast ${ring.ratio.toFixed(2)}:1, under 3:1`);
  }
  if (seen.size === 0) problems.push('nothing took the focus');
  return problems;
}

describe('accessibility (axe-core): no serious or critical violation', () => {
  it.each(PAGES.map((p) => [p.name, p] as const))('%s, light and dark, desktop and phone', async (name, pageCase) => {
    // The pages' CSP forbids inline scripts, axe's included: bypassed for the checker only.
    const { context, page } = await newPage(browser, { bypassCSP: true, viewport: VIEWPORTS.desktop });
    await pageCase.open(page);
    const found: string[] = [];
    for (const scheme of SCHEMES) {
      for (const [viewport, size] of Object.entries(VIEWPORTS)) {
        await page.setViewportSize(size);
        await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
        await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
        const violations = (await axe(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
        for (const v of violations) {
          for (const n of v.nodes) found.push(`${scheme} ${viewport}: ${v.id} (${v.impact}) ${v.help} — ${n.target.join(' ')}: ${n.failureSummary ?? ''}`);
        }
        await page.screenshot({ path: screenshotPath(`a11y-${name}-${scheme}-${viewport}.png`), fullPage: true });
      }
      for (const problem of await focusRings(page)) found.push(`${scheme}: ${problem}`);
    }
    expect(found).toEqual([]);
    await context.close();
  });
});
