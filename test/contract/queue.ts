/**
 * The Queue contract, run against the in-memory queue (unit project) and SQS on the emulator
 * (integration project): visibility timeouts, receive counts, deletes, long polls, sending
 * (delayed too), the depth, and the redrive to a dead-letter queue.
 */
import { describe, expect, it } from 'vitest';
import type { Queue } from '../../src/ports/queue.js';

export interface QueueHarness {
  /** An empty queue of this run's own, and a way to put a message on it. */
  queue(): Promise<{ queue: Queue; send(body: string): Promise<void> }>;
  /** A queue whose messages move to `deadLetter` after `maxReceiveCount` receives. */
  queueWithDeadLetter(maxReceiveCount: number): Promise<{ queue: Queue; deadLetter: Queue }>;
}

export function queueContract(name: string, h: QueueHarness): void {
  describe(`Queue contract: ${name}`, () => {
    it('a received message is hidden for its visibility timeout, then comes back counted again', async () => {
      const { queue, send } = await h.queue();
      await send('one');
      const [m] = await queue.receive({ max: 10, waitSeconds: 2, visibilitySeconds: 30 });
      expect(m).toMatchObject({ body: 'one', receiveCount: 1 });
      expect(await queue.receive({ max: 10, waitSeconds: 0, visibilitySeconds: 30 })).toEqual([]);
      expect(await queue.setVisibility([{ receipt: m!.receipt, seconds: 0 }])).toEqual([]);
      const [again] = await queue.receive({ max: 10, waitSeconds: 2, visibilitySeconds: 30 });
      expect(again).toMatchObject({ id: m!.id, body: 'one', receiveCount: 2 });
      expect(await queue.delete([again!.receipt])).toEqual([]);
      expect(await queue.receive({ max: 10, waitSeconds: 1, visibilitySeconds: 0 })).toEqual([]);
    });

    it('a long poll returns as soon as a message arrives', async () => {
      const { queue, send } = await h.queue();
      const started = Date.now();
      const polled = queue.receive({ max: 1, waitSeconds: 5, visibilitySeconds: 30 });
      await new Promise((r) => setTimeout(r, 300));
      await send('late');
      const got = await polled;
      expect(got.map((m) => m.body)).toEqual(['late']);
      expect(Date.now() - started).toBeLessThan(4500);
      await queue.delete(got.map((m) => m.receipt));
    });

    it('receives at most `max` messages and deletes them in one call', async () => {
      const { queue, send } = await h.queue();
      for (const b of ['a', 'b', 'c']) await send(b);
      const seen: string[] = [];
      for (let i = 0; i < 10 && seen.length < 3; i++) {
        const got = await queue.receive({ max: 2, waitSeconds: 1, visibilitySeconds: 30 });
        expect(got.length).toBeLessThanOrEqual(2);
        seen.push(...got.map((m) => m.body));
        expect(await queue.delete(got.map((m) => m.receipt))).toEqual([]);
      }
      expect(seen.sort()).toEqual(['a', 'b', 'c']);
    });

    it('sends through the port: at once, or hidden for a delay first; counts what it holds', async () => {
      const { queue } = await h.queue();
      expect(await queue.size()).toBe(0);
      const id = await queue.send('now');
      expect(typeof id).toBe('string');
      const started = Date.now();
      await queue.send('later', { delaySeconds: 2 });
      expect(await queue.size()).toBe(2);
      const [first] = await queue.receive({ max: 10, waitSeconds: 2, visibilitySeconds: 30 });
      expect(first).toMatchObject({ body: 'now', receiveCount: 1 });
      expect(await queue.size()).toBe(2); // one in flight, one delayed
      await queue.delete([first!.receipt]);
      const got = await queue.receive({ max: 10, waitSeconds: 5, visibilitySeconds: 30 });
      expect(got.map((m) => m.body)).toEqual(['later']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
      await queue.delete(got.map((m) => m.receipt));
      expect(await queue.size()).toBe(0);
    });

    it('moves a message received maxReceiveCount times to its dead-letter queue', async () => {
      const { queue, deadLetter } = await h.queueWithDeadLetter(2);
      await queue.send('poison');
      for (let n = 1; n <= 2; n++) {
        const [m] = await queue.receive({ max: 1, waitSeconds: 2, visibilitySeconds: 30 });
        expect(m).toMatchObject({ body: 'poison', receiveCount: n });
        await queue.setVisibility([{ receipt: m!.receipt, seconds: 0 }]);
      }
      // The next receive moves it instead of handing it out.
      expect(await queue.receive({ max: 1, waitSeconds: 1, visibilitySeconds: 30 })).toEqual([]);
      const dead = await deadLetter.receive({ max: 1, waitSeconds: 2, visibilitySeconds: 30 });
      expect(dead.map((m) => m.body)).toEqual(['poison']);
      expect(await queue.size()).toBe(0);
    });

    it('answers a probe', async () => {
      const { queue } = await h.queue();
      await expect(queue.probe(AbortSignal.timeout(3000))).resolves.toBeUndefined();
    });
  });
}
