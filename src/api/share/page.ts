/**
 * The share page (GET /d/:id) and the 404 page, rendered on the server from the drop's
 * manifest. User-controlled strings (name, type) only ever pass through `html`, which
 * escapes them; the file itself is never shown as HTML — only its WebP thumbnails are.
 *
 * The page works without JavaScript. Its small script (src/web/share.ts, external, from our
 * origin) listens to /v1/drops/:id/events and, when the status changes, fetches this page
 * again and swaps the parts marked with ids, so there is one renderer: this one.
 */
import type { DropView, ProtectedDropView } from '../schemas/drops.js';
import { formatBytes, formatDateTime, formatTimeUntil } from '../../core/format.js';
import { html, type SafeHtml } from './html.js';
import type { EntryAssets } from './assets.js';

const STATUS_TEXT: Record<DropView['status'], string> = {
  uploading: 'Still uploading. This page updates by itself when the file is ready.',
  processing: 'Upload complete, preparing the preview. You can already download the file.',
  ready: 'Ready to download.',
  failed: 'This upload failed: the file did not arrive intact and cannot be downloaded.',
  cancelled: 'This drop was deleted by its owner.',
  expired: 'This upload was never finished and has expired.',
};

/** What the page says about the drop's status; an expired drop that was finished outlived its lifetime. */
function statusText(v: DropView): string {
  if (v.status === 'expired' && v.completedAt) return 'This drop has expired: its file is no longer available.';
  if (v.status === 'cancelled' && !v.completedAt) return 'This upload was cancelled before it finished: there is no file.';
  return STATUS_TEXT[v.status];
}

const downloadable = (s: DropView['status']) => s === 'processing' || s === 'ready';

/** A coarse kind for the icon shown when there is no thumbnail. */
export function fileKind(type: string, name: string): string {
  const [major = ''] = type.split('/');
  if (['image', 'video', 'audio', 'text'].includes(major)) return major;
  if (type === 'application/pdf') return 'pdf';
  if (/zip|tar|gzip|x-7z|rar|bzip|xz|compress/.test(type)) return 'archive';
  if (/\.(zip|tar|gz|tgz|7z|rar|bz2|xz)$/i.test(name)) return 'archive';
  return 'file';
}

function extensionOf(name: string): string {
  const m = /\.([A-Za-z0-9]{1,5})$/.exec(name);
  return m ? m[1]!.toUpperCase() : '';
}

/**
 * Link previews for chat apps and social sites (Open Graph, Twitter cards): the file's name,
 * size and type, and its thumbnail once there is one. Unfurlers fetch the thumbnail route,
 * which never counts against maxDownloads. A drop whose file is gone says only that.
 */
function linkPreview(v: DropView): SafeHtml {
  const live = v.status === 'uploading' || v.status === 'processing' || v.status === 'ready';
  const title = live ? v.name : 'This drop is no longer available';
  const description = live ? `${formatBytes(v.size)} · ${v.type}${v.status === 'uploading' ? ' · still uploading' : ''} · shared with dropship` : statusText(v);
  const thumbs = [...v.thumbnails].sort((a, b) => a.width - b.width);
  const image = v.status === 'ready' && v.thumbnail === 'ready' ? thumbs.at(-1) : undefined;
  return html`<meta property="og:type" content="website">
<meta property="og:site_name" content="dropship">
<meta property="og:title" content="${title}">
<meta property="og:description" content="${description}">
<meta property="og:url" content="${v.shareUrl}">
${image ? html`<meta property="og:image" content="${image.url}">
<meta property="og:image:width" content="${image.width}">
<meta property="og:image:height" content="${image.height}">
<meta property="og:image:alt" content="Preview of ${v.name}">
` : ''}<meta name="twitter:card" content="${image ? 'summary_large_image' : 'summary'}">
`;
}

export function layout(opts: { title: string; assets: EntryAssets; body: SafeHtml; bodyClass: string; meta?: SafeHtml }): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>${opts.title}</title>
${opts.meta ?? ''}${opts.assets.icon ? html`<link rel="icon" href="${opts.assets.icon}" type="image/svg+xml">\n` : ''}${opts.assets.styles.map((href) => html`<link rel="stylesheet" href="${href}">\n`)}${opts.assets.scripts.map(
    (src) => html`<script type="module" src="${src}"></script>\n`,
  )}</head>
