/**
 * Builds the SPA (index.html → main.ts), the share page's script (share.ts) and the
 * collection page's (collection.ts) into
 * src/web/dist, which the api serves: `/` and `/assets/*` (src/api/routes/web.ts). The
 * manifest (dist/.vite/manifest.json) tells the server-rendered share page which hashed
 * files belong to share.ts.
 *
 *   node node_modules/vite/bin/vite.js build --config src/web/vite.config.ts [--watch]
 */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  // No public/ folder: every file goes through the build and gets a content hash.
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    manifest: true,
    sourcemap: true,
    target: 'es2022',
    // Keep small icons as files: a data: URL in CSS would need img-src data: on the share page.
    assetsInlineLimit: 0,
    rolldownOptions: {
      input: { main: here('./index.html'), share: here('./share.ts'), collection: here('./collection.ts') },
    },
  },
});
