/**
 * Global setup for the integration project: compiles src/ into dist/ (tsc, as `npm run build`
 * does, without the SPA), because bin/dropship.js and `npm start` run the compiled code: the
 * CLI and process tests must run what users run, built from the current sources, never a dist/
 * left over from an earlier build. `--noCheck` only skips type checking (the emitted code is
 * the same; `npm run typecheck` is its own step) and makes this take about 2 s instead of 4.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export async function setup() {
  try {
    await promisify(execFile)(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--noCheck'], { cwd: root });
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`compiling src/ into dist/ failed:\n${stdout ?? ''}${stderr ?? ''}`, { cause: e });
  }
}