<body class="${opts.bodyClass}">
<header class="brand"><a href="/">dropship</a></header>
${opts.body}
</body>
</html>
`.value;
}

function preview(v: DropView): SafeHtml {
  const thumbs = [...v.thumbnails].sort((a, b) => a.width - b.width);
  if (v.status === 'ready' && v.thumbnail === 'ready' && thumbs.length) {
    // The largest thumbnail sets the box (its aspect ratio), srcset lets phones fetch the small one.
    const largest = thumbs.at(-1)!;
    const src = `/d/${v.id}/thumb/${largest.width}`;
    const srcset = thumbs.map((t) => `/d/${v.id}/thumb/${t.width} ${t.width}w`).join(', ');
    return html`<figure class="preview" id="preview"><img id="thumbnail" src="${src}" srcset="${srcset}" sizes="(max-width: 40rem) 100vw, 36rem" width="${largest.width}" height="${largest.height}" alt="Preview of ${v.name}"></figure>`;
  }
  const kind = fileKind(v.type, v.name);
  const pending = v.thumbnail === 'pending' && (v.status === 'processing' || v.status === 'uploading') && kind === 'image';
  return html`<figure class="preview preview-icon" id="preview"><div class="file-icon file-icon-${kind}" aria-hidden="true"><span>${extensionOf(v.name) || kind}</span></div>${
    pending ? html`<figcaption>Preview on its way…</figcaption>` : ''
  }</figure>`;
}

function actions(v: DropView): SafeHtml {
  if (downloadable(v.status)) {
    return html`<div class="actions" id="actions"><a class="button primary" id="download" href="/d/${v.id}/download" download>Download <span class="visually-hidden">${v.name}</span> (${formatBytes(v.size)})</a></div>`;
  }
  if (v.status === 'uploading') {
    return html`<div class="actions" id="actions"><span class="button disabled" id="download" role="link" aria-disabled="true">Download (available once uploaded)</span></div>`;
  }
  return html`<div class="actions" id="actions"><a class="button" href="/">Share a file of your own</a></div>`;
}

/** When the drop was uploaded and when it expires ("in 3 days"), for a drop whose file is there. */
function dates(v: DropView, now: Date): SafeHtml {
  const expires = v.expiresAt ? Date.parse(v.expiresAt) - now.getTime() : undefined;
  return html`<div><dt>Uploaded</dt><dd><time datetime="${v.createdAt}">${formatDateTime(v.createdAt)}</time></dd></div>
${v.expiresAt && expires !== undefined && expires > 0 ? html`<div><dt>Expires</dt><dd><time datetime="${v.expiresAt}" title="${formatDateTime(v.expiresAt)}">${formatTimeUntil(expires)}</time></dd></div>` : ''}`;
}

/** `now`: the server's clock, for "Expires in …". */
export function renderSharePage(v: DropView, assets: EntryAssets, opts: { now: Date } = { now: new Date() }): string {
  const live = v.status === 'uploading' || v.status === 'processing';
  // A deleted, failed or expired drop has no file to describe (a cancelled upload never had one).
  const gone = !live && v.status !== 'ready';
  const body = html`<main class="share" id="share" data-drop-id="${v.id}" data-status="${v.status}"${live ? html` data-live="true"` : ''}>
<article class="card">
${preview(v)}
<h1 class="name" id="name">${v.name}</h1>
<dl class="facts" id="facts">${gone ? '' : html`<div><dt>Size</dt><dd>${formatBytes(v.size)}${v.size >= 1024 ? html` <span class="bytes">(${v.size.toLocaleString('en-US')} bytes)</span>` : ''}</dd></div>
<div><dt>Type</dt><dd>${v.type}</dd></div>
${v.width && v.height ? html`<div><dt>Dimensions</dt><dd>${v.width} × ${v.height}</dd></div>` : ''}
${dates(v, opts.now)}`}</dl>
<p class="status status-${v.status}" id="status" role="status" aria-live="polite">${statusText(v)}</p>
${actions(v)}
</article>
</main>`;
  return layout({ title: `${v.name} · dropship`, assets, body, bodyClass: 'page-share', meta: linkPreview(v) });
}

/**
 * A password-protected drop before it is unlocked: a password form and nothing about the
 * file — no name, size, type, thumbnail, dates or link preview beyond a generic title. The
 * form is a plain POST (works without JavaScript; the password never goes into a URL).
 */
export function renderLockedPage(
  v: ProtectedDropView | { id: string; protected: true },
  assets: EntryAssets,
  opts: { error?: string; kind?: 'drop' | 'collection' } = {},
): string {
  const collection = opts.kind === 'collection';
  const what = collection ? 'collection' : 'file';
  const heading = collection ? 'Password-protected collection' : 'Password-protected file';
  const body = html`<main class="share" id="share" ${collection ? html`data-collection-id="${v.id}"` : html`data-drop-id="${v.id}"`}${'status' in v ? html` data-status="${v.status}"` : ''} data-protected="true">
