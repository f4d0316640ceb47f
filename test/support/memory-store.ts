/** The in-memory ObjectStore (src/memory/store.ts), re-exported for the unit tests that seed it directly. */
export { memoryStore, s3Error, type MemoryStore } from '../../src/memory/store.js';
