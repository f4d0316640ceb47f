/**
 * A Queue in memory with SQS's visibility semantics: a received message is hidden for its
 * visibility timeout and comes back unless deleted; receipts change with every receive (an
 * old receipt deletes nothing); `receive` long-polls until a message is visible, the wait
 * ends or the signal aborts; `send` may delay a message. With `deadLetter`, a message
 * received `maxReceiveCount` times is moved there by the next receive instead of being handed
 * out, as SQS's redrive policy does. `depth` (synchronous) is for tests.
 */
import { randomUUID } from 'node:crypto';
import type { Queue, QueueMessage } from '../ports/queue.js';

interface Entry {
  id: string;
  body: string;
  receiveCount: number;
  visibleAt: number;
  receipt?: string;
}

export interface MemoryQueue extends Queue {
  /** Messages not yet deleted, visible or not. */
  depth(): number;
  /** The bodies of the messages not yet deleted, in order (for tests). */
  bodies(): string[];
}

export interface MemoryQueueOptions {
  now?: () => number;
  deadLetter?: { queue: MemoryQueue; maxReceiveCount: number };
}

export function memoryQueue(opts: MemoryQueueOptions = {}): MemoryQueue {
  const now = opts.now ?? Date.now;
  const entries: Entry[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  const byReceipt = (receipt: string) => entries.find((e) => e.receipt !== undefined && e.receipt === receipt);

  function take(max: number, visibilitySeconds: number): QueueMessage[] {
    const t = now();
    const out: QueueMessage[] = [];
    for (const e of [...entries]) {
      if (out.length >= max) break;
      if (e.visibleAt > t) continue;
      const dl = opts.deadLetter;
      if (dl && e.receiveCount >= dl.maxReceiveCount) {
        entries.splice(entries.indexOf(e), 1);
        void dl.queue.send(e.body);
        continue;
      }
      e.receiveCount++;
      e.receipt = randomUUID();
      e.visibleAt = t + visibilitySeconds * 1000;
      out.push({ id: e.id, receipt: e.receipt, body: e.body, receiveCount: e.receiveCount });
    }
    return out;
  }

  return {
    async send(body, o = {}) {
      const id = randomUUID();
      entries.push({ id, body, receiveCount: 0, visibleAt: o.delaySeconds ? now() + o.delaySeconds * 1000 : 0 });
      wake();
      return id;
    },
    depth: () => entries.length,
    bodies: () => entries.map((e) => e.body),
    async size() {
      return entries.length;
    },

    async receive({ max, waitSeconds, visibilitySeconds, signal }) {
      const until = now() + waitSeconds * 1000;
      for (;;) {
        signal?.throwIfAborted();
        const got = take(Math.min(10, max), visibilitySeconds);
        if (got.length || now() >= until) return got;
        const nextVisible = Math.min(until, ...entries.map((e) => e.visibleAt).filter((v) => v > now()));
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            waiters.delete(done);
            signal?.removeEventListener('abort', done);
            resolve();
          };
          const timer = setTimeout(done, Math.max(1, nextVisible - now()));
          waiters.add(done);
          signal?.addEventListener('abort', done, { once: true });
        });
      }
    },

    async delete(receipts) {
      const failed: string[] = [];
      for (const r of receipts) {
        const e = byReceipt(r);
        if (!e) {
          failed.push(r);
          continue;
        }
        entries.splice(entries.indexOf(e), 1);
      }
      return failed;
    },

    async setVisibility(list) {
      const failed: string[] = [];
      for (const { receipt, seconds } of list) {
        const e = byReceipt(receipt);
        if (!e) failed.push(receipt);
        else e.visibleAt = now() + seconds * 1000;
      }
      wake();
      return failed;
    },

    async probe(signal) {
      signal?.throwIfAborted();
    },
  };
}
