/**
 * Global setup for the e2e project: builds the SPA (src/web → src/web/dist, which the api
 * serves) and the Uppy test page (test/e2e/uppy-page → test/e2e/artifacts/uppy-page) with
 * Vite, so the browser tests always run against the current sources.
 *
 * Each build goes to a scratch folder that then replaces the old output in two renames, so a
 * dev server or another test run serving the same folder never sees it half-written.
 */
import { build } from 'vite';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const path = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const scratch = (name: string) => path(`test/e2e/artifacts/.build-${name}-${process.pid}`);

function replace(target: string, fresh: string) {
  const old = `${fresh}-old`;
  if (existsSync(target)) renameSync(target, old);
  renameSync(fresh, target);
  rmSync(old, { recursive: true, force: true });
}

export async function setup() {
  mkdirSync(path('test/e2e/artifacts'), { recursive: true });
  const spa = scratch('web');
  await build({ configFile: path('src/web/vite.config.ts'), logLevel: 'warn', build: { outDir: spa } });
  replace(path('src/web/dist'), spa);

  const uppy = scratch('uppy');
  await build({
    configFile: false,
    root: path('test/e2e/uppy-page'),
    base: '/uppy/',
    logLevel: 'warn',
    build: { outDir: uppy, emptyOutDir: true, target: 'es2022' },
  });
  replace(path('test/e2e/artifacts/uppy-page'), uppy);
}
