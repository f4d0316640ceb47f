/**
 * The share page's link preview (Open Graph / Twitter card) as a chat app's unfurler reads
 * it: name, size and type, the thumbnail once there is one, nothing of a file that is gone,
 * and a name cannot break out of its attribute.
 */
import { describe, expect, it } from 'vitest';
import { renderSharePage } from '../../src/api/share/page.js';
import type { DropView } from '../../src/api/schemas/drops.js';

const ID = 'V1StGXR8_Z5jdHi6B-myT';
const base = (over: Partial<DropView> = {}): DropView => ({
  id: ID,
  status: 'ready',
  name: 'holiday.jpg',
  size: 3 * 1024 * 1024,
  type: 'image/jpeg',
  createdAt: '2030-01-01T00:00:00.000Z',
  thumbnail: 'ready',
  thumbnails: [
    { width: 256, height: 171, url: `https://drops.test/d/${ID}/thumb/256` },
    { width: 1024, height: 683, url: `https://drops.test/d/${ID}/thumb/1024` },
  ],
  shareUrl: `https://drops.test/d/${ID}`,
  downloadUrl: `https://drops.test/d/${ID}/download`,
  ...over,
});
const assets = { scripts: [], styles: [] };
const meta = (page: string, name: string) => new RegExp(`<meta (?:property|name)="${name}" content="([^"]*)">`).exec(page)?.[1];

describe('share page link preview', () => {
  it('a ready image: its name, size and type, and its largest thumbnail as a large card', () => {
    const page = renderSharePage(base(), assets);
    expect(meta(page, 'og:title')).toBe('holiday.jpg');
    expect(meta(page, 'og:description')).toBe('3.00 MiB · image/jpeg · shared with dropship');
    expect(meta(page, 'og:url')).toBe(`https://drops.test/d/${ID}`);
    expect(meta(page, 'og:image')).toBe(`https://drops.test/d/${ID}/thumb/1024`);
    expect([meta(page, 'og:image:width'), meta(page, 'og:image:height')]).toEqual(['1024', '683']);
    expect(meta(page, 'twitter:card')).toBe('summary_large_image');
  });

  it('no thumbnail (a PDF, or one still in the making): no image, a small card; an upload in progress says so', () => {
    const pdf = renderSharePage(base({ name: 'report.pdf', type: 'application/pdf', thumbnail: 'none', thumbnails: [] }), assets);
    expect(meta(pdf, 'og:image')).toBeUndefined();
    expect(meta(pdf, 'twitter:card')).toBe('summary');
    const uploading = renderSharePage(base({ status: 'uploading', thumbnail: 'pending', thumbnails: [] }), assets);
    expect(meta(uploading, 'og:description')).toBe('3.00 MiB · image/jpeg · still uploading · shared with dropship');
  });

  it.each(['cancelled', 'failed', 'expired'] as const)('a %s drop shows neither its name nor its thumbnail', (status) => {
    const page = renderSharePage(base({ status }), assets);
    expect(meta(page, 'og:title')).toBe('This drop is no longer available');
    expect(meta(page, 'og:image')).toBeUndefined();
    expect(meta(page, 'og:description')).not.toContain('MiB');
  });

  it('a name with quotes and markup stays inside its attribute', () => {
    const page = renderSharePage(base({ name: '"><script>alert(1)</script>.jpg' }), assets);
    expect(page).not.toContain('<script>alert(1)');
    expect(meta(page, 'og:title')).toBe('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;.jpg');
  });
});

describe('share page words match the state', () => {
  const facts = (page: string) => /<dl class="facts" id="facts">([\s\S]*?)<\/dl>/.exec(page)?.[1] ?? '';

  it('a cancelled upload that never finished: no size or type of a file that never existed, and says it was cancelled', () => {
    const page = renderSharePage(base({ status: 'cancelled', thumbnail: 'none', thumbnails: [] }), assets);
    expect(facts(page)).toBe('');
    expect(page).toContain('This upload was cancelled before it finished: there is no file.');
    expect(page).not.toContain('deleted by its owner');
  });

  it('a finished drop its owner deleted says deleted; failed and expired drops list no facts either; live ones do', () => {
    const deleted = renderSharePage(base({ status: 'cancelled', completedAt: '2030-01-01T00:01:00.000Z' }), assets);
    expect(deleted).toContain('This drop was deleted by its owner.');
    expect(facts(deleted)).toBe('');
    for (const status of ['failed', 'expired'] as const) expect(facts(renderSharePage(base({ status }), assets))).toBe('');
    for (const status of ['uploading', 'processing', 'ready'] as const) expect(facts(renderSharePage(base({ status }), assets))).toContain('3.00 MiB');
  });
});
