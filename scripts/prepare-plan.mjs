// What `npm run dev` and `npm test` must install before they can run: pure decisions, so
// they can be table-tested (test/unit/prepare.test.ts). scripts/prepare.mjs carries them out.
// Plain JavaScript with no dependencies: it runs before node_modules exists.

/**
 * Whether the dependencies must be (re)installed: node_modules is absent, or npm's record of
 * the installed tree (node_modules/.package-lock.json) is older than package-lock.json.
 * A second of slack: `npm install` writes both files in the same moment.
 * @param {{ lockMtimeMs: number, installedMtimeMs: number | undefined }} s
 */
export function needsInstall({ lockMtimeMs, installedMtimeMs }) {
  if (installedMtimeMs === undefined) return true;
  return lockMtimeMs > installedMtimeMs + 1000;
}

/**
 * How to get a browser for the e2e project.
 * @param {{ found: string | undefined, root: boolean, apt: boolean }} s
 * @returns {{ action: 'use', path: string } | { action: 'apt' } | { action: 'ask', message: string }}
 */
export function browserPlan({ found, root, apt }) {
  if (found) return { action: 'use', path: found };
  if (root && apt) return { action: 'apt' };
  return {
    action: 'ask',
    message:
      'dropship: the browser tests need Chromium. Install it (Debian/Ubuntu: `sudo apt-get install chromium`) ' +
      'or point DROPSHIP_CHROMIUM at a Chromium binary, then run `npm test` again.',
  };
}

/** The Chromium binaries looked for, in order: DROPSHIP_CHROMIUM, then the usual Debian paths. */
export function browserCandidates(env) {
  return [env.DROPSHIP_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
}
