/**
 * The built web app (src/web, built by Vite into src/web/dist): where it is, its index.html
 * and which hashed files belong to an entry (from Vite's manifest). The build can appear or
 * change while the api runs (`npm run dev` rebuilds it in watch mode), so files are re-read
 * when their modification time changes instead of once at start-up.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Source path of an entry in the Vite manifest → its output files. */
interface ViteManifestEntry {
  file: string;
  css?: string[];
  isEntry?: boolean;
}

export interface EntryAssets {
  scripts: string[];
  styles: string[];
  icon?: string;
}

export interface WebAssets {
  readonly dir: string;
  /** index.html of the SPA, or undefined when the app has not been built. */
  indexHtml(): string | undefined;
  /** Public URLs (/assets/...) of an entry's script and styles; empty when not built. */
  entry(source: string): EntryAssets;
  /** Public URL of any other built file (an icon, say), by its source path. */
  file(source: string): string | undefined;
}

/**
 * src/web/dist of this checkout: next to this file when the sources run (tsx, vitest), or
 * four levels up when it runs compiled (dist/src/api/share/assets.js); the right one is the
 * one whose parent holds the SPA's sources (index.html).
 */
export function defaultWebDir(): string {
  const candidates = ['../../web/dist', '../../../../src/web/dist'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  return candidates.find((dir) => existsSync(join(dir, '..', 'index.html'))) ?? candidates[0]!;
}

function cachedFile<T>(path: string, parse: (text: string) => T): () => T | undefined {
  let cache: { mtimeMs: number; value: T } | undefined;
  return () => {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(path).mtimeMs;
    } catch {
      cache = undefined;
      return undefined;
    }
    if (!cache || cache.mtimeMs !== mtimeMs) {
      try {
        cache = { mtimeMs, value: parse(readFileSync(path, 'utf8')) };
      } catch {
        // Caught mid-rebuild (half-written file): report "not built" rather than fail the request.
        return undefined;
      }
    }
    return cache.value;
  };
}

export function webAssets(dir = defaultWebDir()): WebAssets {
  const index = cachedFile(join(dir, 'index.html'), (t) => t);
  const manifest = cachedFile(join(dir, '.vite', 'manifest.json'), (t) => JSON.parse(t) as Record<string, ViteManifestEntry>);
  return {
    dir,
    indexHtml: index,
    entry(source) {
      const e = manifest()?.[source];
      if (!e) return { scripts: [], styles: [] };
      return { scripts: [`/${e.file}`], styles: (e.css ?? []).map((c) => `/${c}`) };
    },
    file(source) {
      const e = manifest()?.[source];
      return e && `/${e.file}`;
    },
  };
}
