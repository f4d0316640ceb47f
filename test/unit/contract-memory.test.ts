/** The port contracts (test/contract/) against the in-memory adapters that the unit tests use. */
import { randomUUID } from 'node:crypto';
import { memoryQueue, memorySigner, memorySlots, memoryStore } from '../../src/memory/index.js';
import { objectStoreContract } from '../contract/object-store.js';
import { queueContract } from '../contract/queue.js';
import { signerContract } from '../contract/signer.js';
import { slotsContract } from '../contract/slots.js';

objectStoreContract('memory', { store: () => memoryStore('contract'), prefix: 'contract/' });
queueContract('memory', {
  async queue() {
    const queue = memoryQueue();
    return { queue, send: async (body) => void (await queue.send(body)) };
  },
  async queueWithDeadLetter(maxReceiveCount) {
    const deadLetter = memoryQueue();
    return { queue: memoryQueue({ deadLetter: { queue: deadLetter, maxReceiveCount } }), deadLetter };
  },
});

const signerStore = memoryStore('contract');
const signer = memorySigner(signerStore);
signerContract('memory', {
  signer: () => signer,
  key: () => `contract/${randomUUID()}`,
  async send(method, url, body, headers) {
    const r = await signer.present(method, url, body, new Date(), headers);
    return { status: r.status, ...(r.body ? { body: r.body } : {}), headers: r.headers ?? {} };
  },
});

const slots = memorySlots();
slotsContract('memory', { slots: () => slots, twin: () => slots, shared: false });
