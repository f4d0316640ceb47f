/**
 * Global setup for the e2e project: builds the SPA (src/web → src/web/dist, which the api
 * serves) and the Uppy test page (test/e2e/uppy-page → test/e2e/artifacts/uppy-page) with
 * Vite, so the browser tests always run against the current sources. Both builds take a
 * few seconds together.
 */
import { build } from 'vite';
import { fileURLToPath } from 'node:url';

const path = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

export async function setup() {
  await build({ configFile: path('src/web/vite.config.ts'), logLevel: 'warn' });
  await build({
    configFile: false,
    root: path('test/e2e/uppy-page'),
    base: '/uppy/',
    logLevel: 'warn',
    build: { outDir: path('test/e2e/artifacts/uppy-page'), emptyOutDir: true, target: 'es2022' },
  });
}