<article class="card">
<figure class="preview preview-icon" id="preview"><div class="file-icon file-icon-file" aria-hidden="true"><span>Locked</span></div></figure>
<h1 class="name" id="name">${heading}</h1>
<p class="status" id="status">Enter the password you were given to see and download ${collection ? 'the files in this collection' : 'this file'}.</p>
<form class="unlock" id="unlock" method="post" action="/${collection ? 'c' : 'd'}/${v.id}/unlock">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required minlength="4" maxlength="256"${opts.error ? html` aria-invalid="true" aria-describedby="unlock-error"` : ''} autofocus>
${opts.error ? html`<p class="unlock-error" id="unlock-error" role="alert">${opts.error}</p>
` : ''}<button class="button primary" id="unlock-button" type="submit">Unlock</button>
</form>
</article>
</main>`;
  const meta = html`<meta property="og:type" content="website">
<meta property="og:site_name" content="dropship">
<meta property="og:title" content="A password-protected ${what}">
<meta name="twitter:card" content="summary">
`;
  return layout({ title: `${heading} · dropship`, assets, body, bodyClass: 'page-share page-locked', meta });
}

export function renderNotFoundPage(assets: EntryAssets): string {
  const body = html`<main class="share" id="share">
<article class="card">
<h1 class="name">No such drop</h1>
<p class="status">The link may be mistyped, or the drop was never created here.</p>
<div class="actions"><a class="button" href="/">Share a file</a></div>
</article>
</main>`;
  return layout({ title: 'Not found · dropship', assets, body, bodyClass: 'page-missing' });
}

/** What a person reads when a browser route fails: a title and a sentence per code. */
const ERROR_WORDS: Record<string, { title: string; text?: string }> = {
  DROP_NOT_FOUND: { title: 'No such drop', text: 'The link may be mistyped, or the drop was never created here.' },
  ROUTE_NOT_FOUND: { title: 'No such page', text: 'The link may be mistyped.' },
  THUMBNAIL_NOT_FOUND: { title: 'No preview', text: 'This drop has no preview of that size.' },
  DROP_NOT_READY: { title: 'Not available', text: 'This file cannot be downloaded: it is still uploading, or it failed or was deleted.' },
  DROP_EXPIRED: { title: 'This drop has expired', text: 'Its owner chose how long it would live; the file is gone.' },
  DOWNLOAD_LIMIT_REACHED: { title: 'Download limit reached', text: 'This file could be downloaded only a set number of times, and it has been.' },
  RATE_LIMITED: { title: 'Too many requests', text: 'Please wait a minute, then reload the page.' },
  PASSWORD_REQUIRED: { title: 'Password required', text: 'This file is password-protected: open its share link and enter the password first.' },
  PASSWORD_INVALID: { title: 'Not a valid password', text: 'Passwords are 4 to 256 characters long. Go back and try again.' },
  CROSS_SITE_REFUSED: { title: 'Refused', text: 'This form can only be sent from its own page.' },
  STORAGE_BUSY: { title: 'Busy', text: 'Many people are downloading this right now. Reload in a few seconds.' },
  STORAGE_UNAVAILABLE: { title: 'Temporarily unavailable', text: 'Storage is not answering right now. Reload in a few seconds.' },
};

/** A browser's error page: the status in words, never JSON (docs/api.md, "Pages for people"). */
export function renderErrorPage(assets: EntryAssets, e: { status: number; code: string; message: string }): string {
  const words = ERROR_WORDS[e.code] ?? { title: e.status >= 500 ? 'Something went wrong' : 'This did not work', text: e.message };
  const body = html`<main class="share" id="share" data-error="${e.code}">
<article class="card">
<h1 class="name">${words.title}</h1>
<p class="status">${words.text ?? e.message}</p>
<div class="actions"><a class="button" href="/">Share a file</a></div>
</article>
</main>`;
  return layout({ title: `${words.title} · dropship`, assets, body, bodyClass: 'page-error' });
}
