/**
 * A drop or a collection named on the command line: a bare id (a drop) or any of its URLs —
 * a drop's share page, download or api URL, a collection's page (`/c/<id>`) or api URL.
 */
import { UsageError } from './exit.js';

const ID = /^[A-Za-z0-9_-]{10,64}$/;

export interface Target {
  id: string;
  /** What the id names: a bare id is a drop's. */
  kind: 'drop' | 'collection';
  /** The server the URL points at (origin plus any path prefix in front of /d/ or /v1/). */
  server?: string;
}

export function parseTarget(arg: string): Target {
  if (ID.test(arg)) return { id: arg, kind: 'drop' };
  let url: URL;
  try {
    url = new URL(arg);
  } catch {
    throw new UsageError(`not a drop id or URL: ${arg}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`not an http(s) URL: ${arg}`);
  const m = /^(.*?)\/(d|v1\/drops|c|v1\/collections)\/([^/?#]+)/.exec(url.pathname);
  if (!m || !ID.test(decodeURIComponent(m[3]!))) throw new UsageError(`no drop id in ${arg} (expected …/d/<id> or …/c/<id>)`);
  const kind = m[2] === 'c' || m[2] === 'v1/collections' ? 'collection' : 'drop';
  return { id: decodeURIComponent(m[3]!), kind, server: `${url.origin}${m[1]}` };
}

/** The one drop (or collection) a status, wait, download or delete command acts on. */
export function onlyTarget(positionals: string[], command: string, kinds: readonly Target['kind'][] = ['drop']): Target {
  if (positionals.length !== 1) throw new UsageError(`${command} needs exactly one drop id or URL`);
  const t = parseTarget(positionals[0]!);
  if (!kinds.includes(t.kind)) throw new UsageError(`${command} works on a drop; for a collection's files see: dropship status ${positionals[0]}`);
  return t;
}
