/** The README is part of the product: its commands must exist and its config table be current. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { describeConfig } from '../../src/config.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  scripts: Record<string, string>;
};

describe('README', () => {
  it('names only npm scripts that exist', () => {
    const named = [...readme.matchAll(/npm run ([a-z][\w:-]*)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(3);
    for (const s of new Set(named)) expect(pkg.scripts, `npm run ${s}`).toHaveProperty(s);
    expect(readme).toContain('npm test');
    expect(pkg.scripts).toHaveProperty('test');
  });

  it('documents every configuration variable with its default', () => {
    for (const c of describeConfig()) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${c.name}\` |`));
      expect(row, c.name).toBeDefined();
      if (c.default !== '') expect(row).toContain(`\`${String(c.default)}\``);
    }
  });
});
