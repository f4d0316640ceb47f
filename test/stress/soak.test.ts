/**
 * The long parts of the fault and load suite (`npm run test:stress`, not in `npm test`):
 * 1,000 uploads while two worker processes consume, one of them SIGKILLed and restarted
 * half-way; then uploads carried on under a sustained slowloris attack. Everything on
 * 127.0.0.1, bounded in count and time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { GetQueueAttributesCommand, PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { api, startApi, uploadViaTickets, type TestApi } from '../support/app.js';
import { eventually, isolatedStorage } from '../support/env.js';
import { TEST_ENV } from '../support/names.js';

let env: Record<string, string> = {};
let s: TestApi;
let queueUrl: string;
const workers: ChildProcess[] = [];

function spawnWorker(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker/main.ts'], {
    env: {
      ...process.env,
      ...TEST_ENV,
      ...env,
      AWS_ENDPOINT_URL: inject('awsEndpoint'),
      DROPSHIP_QUEUE_URL: queueUrl,
      DROPSHIP_WORKER_CONCURRENCY: '8',
      DROPSHIP_WORKER_VISIBILITY_TIMEOUT: '10',
      DROPSHIP_WORKER_WAIT_TIME: '2',
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  workers.push(child);
  return child;
}

async function pool<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < n; i = next++) out[i] = await fn(i);
    }),
  );
  return out;
}

beforeAll(async () => {
  ({ env, queueUrl } = await isolatedStorage('soak'));
  s = await startApi({ ...env, DROPSHIP_RATE_LIMIT: '1000000', DROPSHIP_MAX_OPEN_TICKETS: '10000' });
  await s.aws.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
});
afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await s?.close();
});

describe('soak', () => {
  it('1,000 uploads with a worker killed half-way: all ready, none lost, nothing left', async () => {
    spawnWorker();
    let victim = spawnWorker();
    const ids = await pool(1000, 40, async (i) => {
      if (i === 500) {
        victim.kill('SIGKILL');
        victim = spawnWorker();
      }
      const { ticket, complete } = await uploadViaTickets(s.base, randomBytes(1 + ((i * 104_729) % (256 * 1024))), {
        name: `soak-${i}.bin`,
        concurrency: 1,
      });
      expect(complete.status).toBe(200);
      return ticket.id;
    });
    await eventually(
      async () => {
        let notReady = 0;
        await pool(ids.length, 20, async (i) => {
          const v = await api<{ status: string }>(s.base, 'GET', `/v1/drops/${ids[i]}`);
          if (v.body.status !== 'ready') notReady++;
        });
        return notReady === 0 || undefined;
      },
      240_000,
      3000,
    );
    const a = (await s.aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }))).Attributes!;
    expect([a.ApproximateNumberOfMessages, a.ApproximateNumberOfMessagesNotVisible]).toEqual(['0', '0']);
    expect(await s.store.listMultipartUploads('drops/')).toEqual([]);
  }, 420_000);

  it('uploads keep succeeding under a sustained slowloris attack', async () => {
    const url = new URL(s.base);
    const attackers = new Set<ReturnType<typeof connect>>();
    const until = Date.now() + 45_000;
    const attack = setInterval(() => {
      while (attackers.size < 200 && Date.now() < until) {
        const sock = connect(Number(url.port), url.hostname);
        sock.on('error', () => {});
        sock.on('close', () => attackers.delete(sock));
        sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
        attackers.add(sock);
      }
      for (const a of attackers) a.write('X-a: b\r\n');
    }, 500);
    try {
      const results = await pool(100, 10, (i) => uploadViaTickets(s.base, randomBytes(4096), { name: `calm-${i}.bin`, concurrency: 1 }));
      expect(results.every((r) => r.complete.status === 200)).toBe(true);
    } finally {
      clearInterval(attack);
      for (const a of attackers) a.destroy();
    }
  }, 120_000);
});
