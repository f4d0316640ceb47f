/**
 * A real redis-server (Debian's `redis-server` package; `npm test` installs it: scripts/prepare.mjs)
 * on a free loopback port, in its own process group, keeping nothing on disk — for the
 * shared-limits tests. `stop()` ends it; `startRedis({ port })` again brings one back on the same
 * port (how a test takes Redis away and gives it back).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

export interface RedisServer {
  url: string;
  port: number;
  /** The redis-server process (for a caller that accounts for it or must kill it on its own). */
  child: ChildProcess;
  stop(): Promise<void>;
}

export function redisServerBinary(): string {
  const found = [process.env.DROPSHIP_REDIS_SERVER, 'redis-server', 'valkey-server'].filter(Boolean).find(
    (b) => spawnSync('sh', ['-c', `command -v ${b}`], { stdio: 'ignore' }).status === 0,
  );
  if (!found) throw new Error('the shared-limits tests need redis-server (Debian: apt-get install redis-server; npm test installs it as root)');
  return found!;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Whether something accepts connections on the port (and answers PING with PONG). */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port });
    let out = '';
    c.setTimeout(1000, () => (c.destroy(), resolve(false)));
    c.on('connect', () => c.write('PING\r\n'));
    c.on('data', (d) => {
      out += d.toString();
      if (out.includes('\r\n')) {
        c.destroy();
        resolve(out.startsWith('+PONG'));
      }
    });
    c.on('error', () => resolve(false));
  });
}

export async function startRedis(opts: { port?: number } = {}): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  const child = spawn(
    redisServerBinary(),
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'warning'],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const until = Date.now() + 10_000;
  while (!(await pong(port))) {
    if (child.exitCode !== null || Date.now() > until) {
      throw new Error(`redis-server did not start on port ${port}: ${stderr.slice(-1000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    child,
    async stop() {
      if (child.exitCode !== null || child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        return;
      }
      await exited;
    },
  };
}
