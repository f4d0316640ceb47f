/** The port contracts (test/contract/) against the in-memory adapters that the unit tests use. */
import { memoryQueue, memoryStore } from '../../src/memory/index.js';
import { objectStoreContract } from '../contract/object-store.js';
import { queueContract } from '../contract/queue.js';

objectStoreContract('memory', { store: () => memoryStore('contract'), prefix: 'contract/' });
queueContract('memory', {
  async queue() {
    const queue = memoryQueue();
    return { queue, send: async (body) => void queue.send(body) };
  },
});
