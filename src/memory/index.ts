/** Every port in memory, wired together: what unit tests (and a storage-less demo) build the app and worker on. */
import { memoryQueue, type MemoryQueue } from './queue.js';
import { memorySigner, type MemorySigner } from './signer.js';
import { memoryStore, type MemoryStore } from './store.js';
import { memorySlots } from './slots.js';
import type { CountedSlots } from '../ports/slots.js';

export { memoryQueue, memorySigner, memorySlots, memoryStore, type MemoryQueue, type MemorySigner, type MemoryStore };
export { s3Error } from './store.js';

export interface MemoryAdapters {
  store: MemoryStore;
  signer: MemorySigner;
  queue: MemoryQueue;
  /** The webhook deliveries queue (what the app and the worker announce on). */
  deliveries: MemoryQueue;
  /** Counted slots (tickets, streams, event streams), this process's own. */
  slots: CountedSlots;
}

export function memoryAdapters(bucket = 'memory'): MemoryAdapters {
  const store = memoryStore(bucket);
  return { store, signer: memorySigner(store), queue: memoryQueue(), deliveries: memoryQueue(), slots: memorySlots() };
}
