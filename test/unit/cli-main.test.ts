/**
 * The CLI's entry point as a person meets it: options before the command, a mistyped command,
 * an unreachable or throttled server, Ctrl-C and totals in the progress display. main() runs
 * in-process against small HTTP servers on 127.0.0.1 (the real api is in
 * test/integration/cli.test.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { hoistGlobals, main } from '../../src/cli/main.js';
import { createReporter, totalLabel } from '../../src/cli/render.js';
import { suggest } from '../../src/cli/suggest.js';
import type { Io } from '../../src/cli/io.js';

const ID = 'V1StGXR8_Z5jdHi6B-myT';

function fakeIo(signal = new AbortController().signal) {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[]) => Object.assign(new PassThrough(), { write: (c: string | Buffer) => (into.push(String(c)), true) });
  const io: Io = { stdout: sink(out), stderr: sink(err), env: { DROPSHIP_STATE_FILE: '/nonexistent/state.json' }, cwd: '/', signal };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}
const view = (base: string) => ({
  id: ID,
  status: 'ready',
  name: 'a.txt',
  size: 3,
  type: 'text/plain',
  createdAt: '2030-01-01T00:00:00.000Z',
  thumbnail: 'none',
  thumbnails: [],
  shareUrl: `${base}/d/${ID}`,
  downloadUrl: `${base}/d/${ID}/download`,
});

describe('global options before the command', () => {
  it.each([
    [['--server', 'http://x', 'upload', 'f'], ['upload', '--server', 'http://x', 'f']],
    [['--json', 'status', ID], ['status', '--json', ID]],
    [['-q', '--server=http://x', '--api-key', 'k', 'delete', ID], ['delete', '-q', '--server=http://x', '--api-key', 'k', ID]],
    [['status', '--json', ID], ['status', '--json', ID]],
    [['--help'], ['--help']],
    [['--version'], ['--version']],
  ])('%j is read as %j', (argv, expected) => {
    expect(hoistGlobals(argv)).toEqual(expected);
  });

  it('`dropship --server URL --json status ID` works like `dropship status ID --server URL --json`', async () => {
    const base = await serve((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(view('http://x')));
    });
    const t = fakeIo();
    expect(await main(['--server', base, '--json', 'status', ID], t.io)).toBe(0);
    expect(JSON.parse(t.stdout())).toMatchObject({ id: ID, status: 'ready' });
  });
});

describe('a mistyped command', () => {
  it.each([
    ['stauts', 'status'],
    ['uplaod', 'upload'],
    ['downlaod', 'download'],
    ['del', 'delete'],
    ['wiat', 'wait'],
  ])('"%s" suggests "%s" and exits 2', async (typed, meant) => {
    expect(suggest(typed, ['upload', 'status', 'wait', 'download', 'delete'])).toBe(meant);
    const t = fakeIo();
    expect(await main([typed, ID], t.io)).toBe(2);
    expect(t.stderr()).toContain(`unknown command "${typed}"; did you mean "${meant}"?`);
  });

  it('suggests nothing for a word that is not close to any command', async () => {
    expect(suggest('frobnicate', ['upload', 'status', 'wait', 'download', 'delete'])).toBeUndefined();
    const t = fakeIo();
    expect(await main(['frobnicate'], t.io)).toBe(2);
    expect(t.stderr()).not.toContain('did you mean');
  });
});

describe('a server that cannot be reached', () => {
  it('says where it tried and what to do, not "fetch failed"', async () => {
    const base = await serve(() => {});
    await new Promise((r) => servers.pop()!.close(r));
    const t = fakeIo();
    expect(await main(['status', ID, '--server', base], t.io)).toBe(1);
    const port = new URL(base).port;
    expect(t.stderr()).toMatch(new RegExp(`cannot reach 127\\.0\\.0\\.1:${port} \\(connection refused\\): is the dropship server running there\\? Point at it with --server`));
    expect(t.stderr()).not.toMatch(/fetch failed/);
  });
});

describe('a throttled server', () => {
  it('a 429 with Retry-After is waited out (and said so), then the command succeeds', async () => {
    let calls = 0;
    const base = await serve((_req, res) => {
      res.setHeader('content-type', 'application/json');
      if (calls++ === 0) {
        res.statusCode = 429;
        res.setHeader('retry-after', '1');
        return res.end(JSON.stringify({ error: { code: 'RATE_LIMITED', message: 'slow down' } }));
      }
      res.end(JSON.stringify(view(base)));
    });
    const t = fakeIo();
    const started = Date.now();
    expect(await main(['status', ID, '--server', base], t.io)).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(calls).toBe(2);
    expect(t.stderr()).toMatch(/server rate-limited us \(HTTP 429\); retrying in [12] s/);
    expect(t.stdout()).toContain('status     ready');
  });

  it('a Retry-After longer than the CLI sits out (120 s) exits 5 at once', async () => {
    const base = await serve((_req, res) => {
      res.statusCode = 429;
      res.setHeader('retry-after', '600');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ error: { code: 'RATE_LIMITED', message: 'slow down' } }));
    });
    const t = fakeIo();
    expect(await main(['status', ID, '--server', base], t.io)).toBe(5);
  });
});

describe('progress display', () => {
  const tty = () => {
    const chunks: string[] = [];
    const out = Object.assign(new PassThrough(), { isTTY: true, columns: 100, write: (c: string) => (chunks.push(c), true) });
    return { out, text: () => chunks.join(''), chunks };
  };
  const progress = (sent: number, total: number) => ({
    bytesSent: sent,
    bytesTotal: total,
    partsDone: 0,
    partCount: 1,
    bytesPerSecond: 1,
    etaSeconds: 1,
    bytesResumed: 0,
    bytesTransferred: sent,
  });

  it('the total says how many files failed, and does not count their bytes as sent', () => {
    expect(totalLabel(3, 1, 3)).toBe('total (2/3 files, 1 failed)');
    expect(totalLabel(3, 0, 3)).toBe('total (3/3 files)');
    const t = tty();
    const r = createReporter(t.out);
    const [a, b, c] = [r.start('a', 100), r.start('b', 100), r.start('c', 100)];
    r.progress(a, progress(100, 100));
    r.progress(b, progress(100, 100));
    r.end(a, 'a: ready');
    r.end(b, 'b: ready');
    r.end(c, 'c: failed: boom', false);
    r.stop();
    const last = t.text().split('\n').filter((l) => l.includes('total')).at(-1)!;
    expect(last).toContain('total (2/3 files, 1 failed)');
    expect(last).toContain('200 B/200 B');
  });

  it('after Ctrl-C the bars are cleared and never drawn again', () => {
    const t = tty();
    const ctrl = new AbortController();
    const r = createReporter(t.out, { signal: ctrl.signal });
    const h = r.start('big.bin', 1000);
    r.progress(h, progress(500, 1000));
    r.log('big.bin: uploading');
    expect(t.text()).toContain('█');
    ctrl.abort();
    const from = t.chunks.length;
    r.end(h, 'big.bin: interrupted — run the same command to resume', false);
    r.stop();
    const after = t.chunks.slice(from).join('');
    expect(after).toContain('big.bin: interrupted — run the same command to resume\n');
    expect(after).not.toMatch(/[█░]/);
  });
});

describe('server errors in words', () => {
  it('a refused upload says why in human units, not the server code or bytes', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(413, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'FILE_TOO_LARGE', message: 'files may be at most 1048576 bytes', details: { maxSize: 1048576 } } }));
    });
    const t = fakeIo();
    const code = await main(['status', ID, '--server', base], t.io);
    expect(code).not.toBe(0);
    expect(t.stderr()).toContain('The file is too large: this server accepts files up to 1.00 MiB.');
    expect(t.stderr()).not.toContain('1048576');
  });
});
