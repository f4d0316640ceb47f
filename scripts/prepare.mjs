// `node scripts/prepare.mjs dev|test`: installs what a fresh machine lacks before `npm run dev`
// or `npm test` run, and says what it does. Node 22+ is already ensured by scripts/node.sh.
//   - dependencies, when node_modules is absent or older than package-lock.json (`npm ci`);
//   - for `test`: Chromium for the e2e project (Debian's package via apt-get when running as
//     root; otherwise one line saying what to install).
// LocalStack is installed by the emulator launcher itself (localstack/emulator.ts), on first use.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { browserCandidates, browserPlan, needsInstall } from './prepare-plan.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const what = process.argv[2];
if (what !== 'dev' && what !== 'test') {
  console.error('usage: node scripts/prepare.mjs dev|test');
  process.exit(64);
}
const say = (m) => console.error(`dropship: ${m}`);
const mtime = (p) => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return undefined;
  }
};
const run = (cmd, args) => {
  say(`running ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) {
    say(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal}).`);
    process.exit(r.status || 1);
  }
};

if (needsInstall({ lockMtimeMs: mtime(join(root, 'package-lock.json')) ?? 0, installedMtimeMs: mtime(join(root, 'node_modules/.package-lock.json')) })) {
  say('installing dependencies (node_modules is missing or older than package-lock.json)...');
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error']);
}

if (what === 'test') {
  const executable = (p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  const plan = browserPlan({ found: browserCandidates(process.env).find(executable), root: process.getuid?.() === 0, apt: hasApt });
  if (plan.action === 'apt') {
    say('installing Chromium for the browser tests (Debian package)...');
    run('apt-get', ['update']);
    run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium']);
  } else if (plan.action === 'ask') {
    console.error(plan.message);
    process.exit(1);
  }
}
