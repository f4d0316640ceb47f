/**
 * A client that hangs up while its event stream is being admitted gives its slot back at
 * once, not at the stream's deadline (15 minutes): otherwise 20 hang-ups lock a client out
 * and a few thousand fill a replica. A real socket on 127.0.0.1, the manifest read held back
 * so the hang-up lands during admission.
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropKeys } from '../../src/core/layout.js';
import { memoryApp, type MemoryApp } from '../support/memory-app.js';

let t: MemoryApp;
let port: number;
beforeAll(async () => {
  t = await memoryApp({ DROPSHIP_EVENT_STREAMS_PER_CLIENT: '2' });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await t?.close();
});

const openStreams = () => (t.app as unknown as { events: { stats(): { open: number } } }).events.stats().open;

describe('event streams and clients that hang up during admission', () => {
  it('frees the slot: the same client can open its streams again right away', async () => {
    const created = await t.call('POST', '/v1/drops', { body: { name: 'a.txt', size: 3 } });
    const id = created.json<{ id: string }>().id;
    // Hold every read of the manifest back for 150 ms: the hang-up comes first.
    t.store.beforeCall = async (op, key) => {
      if (op === 'getText' && key === dropKeys(id).manifest) await new Promise((r) => setTimeout(r, 150));
    };
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => {
        const s = connect(port, '127.0.0.1', () => {
          s.write(`GET /v1/drops/${id}/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
          setTimeout(() => s.destroy(), 20);
        });
        s.on('close', () => resolve());
      });
    }
    await new Promise((r) => setTimeout(r, 400));
    t.store.beforeCall = undefined;
    expect(openStreams()).toBe(0);
    // 5 hang-ups would have used up this client's 2 slots for the stream's whole lifetime.
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/v1/drops/${id}/events`, { signal: ac.signal });
    expect(res.status).toBe(200);
    ac.abort();
  });
});
