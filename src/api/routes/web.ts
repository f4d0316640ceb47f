/**
 * The SPA (src/web, built by Vite into src/web/dist): `/` answers its index.html under a
 * strict CSP, `/assets/*` its content-hashed files (cached for a year: a new build has new
 * names). Before the first build `/` says how to build instead of failing obscurely.
 */
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { join } from 'node:path';
import { Type } from 'typebox';
import { pagePolicies } from '../share/csp.js';
import { html } from '../share/html.js';
import type { WebAssets } from '../share/assets.js';
import { usageText, wantsPlainText } from '../../core/user-agents.js';
import { formatBytes } from '../../core/format.js';

const HtmlPage = { content: { 'text/html': { schema: Type.String() }, 'text/plain': { schema: Type.String() } } };

const notBuilt = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dropship</title></head>
<body><h1>The web app is not built yet</h1>
<p>Run <code>node node_modules/vite/bin/vite.js build --config src/web/vite.config.ts</code>
(or <code>npm run dev</code>, which builds it), then reload.</p></body></html>
`.value;

export default async function webRoutes(app: FastifyInstance, opts: { assets: WebAssets }) {
  const { assets } = opts;
  const csp = pagePolicies(app.config);

  await app.register(fastifyStatic, {
    root: join(assets.dir, 'assets'),
    prefix: '/assets/',
    // The folder appears with the first build; until then requests are plain 404s.
    suppressWarning: true,
    dotfiles: 'deny',
    index: false,
    cacheControl: true,
    maxAge: '365d',
    immutable: true,
    // Hashed files only: an unknown name is a 404, never a directory listing.
    list: false,
  });

  app.get(
    '/',
    {
      // Hidden from the OpenAPI document: a page for browsers (HTML, then its scripts call the
      // api documented there) and usage text for shells, nothing a program integrates with.
      schema: {
        hide: true,
        summary: 'The upload app (HTML); command-line clients (curl, Wget, HTTPie) get plain-text usage',
        produces: ['text/html', 'text/plain'],
        response: { 200: HtmlPage, 503: HtmlPage },
      },
    },
    async (req, reply) => {
      // curl, Wget, HTTPie: how to use the service from a shell, not the app's HTML.
      const accept = req.headers.accept;
      if (wantsPlainText(req.headers['user-agent'], typeof accept === 'string' ? accept : undefined)) {
        return reply
          .header('content-type', 'text/plain; charset=utf-8')
          .header('cache-control', 'no-cache')
          .header('vary', 'user-agent, accept')
          .send(usageText(app.config.publicUrl, { keyRequired: !app.config.DROPSHIP_PUBLIC_UPLOADS, maxStreamBytes: formatBytes(app.config.DROPSHIP_STREAM_MAX_SIZE) }));
      }
      reply.header('vary', 'user-agent, accept');
      const page = assets.indexHtml();
      reply
        .header('content-type', 'text/html; charset=utf-8')
        // Always revalidate: index.html names the current build's hashed files.
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff');
      if (page === undefined) {
        return reply.status(503).header('content-security-policy', csp.plain).header('retry-after', '5').send(notBuilt);
      }
      return reply.header('content-security-policy', csp.spa).send(page);
    },
  );
}
