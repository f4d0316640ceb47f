/**
 * The `dropship` command installed outside the checkout, as a user installs it: `npm pack`
 * (its prepack compiles dist/), the tarball installed globally into a scratch prefix, and the
 * installed command run from a directory of its own with a PATH that has node and nothing of
 * the checkout — against a listening api on the emulator. Also `npm install -g <checkout>`,
 * which links the checkout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256, startApi, type TestApi } from '../support/app.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const version = (JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string }).version;
// node (the one running the tests, >= 22) and the system's tools; nothing of the checkout.
const PATH = [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter);

let dir: string;
let s: TestApi;

function run(file: string, args: string[], opts: { cwd: string; env?: Record<string, string>; timeout?: number }) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd, env: { HOME: process.env.HOME ?? dir, PATH, NO_COLOR: '1', ...opts.env }, maxBuffer: 16 * 1024 ** 2, timeout: opts.timeout ?? 240_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
const npm = (args: string[], cwd: string, timeout?: number) =>
  run('npm', [...args, '--no-audit', '--no-fund', '--no-update-notifier'], { cwd, ...(timeout ? { timeout } : {}) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dropship-install-'));
  s = await startApi();
});
afterAll(async () => {
  await s?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npm pack, then npm install -g of the tarball', () => {
  let bin: string;
  let installed: string;
  let packOutput: string;
  let installOutput: string;

  beforeAll(async () => {
    const packed = await npm(['pack', '--pack-destination', dir, '--json'], root);
    expect(packed.code, packed.stderr).toBe(0);
    const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
    packOutput = packed.stderr;
    const prefix = join(dir, 'prefix');
    // Installing resolves the dependencies' version ranges against the registry (a tarball has
    // no lockfile): a stalled registry request is outside our control, so a stalled or failed
    // install is tried once more before the test fails, with everything npm said.
    let install = await npm(['install', '-g', '--prefix', prefix, join(dir, filename), '--prefer-offline'], dir, 150_000);
    if (install.code !== 0) install = await npm(['install', '-g', '--prefix', prefix, join(dir, filename), '--prefer-offline'], dir, 150_000);
    expect(install.code, `${install.stdout}\n${install.stderr}`).toBe(0);
    installOutput = install.stdout + install.stderr;
    bin = join(prefix, 'bin', 'dropship');
    installed = join(prefix, 'lib', 'node_modules', 'dropship');
  }, 600_000);

  it('installs a self-contained copy, quietly: no engine or install-script warnings under Node 22+', () => {
    expect(installOutput).not.toMatch(/EBADENGINE|install-scripts|npm warn/i);
    expect(packOutput).not.toMatch(/npm warn/i);
    expect(realpathSync(bin).startsWith(realpathSync(installed))).toBe(true);
    // the compiled code only: no sources, no tests, no tooling
    expect(readdirSync(installed).sort()).toEqual(['README.md', 'bin', 'dist', 'node_modules', 'package.json']);
    expect(readdirSync(join(installed, 'dist'))).toEqual(['src']);
    expect(existsSync(join(installed, 'dist', 'src', 'cli', 'main.js'))).toBe(true);
    const deps = readdirSync(join(installed, 'node_modules'));
    for (const dev of ['tsx', 'typescript', 'vitest', 'eslint', 'vite', 'playwright-core']) expect(deps).not.toContain(dev);
  });

  it('dropship --version and --help work from anywhere', async () => {
    const v = await run(bin, ['--version'], { cwd: dir });
    expect(v).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const help = await run(bin, ['--help'], { cwd: dir });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/upload/);
  });

  it('uploads a file to a running server and downloads the same bytes', async () => {
    const data = randomBytes(300_000);
    await writeFile(join(dir, 'report.bin'), data);
    const env = { DROPSHIP_URL: s.base, XDG_STATE_HOME: join(dir, 'state') };
    const up = await run(bin, ['upload', 'report.bin'], { cwd: dir, env });
    expect(up.code, up.stderr).toBe(0);
    const link = up.stdout.trim();
    expect(link).toMatch(new RegExp(`^${s.base}/d/[\\w-]+$`));
    const down = await run(bin, ['download', link, '-o', 'copy.bin'], { cwd: dir, env });
    expect(down.code, down.stderr).toBe(0);
    expect(sha256(await readFile(join(dir, 'copy.bin')))).toBe(sha256(data));
  });
});

describe('npm install -g of the checkout', () => {
  it('links the built checkout: dropship runs its dist/', async () => {
    const prefix = join(dir, 'linked');
    const install = await npm(['install', '-g', '--prefix', prefix, root, '--prefer-offline'], dir);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout + install.stderr).not.toMatch(/EBADENGINE|install-scripts/);
    const v = await run(join(prefix, 'bin', 'dropship'), ['--version'], { cwd: dir });
    expect(v).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});
