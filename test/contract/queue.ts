/**
 * The Queue contract, run against the in-memory queue (unit project) and SQS on the emulator
 * (integration project): visibility timeouts, receive counts, deletes, long polls.
 */
import { describe, expect, it } from 'vitest';
import type { Queue } from '../../src/ports/queue.js';

export interface QueueHarness {
  /** An empty queue of this run's own, and a way to put a message on it. */
  queue(): Promise<{ queue: Queue; send(body: string): Promise<void> }>;
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

    it('answers a probe', async () => {
      const { queue } = await h.queue();
      await expect(queue.probe(AbortSignal.timeout(3000))).resolves.toBeUndefined();
    });
  });
}
