/**
 * The public view of a drop (GET /v1/drops/:id, the share page, SSE). The function lives in
 * src/core/drop-view.ts, so the worker renders webhook payloads with the same code; the lines
 * below make the compiler prove that the api's published schema and the core type are one shape.
 */
import type { DropView as CoreDropView } from '../core/drop-view.js';
import type { DropView as SchemaDropView } from './schemas/drops.js';

export { dropView } from '../core/drop-view.js';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Fails to compile when src/api/schemas/drops.ts and src/core/drop-view.ts disagree. */
export const dropViewSchemaMatchesCore: Same<Required<SchemaDropView>, Required<CoreDropView>> & Same<SchemaDropView, CoreDropView> = true;
