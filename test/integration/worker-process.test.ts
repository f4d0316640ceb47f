/**
 * The worker as a process (`node --import tsx src/worker/main.ts`), killed and stopped the
 * ways production does it: SIGKILL mid-job loses nothing, SIGTERM finishes the job in hand,
 * an idle worker stops within its long-poll wait, and a message arriving while a worker
 * stops is not hidden from the others.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { inject } from 'vitest';
import { destroyAwsClients } from '../../src/aws/clients.js';
import type { RunningWorker } from '../../src/worker/worker.js';
import { startTestWorker } from '../support/worker.js';
import { eventually, queueUrl, testAws, testConfig } from '../support/env.js';
import { TEST_ENV } from '../support/names.js';
import { dropKit, emptyQueue, queueDepth, testLog } from '../support/drops.js';
import { orientedJpeg, pngImage } from '../support/images.js';

const WORKER_ENV = { DROPSHIP_WORKER_VISIBILITY_TIMEOUT: '5', DROPSHIP_WORKER_RETRY_DELAY: '0', DROPSHIP_WORKER_WAIT_TIME: '2' };
const config = testConfig(WORKER_ENV);
const aws = testAws(config);
const kit = dropKit(config, aws);

const children: ChildProcess[] = [];
function spawnWorker(env: Record<string, string> = {}): WorkerProcess {
  return spawnWorkerProcess(
    {
      ...TEST_ENV,
      AWS_ENDPOINT_URL: inject('awsEndpoint'),
      DROPSHIP_QUEUE_URL: queueUrl(),
      LOG_LEVEL: 'debug',
      ...WORKER_ENV,
      ...env,
    },
    children,
  );
}

const consuming = (l: Record<string, unknown>) => l.msg === 'worker consuming';
const processing = (id: string) => (l: Record<string, unknown>) => l.msg === 'processing drop' && l.dropId === id;

const inProcess: RunningWorker[] = [];
beforeAll(async () => {
  await emptyQueue(aws, queueUrl());
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(inProcess.splice(0).map((w) => w.stop()));
});
afterAll(() => destroyAwsClients(aws));

// A 27-megapixel photo: decoding it takes long enough to kill or stop the worker mid-job.
const bigPhoto = () => orientedJpeg(6000, 4500, 6);

describe('SIGKILL mid-job', () => {
  it('loses nothing: a new worker makes the drop ready once the visibility timeout passes', async () => {
    const photo = await bigPhoto();
    const w = spawnWorker({ DROPSHIP_WORKER_CONCURRENCY: '1' });
    await w.logged(consuming);
    const id = await kit.drop(photo, { name: 'big.jpg', type: 'image/jpeg' });
    await w.logged(processing(id));
    w.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect((await w.exited).signal).toBe('SIGKILL');
    expect((await kit.manifests.get(id))!.manifest.status).toBe('uploading');

    inProcess.push(startTestWorker({ config, queueUrl: queueUrl(), log: testLog(config) }));
    const m = await kit.until(id, ['ready', 'failed'], 20_000);
    console.info(`killed mid-job → ready ${Date.now() - killedAt} ms later (visibility timeout 5 s)`);
    expect(m).toMatchObject({ status: 'ready', thumbnail: 'ready', width: 4500, height: 6000 });
  });
});

describe('SIGTERM', () => {
  it('mid-job: the job finishes, the message is deleted, the process exits 0', async () => {
    const photo = await bigPhoto();
    const w = spawnWorker({ DROPSHIP_WORKER_CONCURRENCY: '1' });
    await w.logged(consuming);
    const id = await kit.drop(photo, { name: 'big.jpg', type: 'image/jpeg' });
    await w.logged(processing(id));
    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect((await kit.manifests.get(id))!.manifest).toMatchObject({ status: 'ready', thumbnail: 'ready' });
    expect(await queueDepth(aws, queueUrl())).toEqual({ visible: 0, inFlight: 0 });
  });

  it('idle: exits within its long-poll wait, and a message arriving meanwhile is not hidden from other workers', async () => {
    // A long visibility timeout: a message swallowed by the stopping worker would be gone 60 s.
    const w = spawnWorker({ DROPSHIP_WORKER_VISIBILITY_TIMEOUT: '60', DROPSHIP_WORKER_WAIT_TIME: '3' });
    await w.logged(consuming);
    await new Promise((r) => setTimeout(r, 300)); // let it sit in a long poll
    const bytes = await pngImage();
    const id = await kit.announce(bytes, { name: 'during-shutdown.png', type: 'image/png' });
    const stopAt = Date.now();
    w.child.kill('SIGTERM');
    await kit.upload(id, bytes, 'image/png');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    const stopMs = Date.now() - stopAt;
    console.info(`idle worker stopped in ${stopMs} ms (long-poll wait 3 s)`);
    expect(stopMs).toBeLessThan(3000 + 2000);

    inProcess.push(startTestWorker({ config, queueUrl: queueUrl(), log: testLog(config) }));
    const m = await kit.until(id, ['ready'], 8000);
    expect(m.thumbnail).toBe('ready');
  });
});

describe('after all that', () => {
  it('the queue is empty', async () => {
    await eventually(async () => {
      const d = await queueDepth(aws, queueUrl());
      return d.visible === 0 && d.inFlight === 0 ? d : undefined;
    }, 10_000);
  });
});
