/** docs/api.md documents every error code with its status, and no code the server does not have. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ERRORS } from '../../src/core/errors.js';

const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');

describe('docs/api.md', () => {
  it.each(Object.entries(ERRORS))('documents %s as %i', (code, status) => {
    expect(doc).toMatch(new RegExp(`^\\| \`${code}\` \\| ${status} \\|`, 'm'));
  });

  it('lists only codes the server answers with (the catalogue in src/core/errors.ts)', () => {
    const documented = [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| (\d{3}) \|/gm)].map((m) => m[1]!);
    expect(documented.length).toBeGreaterThan(10);
    expect(documented.filter((c) => !(c in ERRORS))).toEqual([]);
  });
});
