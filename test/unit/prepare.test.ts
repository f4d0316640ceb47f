// What `npm run dev` and `npm test` install on a fresh machine before running (scripts/prepare.mjs).
import { describe, expect, it } from 'vitest';
import { browserCandidates, browserPlan, needsInstall } from '../../scripts/prepare-plan.mjs';

describe('needsInstall: dependencies are installed when missing or older than the lockfile', () => {
  it.each([
    { case: 'no node_modules', lock: 5_000, installed: undefined, install: true },
    { case: 'installed after the lockfile was written', lock: 5_000, installed: 9_000, install: false },
    { case: 'written in the same moment by npm install', lock: 5_600, installed: 5_000, install: false },
    { case: 'the lockfile changed later (git pull)', lock: 60_000, installed: 5_000, install: true },
  ])('$case → $install', ({ lock, installed, install }) => {
    expect(needsInstall({ lockMtimeMs: lock, installedMtimeMs: installed })).toBe(install);
  });
});

describe('browserPlan: where the browser tests get Chromium', () => {
  it('uses one that is there', () => {
    expect(browserPlan({ found: '/usr/bin/chromium', root: false, apt: false })).toEqual({ action: 'use', path: '/usr/bin/chromium' });
  });
  it("installs Debian's package when it may (root, apt-get present)", () => {
    expect(browserPlan({ found: undefined, root: true, apt: true })).toEqual({ action: 'apt' });
  });
  it.each([
    { root: false, apt: true },
    { root: true, apt: false },
  ])('otherwise says in one line what to install (root $root, apt $apt)', (s) => {
    const plan = browserPlan({ found: undefined, ...s });
    expect(plan.action).toBe('ask');
    const message = (plan as { message: string }).message;
    expect(message).toContain('apt-get install chromium');
    expect(message).toContain('DROPSHIP_CHROMIUM');
    expect(message).not.toContain('\n');
  });
  it('looks at DROPSHIP_CHROMIUM first', () => {
    expect(browserCandidates({ DROPSHIP_CHROMIUM: '/opt/c/chrome' })[0]).toBe('/opt/c/chrome');
    expect(browserCandidates({})).toEqual(['/usr/bin/chromium', '/usr/bin/chromium-browser']);
  });
});
