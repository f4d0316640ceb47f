/** The one load generator for every HTTP benchmark: autocannon, fixed connections and duration. */
import autocannon, { type Request } from 'autocannon';

export interface LoadResult {
  /** 2xx answers per second over the whole duration. */
  reqPerSec: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
  statusCodes: Record<string, number>;
}

export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Per-request variation (e.g. a different path each time). */
  setupRequest?: (req: Request) => Request;
  /** A sequence each connection repeats (replaces method/headers/body/setupRequest). */
  sequence?: Request[];
}

export async function load(spec: LoadSpec, opts: { connections: number; duration: number }): Promise<LoadResult> {
  const r = await autocannon({
    url: spec.url,
    connections: opts.connections,
    duration: opts.duration,
    timeout: 30,
    ...(spec.sequence
      ? { requests: spec.sequence }
      : spec.setupRequest
      ? {
          requests: [
            {
              method: spec.method ?? 'GET',
              ...(spec.headers ? { headers: spec.headers } : {}),
              ...(spec.body !== undefined ? { body: spec.body } : {}),
              setupRequest: spec.setupRequest,
            },
          ],
        }
      : {
          method: spec.method ?? 'GET',
          ...(spec.headers ? { headers: spec.headers } : {}),
          ...(spec.body !== undefined ? { body: spec.body } : {}),
        }),
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, v] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = Number(v.count);
  return {
    reqPerSec: r['2xx'] / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    seconds: r.duration,
    statusCodes,
  };
}
