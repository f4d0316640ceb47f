/**
 * Benchmark 2 — signing part URLs and creating tickets, dropship against Uppy Companion
 * 6.2.2, each in its own process, both pointed at the same emulator and bucket, both driven
 * by the same autocannon settings, interleaved (A/B, order alternating per repetition).
 *
 *   single   one URL per request: dropship POST /v1/drops/:id/parts {partNumbers:[1]},
 *            Companion GET /s3/multipart/:uploadId/1?key=…
 *   batch    100 URLs per request: dropship partNumbers 1..100, Companion
 *            GET /s3/multipart/:uploadId/batch?key=…&partNumbers=1,…,100
 *   create   ticket creation for a 1 GiB file: dropship POST /v1/drops (CreateMultipartUpload,
 *            manifest write, first 100 URLs signed), Companion POST /s3/multipart
 *            (CreateMultipartUpload)
 *
 * Before any load, the signed URLs are proven against the emulator: a dropship part URL is
 * accepted, and refused once its signature, its part number or its body size is tampered
 * with. The bench stops if the emulator does not validate signatures.
 */
import { randomBytes } from 'node:crypto';
import { DropshipClient } from '../../../src/client/client.js';
import { BENCH_API_KEY, abortUploads, type BenchContext } from '../lib/env.js';
import { startApi, type ApiProcess } from '../lib/api.js';
import { cpuOf, freePort, sampleProc, startChild, waitHealthy, type Child } from '../lib/proc.js';
import { load, type LoadResult, type LoadSpec } from '../lib/load.js';
import { GIB, MIB } from '../lib/stats.js';
import { UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { credentialsOf } from '../../../src/aws/signer.js';
import type * as SignerModule from '../../../src/aws/signer.js';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export type Target = 'dropship' | 'companion';
/**
 * create-first-batch: Companion's create followed by signing the first 100 parts — what one
 * dropship ticket answer holds. batch-1: the 100-URL batch with one connection (latency
 * without queueing behind other requests).
 */
export type Scenario = 'single' | 'batch' | 'batch-1' | 'create' | 'create-first-batch';

export interface SigningRun {
  target: Target;
  scenario: Scenario;
  rep: number;
  urlsPerRequest: number;
  result: LoadResult;
  /** CPU seconds the server process used during the run. */
  serverCpuSeconds: number;
  /** The emulator's CPU over the same run: the storage work the requests caused. */
  emulatorCpuSeconds?: number;
}

export interface SignatureProof {
  accepted: { status: number; etag: string | null };
  tamperedSignature: { status: number; code: string };
  tamperedPartNumber: { status: number; code: string };
  wrongSize: { status: number; code: string };
  /** The drop's size, its part count and the size the last part was signed for. */
  dropSize: number;
  parts: number;
  lastPartSize: number;
  ok: boolean;
}

export interface SignerMicro {
  /** dropship's signer (src/aws/signer.ts), URLs per CPU-second of this process. */
  dropshipPerCpuSecond: number;
  /** getSignedUrl(UploadPartCommand), what Companion calls per URL. */
  getSignedUrlPerCpuSecond: number;
  urls: number;
}

export interface SigningResults {
  micro?: SignerMicro;
  connections: number;
  duration: number;
  warmup: number;
  runs: SigningRun[];
  proof: SignatureProof;
  cleanup: { abortedUploads: number; deletedObjects: number };
}

const code = (text: string) => /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? '';

async function put(url: string, body: Buffer) {
  const r = await fetch(url, { method: 'PUT', body: new Uint8Array(body), signal: AbortSignal.timeout(30_000) });
  const text = await r.text();
  return { status: r.status, etag: r.headers.get('etag'), code: code(text) };
}

/** A dropship part URL is accepted by the emulator as signed, and refused when tampered with. */
export async function proveSignatures(ctx: BenchContext, base: string): Promise<SignatureProof> {
  const client = new DropshipClient({ baseUrl: base, apiKey: BENCH_API_KEY });
  // Just over the single-PUT limit: a multipart upload (its last part is the plan's remainder).
  const dropSize = 16 * MIB + 1024;
  const t = await client.createDrop({ name: 'signature-proof.bin', size: dropSize });
  try {
    const last = t.upload.partCount;
    if (t.upload.mode !== 'multipart' || last < 2) throw new Error(`expected a multipart plan, got ${JSON.stringify(t.upload)}`);
    const [p2] = await client.signParts(t.id, t.ownerToken, [last]);
    const partSize = t.upload.partSize ?? 0;
    const expected = dropSize - (last - 1) * partSize;
    if (!p2 || p2.size !== expected) throw new Error(`part ${last} was signed for ${p2?.size} bytes, not the plan's ${expected}`);
    const body = randomBytes(p2.size);
    const u = new URL(p2.url);
    const sig = u.searchParams.get('X-Amz-Signature')!;
    u.searchParams.set('X-Amz-Signature', (sig[0] === '0' ? '1' : '0') + sig.slice(1));
    const tamperedSignature = await put(u.toString(), body);
    const v = new URL(p2.url);
    v.searchParams.set('partNumber', String(last - 1));
    const tamperedPartNumber = await put(v.toString(), body);
    const wrongSize = await put(p2.url, Buffer.concat([body, Buffer.from('x')]));
    const accepted = await put(p2.url, body);
    const proof: SignatureProof = {
      accepted: { status: accepted.status, etag: accepted.etag },
      tamperedSignature: { status: tamperedSignature.status, code: tamperedSignature.code },
      tamperedPartNumber: { status: tamperedPartNumber.status, code: tamperedPartNumber.code },
      wrongSize: { status: wrongSize.status, code: wrongSize.code },
      dropSize,
      parts: last,
      lastPartSize: p2.size,
      ok:
        accepted.status === 200 &&
        Boolean(accepted.etag) &&
        tamperedSignature.status === 403 &&
        tamperedPartNumber.status === 403 &&
        wrongSize.status === 403,
    };
    if (!proof.ok) {
      throw new Error(
        `the emulator does not validate dropship's signatures as S3 does (is S3_SKIP_SIGNATURE_VALIDATION on?): ${JSON.stringify(proof)}`,
      );
    }
    return proof;
  } finally {
    await client.deleteDrop(t.id, t.ownerToken).catch(() => {});
  }
}

async function startCompanion(ctx: BenchContext): Promise<{ base: string; child: Child }> {
  const port = await freePort();
  const child = startChild(
    'test/bench/companion-server.ts',
    {
      BENCH_PORT: String(port),
      AWS_ENDPOINT_URL: ctx.endpoint,
      AWS_REGION: ctx.config.AWS_REGION,
      DROPSHIP_BUCKET: ctx.config.DROPSHIP_BUCKET,
      NODE_ENV: 'production',
    },
    'companion',
  );
  const base = `http://127.0.0.1:${port}`;
  await waitHealthy(`${base}/healthz`, child, 60_000, 'companion');
  return { base, child };
}

/** Drops the tickets a create run left behind (uploads and manifests), keeping `keep`'s. */
async function cleanupTickets(ctx: BenchContext, keep: { dropId: string; companionUploadId: string }) {
  let aborted = 0;
  let deleted = 0;
  const uploads = (await ctx.store.listMultipartUploads('')).filter(
    (u) => !u.key.startsWith(`drops/${keep.dropId}/`) && u.uploadId !== keep.companionUploadId,
  );
  const until = Date.now() + 90_000;
  let i = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (i < uploads.length && Date.now() < until) {
        const u = uploads[i++]!;
        await ctx.store.abortMultipart(u.key, u.uploadId).catch(() => {});
        aborted++;
      }
    }),
  );
  const keys = (await ctx.store.listKeys('drops/')).filter((k) => !k.startsWith(`drops/${keep.dropId}/`));
  for (let j = 0; j < keys.length && Date.now() < until; j += 1000) {
    await ctx.store.deleteKeys(keys.slice(j, j + 1000));
    deleted += Math.min(1000, keys.length - j);
  }
  return { aborted, deleted };
}

