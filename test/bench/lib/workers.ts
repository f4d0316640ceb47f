/** Worker processes (`node --import tsx src/worker/main.ts`) and the bench queue. */
import { PurgeQueueCommand, ReceiveMessageCommand, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { BenchContext } from './env.js';
import { startChild, type Child } from './proc.js';

export interface Workers {
  children: Child[];
  /** Wall-clock ms when the first worker started consuming. */
  firstConsumingAt: number;
  lastConsumingAt: number;
  stop(): Promise<void>;
}

export async function startWorkers(ctx: BenchContext, count: number, overrides: Record<string, string> = {}): Promise<Workers> {
  const children: Child[] = [];
  try {
    const lines = [];
    for (let i = 0; i < count; i++) {
      // info: the worker announces "worker consuming" at info once it polls.
      const c = startChild('src/worker/main.ts', { ...ctx.env, LOG_LEVEL: 'info', ...overrides }, `worker ${i + 1}`, ctx.productRoot);
      children.push(c);
      lines.push(c.waitForLine(/worker consuming/, 60_000));
    }
    const at = (await Promise.all(lines)).map((l) => Date.now() - (performance.now() - l.at));
    return {
      children,
      firstConsumingAt: Math.min(...at),
      lastConsumingAt: Math.max(...at),
      stop: async () => void (await Promise.all(children.map((c) => c.stop()))),
    };
  } catch (e) {
    await Promise.all(children.map((c) => c.stop()));
    throw e;
  }
}

/** Empties the bench queue (events other suites' uploads left behind). Bounded to 30 s. */
export async function drainQueue(ctx: BenchContext): Promise<number> {
  const QueueUrl = ctx.queueUrl!;
  try {
    await ctx.aws.sqs.send(new PurgeQueueCommand({ QueueUrl }));
  } catch {
    /* purged less than a minute ago: drain below */
  }
  let n = 0;
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const r = await ctx.aws.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }));
    const msgs = r.Messages ?? [];
    if (msgs.length === 0) break;
    n += msgs.length;
    await ctx.aws.sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl, Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
    );
  }
  return n;
}
