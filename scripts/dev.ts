/**
 * `npm run dev`: the whole system on one machine.
 *   1. local AWS — LocalStack in host mode (installed on first run), unless AWS_ENDPOINT_URL
 *      points somewhere else;
 *   2. provisioning (bucket, CORS, lifecycle, queue + DLQ, notification, webhook deliveries queue + DLQ);
 *   3. the api (which also serves the SPA), the worker and the SPA's build in watch mode,
 *      restarted if they crash.
 * Ctrl-C stops everything it started. On a terminal the api's and worker's JSON logs are shown
 * through pino-pretty; piped or redirected (or with DROPSHIP_LOG_FORMAT=json) they stay JSON.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEmulator, type EmulatorHandle } from '../localstack/emulator.js';
import { loadConfig } from '../src/config.js';
import { createAwsClients, destroyAwsClients } from '../src/aws/clients.js';
import { provision, provisionOptions } from '../src/aws/provision.js';
import pretty from 'pino-pretty';

const root = fileURLToPath(new URL('..', import.meta.url));
const say = (m: string) => console.error(`dev: ${m}`);

const env: NodeJS.ProcessEnv = {
  DROPSHIP_PUBLIC_UPLOADS: 'true',
  LOG_LEVEL: 'info',
  ...process.env,
};

let emulator: EmulatorHandle | undefined;
if (!env.AWS_ENDPOINT_URL) {
  emulator = await startEmulator({ log: say });
  env.AWS_ENDPOINT_URL = emulator.endpoint;
}
const config = loadConfig(env);
const aws = createAwsClients(config);
const result = await provision(aws, provisionOptions(config));
destroyAwsClients(aws);
say(result.changed.length ? `provisioned: ${result.changed.join('; ')}` : 'provisioning: nothing to change');
env.DROPSHIP_QUEUE_URL = result.queueUrl;
if (result.deliveriesUrl) env.DROPSHIP_DELIVERIES_QUEUE_URL = result.deliveriesUrl;
if (config.webhooks.length) say(`webhooks: ${config.webhooks.map((w) => w.url).join(', ')}`);

const readable = process.stdout.isTTY && env.DROPSHIP_LOG_FORMAT !== 'json';
const children = new Map<string, ChildProcess>();
let stopping = false;
function run(name: string, args: string[]) {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['inherit', readable ? 'pipe' : 'inherit', 'inherit'] });
  // One pretty stream per child, so lines of two processes never interleave mid-line.
  if (readable) child.stdout?.pipe(pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', messageKey: 'msg' }));
  children.set(name, child);
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (stopping) return;
    say(`${name} exited (${signal ?? code}); restarting in 1 s`);
    setTimeout(() => !stopping && run(name, args), 1000);
  });
}
run('api', ['--import', 'tsx', 'src/api/server.ts']);
run('worker', ['--import', 'tsx', 'src/worker/main.ts']);
// The SPA: Vite rebuilds src/web/dist on every change (the api serves it at /).
run('web', ['node_modules/vite/bin/vite.js', 'build', '--watch', '--config', 'src/web/vite.config.ts']);
say(`dropship on ${config.publicUrl} (Ctrl-C stops everything)`);

async function stopAll(signal: NodeJS.Signals) {
  if (stopping) return;
  stopping = true;
  say('stopping...');
  await Promise.all(
    [...children.values()].map(
      (c) =>
        new Promise<void>((r) => {
          c.once('exit', () => r());
          c.kill(signal === 'SIGINT' ? 'SIGTERM' : signal);
        }),
    ),
  );
  await emulator?.stop();
  process.exit(0);
}
process.once('SIGINT', () => void stopAll('SIGINT'));
process.once('SIGTERM', () => void stopAll('SIGTERM'));