export async function runSigning(ctx: BenchContext): Promise<SigningResults> {
  const connections = 10;
  const duration = ctx.quick ? 3 : 10;
  const warmup = ctx.quick ? 1 : 3;
  const runs: SigningRun[] = [];
  const cleanup = { abortedUploads: 0, deletedObjects: 0 };
  let api: ApiProcess | undefined;
  let comp: { base: string; child: Child } | undefined;
  try {
    api = await startApi(ctx);
    comp = await startCompanion(ctx);
    const proof = await proveSignatures(ctx, api.base);
    ctx.log(`  signatures: accepted ${proof.accepted.status}; tampered signature ${proof.tamperedSignature.status} ${proof.tamperedSignature.code}, part number ${proof.tamperedPartNumber.status} ${proof.tamperedPartNumber.code}, size ${proof.wrongSize.status} ${proof.wrongSize.code}`);

    // The drop and the Companion upload whose parts both sides sign.
    const client = new DropshipClient({ baseUrl: api.base, apiKey: BENCH_API_KEY });
    const ticket = await client.createDrop({ name: 'bench-signing.bin', size: GIB });
    if (ticket.upload.partCount < 100) throw new Error(`a 1 GiB ticket has only ${ticket.upload.partCount} parts`);
    const cr = await fetch(`${comp.base}/s3/multipart`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'bench-signing.bin', type: 'application/octet-stream', metadata: {} }),
    });
    const cu = (await cr.json()) as { key: string; uploadId: string };
    if (!cr.ok || !cu.uploadId) throw new Error(`Companion create: HTTP ${cr.status} ${JSON.stringify(cu)}`);
    const keep = { dropId: ticket.id, companionUploadId: cu.uploadId };

    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    const ownerHeaders = { 'content-type': 'application/json', 'x-owner-token': ticket.ownerToken };
    const cKey = encodeURIComponent(cu.key);
    const cUpload = encodeURIComponent(cu.uploadId);
    const createBody = JSON.stringify({ filename: 'bench-ticket.bin', type: 'application/octet-stream', metadata: {} });
    const specs: Record<Exclude<Scenario, 'create-first-batch' | 'batch-1'>, { urls: number; dropship: LoadSpec; companion: LoadSpec }> = {
      single: {
        urls: 1,
        dropship: { url: `${api.base}/v1/drops/${ticket.id}/parts`, method: 'POST', headers: ownerHeaders, body: JSON.stringify({ partNumbers: [1] }) },
        companion: { url: `${comp.base}/s3/multipart/${cUpload}/1?key=${cKey}` },
      },
      batch: {
        urls: 100,
        dropship: { url: `${api.base}/v1/drops/${ticket.id}/parts`, method: 'POST', headers: ownerHeaders, body: JSON.stringify({ partNumbers: hundred }) },
        companion: { url: `${comp.base}/s3/multipart/${cUpload}/batch?key=${cKey}&partNumbers=${hundred.join(',')}` },
      },
      create: {
        urls: 0,
        dropship: {
          url: `${api.base}/v1/drops`,
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` },
          body: JSON.stringify({ name: 'bench-ticket.bin', size: GIB }),
        },
        companion: { url: `${comp.base}/s3/multipart`, method: 'POST', headers: { 'content-type': 'application/json' }, body: createBody },
      },
    };
    // Companion create, then the first 100 URLs for that upload: the work one dropship ticket does.
    const companionTicketSequence: LoadSpec = {
      url: comp.base,
      sequence: [
        {
          method: 'POST',
          path: '/s3/multipart',
          headers: { 'content-type': 'application/json' },
          body: createBody,
          onResponse: (status, body, context) => {
            if (status === 200) context.upload = JSON.parse(body) as { key: string; uploadId: string };
          },
        },
        {
          method: 'GET',
          setupRequest: (req, context) => {
            const u = context.upload as { key: string; uploadId: string } | undefined;
            if (!u) return undefined;
            return { ...req, path: `/s3/multipart/${encodeURIComponent(u.uploadId)}/batch?key=${encodeURIComponent(u.key)}&partNumbers=${hundred.join(',')}` };
          },
        },
      ],
    };

    // Each spec answers what it should before it is loaded.
    await checkAnswers(specs);

    const pids: Record<Target, number> = { dropship: api.pid, companion: comp.child.pid };
    const scenarios: Scenario[] = ['single', 'batch', 'batch-1', 'create', 'create-first-batch'];
    const plan = (scenario: Scenario): [Target, LoadSpec, number][] =>
      scenario === 'create-first-batch'
        ? [['companion', companionTicketSequence, 100]]
        : (['dropship', 'companion'] as Target[]).map((t) => {
            const k = scenario === 'batch-1' ? 'batch' : scenario;
            return [t, specs[k][t], specs[k].urls];
          });
    const connectionsOf = (scenario: Scenario) => (scenario === 'batch-1' ? 1 : connections);
    const tidy = async () => {
      const c = await cleanupTickets(ctx, keep);
      cleanup.abortedUploads += c.aborted;
      cleanup.deletedObjects += c.deleted;
    };
    for (const scenario of scenarios) {
      if (scenario === 'batch-1') continue; // warmed by 'batch'
      for (const [, spec] of plan(scenario)) await load(spec, { connections, duration: warmup });
      if (scenario.startsWith('create')) await tidy();
    }
    for (let rep = 1; rep <= ctx.reps; rep++) {
      for (const scenario of scenarios) {
        const runsOf = plan(scenario);
        if (rep % 2 === 0) runsOf.reverse();
        for (const [target, spec, u] of runsOf) {
          const before = sampleProc(pids[target]);
          const emuBefore = cpuOf(ctx.emulatorPids);
          const result = await load(spec, { connections: connectionsOf(scenario), duration: scenario === 'batch-1' ? Math.ceil(duration / 2) : duration });
          const after = sampleProc(pids[target]);
          const emulatorCpuSeconds = cpuOf(ctx.emulatorPids) - emuBefore;
          if (scenario === 'create-first-batch') {
            // Two requests per ticket: count tickets (each with its 100 URLs).
            result.reqPerSec /= 2;
            result.ok = Math.floor(result.ok / 2);
          }
          runs.push({ target, scenario, rep, urlsPerRequest: u, result, serverCpuSeconds: after.cpuSeconds - before.cpuSeconds, emulatorCpuSeconds });
          ctx.log(
            `  ${scenario.padEnd(7)} ${target.padEnd(9)} rep ${rep}: ${result.reqPerSec.toFixed(0)} ${scenario.startsWith('create') ? 'tickets' : 'req'}/s` +
              (u && !scenario.startsWith('create') ? ` = ${(result.reqPerSec * u).toFixed(0)} URLs/s` : '') +
              `, p50 ${result.p50} ms, p99 ${result.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}, server CPU ${(after.cpuSeconds - before.cpuSeconds).toFixed(1)} s, emulator CPU ${emulatorCpuSeconds.toFixed(1)} s`,
          );
          if (scenario.startsWith('create')) await tidy();
        }
      }
    }
    await client.deleteDrop(ticket.id, ticket.ownerToken).catch(() => {});
    await fetch(`${comp.base}/s3/multipart/${cUpload}?key=${cKey}`, { method: 'DELETE' }).catch(() => {});
    const micro = await signerMicro(ctx);
    ctx.log(`  signer in-process: dropship ${micro.dropshipPerCpuSecond.toFixed(0)} URLs per CPU-second, getSignedUrl ${micro.getSignedUrlPerCpuSecond.toFixed(0)}`);
    return { micro, connections, duration, warmup, runs, proof, cleanup };
  } finally {
    await api?.stop();
    await comp?.child.stop();
    await abortUploads(ctx.store, 'companion/', 30_000).catch(() => 0);
  }
}

/**
 * The signers alone, in this process, measured in CPU time (robust to a busy machine):
 * dropship's (src/aws/signer.ts) and getSignedUrl(UploadPartCommand), which Companion calls
 * per URL. Same key, upload id and part numbers.
 */
async function signerMicro(ctx: BenchContext): Promise<SignerMicro> {
  const urls = ctx.quick ? 2000 : 10_000;
  // The signer of the product under test (--product-root), not necessarily this checkout's.
  const { createSigner } = (await import(pathToFileURL(join(ctx.productRoot, 'src', 'aws', 'signer.ts')).href)) as typeof SignerModule;
  const signer = createSigner({
    bucket: ctx.config.DROPSHIP_BUCKET,
    region: ctx.config.AWS_REGION,
    endpoint: ctx.endpoint,
    pathStyle: true,
    credentials: credentialsOf(ctx.aws.s3),
    s3: ctx.aws.s3,
  });
  const uploadId = 'x'.repeat(64);
  const key = 'drops/abcdefghijklmnopqrstu/original';
  const perCpuSecond = async (fn: (n: number) => Promise<unknown>) => {
    for (let i = 1; i <= 500; i++) await fn(i); // warm-up (JIT)
    const c0 = process.cpuUsage();
    for (let i = 0; i < urls; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => fn(((i + j) % 10_000) + 1)));
    const c = process.cpuUsage(c0);
    return urls / ((c.user + c.system) / 1e6);
  };
  const dropshipPerCpuSecond = await perCpuSecond((n) =>
    signer.signPut({ key, contentLength: 8 * MIB, expiresIn: 900, part: { uploadId, partNumber: n } }, new Date()),
  );
  const getSignedUrlPerCpuSecond = await perCpuSecond((n) =>
    getSignedUrl(ctx.aws.s3, new UploadPartCommand({ Bucket: ctx.config.DROPSHIP_BUCKET, Key: key, UploadId: uploadId, PartNumber: n, Body: '' }), {
      expiresIn: 900,
    }),
  );
  return { dropshipPerCpuSecond, getSignedUrlPerCpuSecond, urls };
}

async function checkAnswers(specs: Record<Exclude<Scenario, 'create-first-batch' | 'batch-1'>, { urls: number; dropship: LoadSpec; companion: LoadSpec }>) {
  for (const [scenario, s] of Object.entries(specs) as [Scenario, (typeof specs)[keyof typeof specs]][]) {
    for (const target of ['dropship', 'companion'] as Target[]) {
      const spec = s[target];
      const r = await fetch(spec.url, {
        method: spec.method ?? 'GET',
        ...(spec.headers ? { headers: spec.headers } : {}),
        ...(spec.body !== undefined ? { body: spec.body } : {}),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await r.json()) as { parts?: { url: string }[]; url?: string; presignedUrls?: Record<string, string>; uploadId?: string; id?: string };
      const urls = body.parts?.length ?? (body.url ? 1 : Object.keys(body.presignedUrls ?? {}).length);
      const ok =
        r.ok &&
        (scenario === 'create' ? Boolean(body.uploadId ?? body.id) : urls === s.urls);
      if (!ok) throw new Error(`${target} ${scenario}: HTTP ${r.status}, ${urls} URLs: ${JSON.stringify(body).slice(0, 300)}`);
    }
  }
}
