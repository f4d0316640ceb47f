/** The SPA bundles src/client/index.ts: nothing it loads at runtime may need Node. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Runtime imports of a module (type-only imports are erased by the build and skipped). */
function runtimeImports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) {
    if (!m[1]) out.push(m[2]!);
  }
  return out;
}

describe('src/client/index.ts is browser-safe', () => {
  it('loads no node: module and no package at runtime, directly or through its own files', () => {
    const seen = new Set<string>();
    const offending: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of runtimeImports(file)) {
        if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
        else offending.push(`${file}: ${spec}`);
      }
    };
    visit(resolve('src/client/index.ts'));
    expect(seen.size).toBeGreaterThan(5);
    expect([...seen].some((f) => f.endsWith('node.ts'))).toBe(false);
    expect(offending).toEqual([]);
  });
});
