/**
 * cfn-lint (from PyPI) on a synthesized template. The first use creates deploy/.venv
 * (git-ignored) from the pinned requirements.txt, as localstack/emulator.ts does for LocalStack;
 * later runs reuse it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findPython } from '../localstack/emulator.js';

const here = dirname(fileURLToPath(import.meta.url));
const venv = join(here, '.venv');
const bin = join(venv, 'bin');
const requirements = join(here, 'requirements.txt');
const stamp = join(venv, '.dropship-installed');

export function ensureCfnLint(log: (m: string) => void = console.error): string {
  const want = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  const cfnLint = join(bin, 'cfn-lint');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want && existsSync(cfnLint)) return cfnLint;
  log('cfn-lint: installing (pinned, from PyPI) into deploy/.venv — first run only...');
  rmSync(venv, { recursive: true, force: true });
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`cfn-lint install failed: ${cmd} ${args.join(' ')} exited ${r.status}`);
  };
  run(findPython(), ['-m', 'venv', venv]);
  run(join(bin, 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', '-q', '-r', requirements]);
  writeFileSync(stamp, want);
  return cfnLint;
}

export interface LintMatch {
  Level: string;
  Message: string;
  Rule: { Id: string };
  Location: { Path: (string | number)[] };
}

/** Every match cfn-lint reports for the template (errors, warnings and informational), checked for these regions. */
export function cfnLint(template: unknown, regions: string[]): LintMatch[] {
  const exe = ensureCfnLint();
  const dir = mkdtempSync(join(tmpdir(), 'dropship-cfn-'));
  try {
    const file = join(dir, 'template.json');
    writeFileSync(file, JSON.stringify(template, null, 1));
    const r = spawnSync(exe, ['--format', 'json', '--regions', ...regions, '--', file], { encoding: 'utf8' });
    // Exit codes are a bit mask of the levels found (2 errors, 4 warnings, 8 informational); 1 is a failure of its own.
    if (r.status === null || r.status === 1 || !r.stdout.trim().startsWith('[')) {
      throw new Error(`cfn-lint did not run (exit ${r.status}): ${r.stderr || r.stdout}`);
    }
    return JSON.parse(r.stdout) as LintMatch[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
