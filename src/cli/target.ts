/** A drop named on the command line: a bare id or any of its URLs (share page, download, api). */
import { UsageError } from './exit.js';

const ID = /^[A-Za-z0-9_-]{10,64}$/;

export interface Target {
  id: string;
  /** The server the URL points at (origin plus any path prefix in front of /d/ or /v1/). */
  server?: string;
}

export function parseTarget(arg: string): Target {
  if (ID.test(arg)) return { id: arg };
  let url: URL;
  try {
    url = new URL(arg);
  } catch {
    throw new UsageError(`not a drop id or URL: ${arg}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`not an http(s) URL: ${arg}`);
  const m = /^(.*?)\/(?:d|v1\/drops)\/([^/?#]+)/.exec(url.pathname);
  if (!m || !ID.test(decodeURIComponent(m[2]!))) throw new UsageError(`no drop id in ${arg} (expected …/d/<id>)`);
  return { id: decodeURIComponent(m[2]!), server: `${url.origin}${m[1]}` };
}

/** The one drop a status, wait, download or delete command acts on. */
export function onlyTarget(positionals: string[], command: string) {
  if (positionals.length !== 1) throw new UsageError(`${command} needs exactly one drop id or URL`);
  return parseTarget(positionals[0]!);
}
