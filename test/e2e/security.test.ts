/**
 * Hostile uploads: an HTML file and an SVG full of script, with names that are markup too.
 * The SVG gets a WebP thumbnail drawn by the worker; neither ever runs.
 * Nothing they contain may run on any page we serve — the upload app, the share page, the
 * download — and their names must show as text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launch, newPage, readDownload, screenshotPath, startStack, watch, writeTestFile, type Stack } from './support.js';

let stack: Stack;
let browser: Browser;
beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launch()]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** Every script below reports through alert() and by writing to window.name. */
const html = writeTestFile(
  `evil "><img src=x onerror=alert('name')>.html`,
  Buffer.from(
    `<!doctype html><html><body onload="alert('body');window.name='pwned'"><script>alert('html');window.name='pwned'</script>` +
      `<img src=x onerror="alert('img')"><iframe src="javascript:alert('iframe')"></iframe></body></html>`,
  ),
);
const svg = writeTestFile(
  `evil <svg onload=alert('n')>.svg`,
  Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" onload="alert('svg');window.name='pwned'">` +
      `<script>alert('svg-script');window.name='pwned'</script><rect width="100" height="100" fill="red"/></svg>`,
  ),
);

const windowName = (page: Page) => page.evaluate(() => window.name);

describe('uploaded HTML and SVG never run', () => {
  it('not in the upload app, not on the share page, not when downloaded', async () => {
    const { context, page } = await newPage(browser);
    const seen = watch(page);
    await page.goto(stack.base);
    await page.setInputFiles('#file-input', [html.path, svg.path]);
    const rows = page.locator('li.upload');
    await expect.poll(() => rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-state'))), { timeout: 30_000 }).toEqual(['done', 'done']);
    // Names are text: the markup in them made no elements.
    expect(await page.locator('.upload-name').allTextContents()).toEqual(expect.arrayContaining([html.name, svg.name]));
    expect(await page.locator('.upload-name img, .upload-name svg').count()).toBe(0);
    // Picked together, the two files share one collection link; each keeps its own as well.
    const links = await page.locator('li.upload input.share-url').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
    expect(links).toHaveLength(2);
    const collection = await page.locator('li.batch .batch-share input.share-url').inputValue();
    // A file joins the collection right after its ticket, in its own request: wait for both.
    const members = async () => ((await (await fetch(`${stack.base}/v1/collections/${collection.split('/').at(-1)}`)).json()) as { drops: unknown[] }).drops.length;
    await expect.poll(members).toBe(2);
    await page.goto(collection);
    expect((await page.locator('#files .file-name').allTextContents()).sort()).toEqual([html.name, svg.name].sort());
    expect(await page.locator('#files .file-name *, #name *').count()).toBe(0);
    expect(await page.locator('#files img').count()).toBe(0);
    expect(await windowName(page)).toBe('');

    for (const link of links) {
      await page.goto(link);
      // Let the worker finish (the type is sniffed from the bytes) so every state is seen.
      await page.waitForFunction(() => document.getElementById('share')?.dataset.status === 'ready', undefined, { timeout: 30_000 });
      const name = page.locator('h1');
      expect([html.name, svg.name]).toContain(await name.textContent());
      expect(await name.locator('*').count()).toBe(0);
      // No preview of an HTML file, only a type icon; an SVG's preview is the WebP the worker
      // drew from it (its script is nothing to a rasteriser), never the SVG itself.
      if ((await name.textContent())?.endsWith('.svg')) {
        const thumb = page.locator('#thumbnail');
        await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
        expect(await thumb.getAttribute('src')).toMatch(/\/d\/[^/]+\/thumb\/\d+$/);
        await page.screenshot({ path: screenshotPath('share-hostile-svg.png'), fullPage: true });
      } else {
        expect(await page.locator('#thumbnail').count()).toBe(0);
      }
      if ((await name.textContent())?.endsWith('.html')) await page.screenshot({ path: screenshotPath('share-hostile-html.png'), fullPage: true });
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download').click()]);
      expect([html.sha256, svg.sha256]).toContain(readDownload((await download.path())!));
      expect(await windowName(page)).toBe('');

      // Straight to the download route (and from there to S3): an attachment, never a page.
      const id = new URL(link).pathname.split('/')[2]!;
      const direct = page.waitForEvent('download');
      await page.goto(`${stack.base}/d/${id}/download`).catch((e: Error) => expect(e.message).toMatch(/Download is starting/));
      await (await direct).path();
      expect(await windowName(page)).toBe('');
    }
    expect(seen.dialogs).toEqual([]);
    expect(seen.problems).toEqual([]);
    await context.close();
  });
});
