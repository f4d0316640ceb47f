/**
 * The collection page (GET /c/:id) and its error pages, rendered on the server from the
 * collection view — each drop exactly as the public sees it (GET /v1/drops/:id). User strings
 * (title, names, types) only pass through `html`, which escapes them.
 *
 * The page works without JavaScript: every file has its own download link. Its script
 * (src/web/collection.ts) polls GET /v1/collections/:id while something is still on its way
 * and swaps in this renderer's fresh list, and builds "Download all" as a zip in the browser
 * from the per-file downloads (the bytes never cross the api as a zip). The files' facts the
 * script needs are data-* attributes of each row, never HTML.
 */
import type { DropView } from '../schemas/drops.js';
import { formatBytes } from '../../core/format.js';
import { html, type SafeHtml } from './html.js';
import type { EntryAssets } from './assets.js';
import { fileKind, layout } from './page.js';

export interface CollectionPageView {
  id: string;
  title: string | null;
  shareUrl: string;
  drops: DropView[];
}

const FILE_STATUS: Record<DropView['status'], string> = {
  uploading: 'Uploading…',
  processing: 'Uploaded, preparing the preview',
  ready: 'Ready',
  failed: 'Failed: did not arrive intact',
  cancelled: 'Deleted by its owner',
  expired: 'Expired',
};

const downloadable = (s: DropView['status']) => s === 'processing' || s === 'ready';

/** Still changing: the page keeps polling while any file is. */
export function isSettled(v: DropView): boolean {
  if (v.status === 'uploading' || v.status === 'processing') return false;
  return !(v.status === 'ready' && v.thumbnail === 'pending');
}

export function collectionTitle(v: CollectionPageView): string {
  return v.title ?? (v.drops.length === 1 ? '1 file' : `${v.drops.length} files`);
}

function thumb(d: DropView): SafeHtml {
  const small = [...d.thumbnails].sort((a, b) => a.width - b.width)[0];
  if (d.status === 'ready' && d.thumbnail === 'ready' && small) {
    const w = 64;
    const h = Math.max(1, Math.round((small.height / small.width) * w));
    return html`<img class="file-thumb" src="/d/${d.id}/thumb/${small.width}" width="${w}" height="${h}" alt="">`;
  }
  const kind = fileKind(d.type, d.name);
  return html`<div class="file-icon file-icon-small file-icon-${kind}" aria-hidden="true"><span>${kind}</span></div>`;
}

function row(d: DropView): SafeHtml {
  const live = downloadable(d.status);
  const gone = !live && d.status !== 'uploading';
  return html`<li class="file" data-drop-id="${d.id}" data-status="${d.status}" data-thumbnail="${d.thumbnail}" data-name="${d.name}" data-size="${d.size}"${live ? html` data-downloadable="true"` : ''}>
<div class="file-preview">${thumb(d)}</div>
<div class="file-text"><a class="file-name" href="/d/${d.id}">${d.name}</a>
<span class="file-facts">${gone ? '' : html`<span class="file-size">${formatBytes(d.size)}</span> · `}<span class="file-status status-${d.status}">${FILE_STATUS[d.status]}</span></span></div>
${live ? html`<a class="button small file-download" href="/d/${d.id}/download" download>Download <span class="visually-hidden">${d.name}</span></a>` : ''}
</li>`;
}

function summary(v: CollectionPageView): SafeHtml {
  const ready = v.drops.filter((d) => downloadable(d.status));
  const total = ready.reduce((n, d) => n + d.size, 0);
  const waiting = v.drops.filter((d) => d.status === 'uploading').length;
  const parts = [`${v.drops.length === 1 ? '1 file' : `${v.drops.length} files`}`];
  if (ready.length) parts.push(`${formatBytes(total)} to download`);
  if (waiting) parts.push(`${waiting} still uploading`);
  return html`<p class="summary" id="summary">${parts.join(' · ')}</p>`;
}

export function renderCollectionPage(v: CollectionPageView, assets: EntryAssets): string {
  const live = v.drops.some((d) => !isSettled(d));
  const any = v.drops.some((d) => downloadable(d.status));
  const title = collectionTitle(v);
  const body = html`<main class="share collection" id="collection" data-collection-id="${v.id}"${live ? html` data-live="true"` : ''}>
<article class="card">
<h1 class="name" id="name">${title}</h1>
${summary(v)}
<div class="actions" id="collection-actions"><button type="button" class="button primary" id="download-all" hidden${any ? '' : html` disabled`}>Download all</button></div>
<p class="status zip-status" id="zip-status" role="status" aria-live="polite" hidden></p>
<ul class="files" id="files">
${v.drops.map(row)}</ul>
${v.drops.length === 0 ? html`<p class="status" id="empty">Nothing in this collection yet. This page updates by itself.</p>` : ''}
</article>
</main>`;
  const meta = html`<meta property="og:type" content="website">
<meta property="og:site_name" content="dropship">
<meta property="og:title" content="${title}">
<meta property="og:description" content="${v.drops.length === 1 ? '1 file' : `${v.drops.length} files`} · shared with dropship">
<meta property="og:url" content="${v.shareUrl}">
<meta name="twitter:card" content="summary">
`;
  return layout({ title: `${title} · dropship`, assets, body, bodyClass: 'page-collection', meta });
}

const ERROR_WORDS: Record<string, { title: string; text: string }> = {
  COLLECTION_NOT_FOUND: { title: 'No such collection', text: 'The link may be mistyped, or the collection was never created here.' },
  COLLECTION_DELETED: { title: 'This collection was deleted', text: 'Its owner deleted it and the files in it.' },
  COLLECTION_EXPIRED: { title: 'This collection has expired', text: 'Every file in it has expired; they are gone.' },
};

/** A browser's error page for a collection link: its status in words. */
export function renderCollectionErrorPage(assets: EntryAssets, e: { status: number; code: string; message: string }): string {
  const words = ERROR_WORDS[e.code] ?? { title: e.status >= 500 ? 'Something went wrong' : 'This did not work', text: e.message };
  const body = html`<main class="share" id="share" data-error="${e.code}">
<article class="card">
<h1 class="name">${words.title}</h1>
<p class="status">${words.text}</p>
<div class="actions"><a class="button" href="/">Share a file</a></div>
</article>
</main>`;
  return layout({ title: `${words.title} · dropship`, assets, body, bodyClass: 'page-error' });
}
