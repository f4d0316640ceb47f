/** §8 of report.md: two api replicas sharing Redis vs one without, and collections. */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderPng } from '../plot.js';
import { fmt, num, spread, type Target } from '../stats.js';
import type { ReplicaRun, ReplicaSetup, ReplicasResults } from '../../suites/replicas.js';
import { pairedRatio, type Section } from './common.js';

const LABEL: Record<ReplicaSetup, string> = { 'two-redis': 'two replicas + Redis', one: 'one replica, no Redis', two: 'two replicas, no Redis' };

export async function replicasSection(r: ReplicasResults, outDir: string): Promise<Section> {
  const md: string[] = [];
  const targets: Target[] = [];
  const of = (setup: ReplicaSetup) => r.runs.filter((x) => x.setup === setup);
  md.push('## 10. Api replicas sharing Redis', '');
  md.push(
    `Ticket creation (\`POST /v1/drops\` for a 1 GiB file, as §2's ticket route: CreateMultipartUpload, the expiry marker, the key-index entry, the manifest, the first URLs signed). ` +
      `Two api processes with \`DROPSHIP_REDIS_URL\` on one redis-server (${r.redis.split(' ').slice(0, 3).join(' ')}; its own process on a free loopback port, nothing on disk), ` +
      `loaded by two autocannon instances at once, ${r.connections / 2} connections each, summed; against one api process without Redis and one autocannon with ${r.connections} connections; and (reported) two api processes without Redis, loaded as the pair. ` +
      `${r.duration} s per run after a ${r.warmup} s warm-up of each setup, the setups interleaved, order alternating per repetition; the tickets' uploads are aborted and their objects deleted after every run. ` +
      'All of it — both apis, redis-server, the emulator and the load generator — shares the machine\'s cores.',
    '',
  );
  const cpuPerTicket = (x: ReplicaRun, c: number | undefined) => (c === undefined ? NaN : (1000 * c) / Math.max(1, x.results.reduce((s, y) => s + y.ok, 0)));
  md.push(
    '| setup | tickets/s | per replica | p50 ms | p99 ms | api CPU ms/ticket (each) | redis CPU ms/ticket | emulator CPU ms/ticket | CPU s per run: apis / redis / emulator | load generator CPU s | cores busy: these processes / whole machine | non-2xx / errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const setup of ['two-redis', 'one', 'two'] as ReplicaSetup[]) {
    const rs = of(setup);
    if (!rs.length) continue;
    const n = rs[0]!.results.length;
    const each = (f: (x: ReplicaRun, i: number) => number) => Array.from({ length: n }, (_, i) => fmt(spread(rs.map((x) => f(x, i))))).join(' / ');
    md.push(
      `| ${LABEL[setup]} | ${fmt(spread(rs.map((x) => x.reqPerSec)))} | ${each((x, i) => x.results[i]!.reqPerSec)} | ${each((x, i) => x.results[i]!.p50)} | ${each((x, i) => x.results[i]!.p99)} | ` +
        `${each((x, i) => (1000 * x.apiCpuSeconds[i]!) / Math.max(1, x.results[i]!.ok))} | ${setup !== 'two-redis' ? '—' : fmt(spread(rs.map((x) => cpuPerTicket(x, x.redisCpuSeconds))))} | ` +
        `${fmt(spread(rs.map((x) => cpuPerTicket(x, x.emulatorCpuSeconds))))} | ` +
        `${each((x, i) => x.apiCpuSeconds[i]!)} / ${setup !== 'two-redis' ? '—' : fmt(spread(rs.map((x) => x.redisCpuSeconds ?? NaN)))} / ${fmt(spread(rs.map((x) => x.emulatorCpuSeconds ?? NaN)))} | ` +
        `${fmt(spread(rs.map((x) => x.loadGeneratorCpuSeconds ?? NaN)))} | ` +
        `${fmt(spread(rs.map((x) => (x.apiCpuSeconds.reduce((a, b) => a + b, 0) + (x.redisCpuSeconds ?? 0) + (x.emulatorCpuSeconds ?? 0)) / x.seconds)))} / ${fmt(spread(rs.map((x) => x.machineCoresBusy ?? NaN)))} | ` +
        `${rs.reduce((s, x) => s + x.results.reduce((a, y) => a + y.non2xx, 0), 0)} / ${rs.reduce((s, x) => s + x.results.reduce((a, y) => a + y.errors, 0), 0)} |`,
    );
  }
  md.push('');
  const ratio = pairedRatio(of('two-redis'), of('one'), (x) => String(x.rep), (x) => x.reqPerSec);
  md.push(
    `Two replicas ÷ one, per repetition: **${fmt(ratio, '×')}**. The CPU columns say where the time went: a second replica can only add tickets while ` +
      'the cores are not already busy — with the emulator (every ticket is four S3 calls to it), both apis and the load generator on the same cores, ' +
      'the replicas split what is left rather than doubling it. "Whole machine" counts everyone\'s processes (/proc/stat), the bench\'s neighbours included.',
    '',
  );
  targets.push({
    id: 'replicas',
    what: 'two api replicas + Redis, ticket creation req/s (1 GiB file)',
    target: '≥ 1.6× one replica without Redis',
    measured:
      `two ${fmt(spread(of('two-redis').map((x) => x.reqPerSec)), 'req/s')}, p99 ${fmt(spread(of('two-redis').map((x) => Math.max(...x.results.map((y) => y.p99)))), 'ms')}; ` +
      `one ${fmt(spread(of('one').map((x) => x.reqPerSec)), 'req/s')}, p99 ${fmt(spread(of('one').map((x) => x.results[0]!.p99)), 'ms')}`,
    ratio: fmt(ratio, '×'),
    pass: ratio.n ? ratio.median >= 1.6 : false,
  });
  const plain = pairedRatio(of('two'), of('one'), (x) => String(x.rep), (x) => x.reqPerSec);
  if (plain.n) {
    md.push(
      `Two replicas **without** Redis ÷ one: ${fmt(plain, '×')}; two with Redis ÷ two without: ${fmt(pairedRatio(of('two-redis'), of('two'), (x) => String(x.rep), (x) => x.reqPerSec), '×')} ` +
        '(what a second replica brings on this machine, and what sharing the limits in Redis costs).',
      '',
    );
    targets.push({
      id: 'replicas-no-redis',
      what: 'two api replicas without Redis, ticket creation req/s',
      target: '(reported: the second replica without Redis)',
      measured: `${fmt(spread(of('two').map((x) => x.reqPerSec)), 'req/s')}, p99 ${fmt(spread(of('two').map((x) => Math.max(...x.results.map((y) => y.p99)))), 'ms')}`,
      ratio: fmt(plain, '×'),
      pass: undefined,
    });
  }

  const c = r.collections;
  if (c) {
    md.push('### Collections (one replica, no Redis; reported)', '');
    md.push(
      `\`GET /v1/collections/:id\` of a collection of ${c.drops} ready drops (each drop's manifest read for its view), one at a time, then autocannon ${c.connections} connections × ${c.duration} s; ` +
        `then, per repetition, ${c.adds[0]?.attempted ?? 0} \`POST /v1/collections/:id/drops\` at once into one empty collection, each a different drop (the drops seeded through the ports).`,
      '',
    );
    md.push('| GET one at a time, p50 ms | GET req/s | p50 ms | p99 ms | non-2xx / errors |', '|---|---|---|---|---|');
    md.push(
      `| ${num(c.getAloneMs)} | ${fmt(spread(c.get.map((x) => x.reqPerSec)))} | ${fmt(spread(c.get.map((x) => x.p50)))} | ${fmt(spread(c.get.map((x) => x.p99)))} | ` +
        `${c.get.reduce((s, x) => s + x.non2xx, 0)} / ${c.get.reduce((s, x) => s + x.errors, 0)} |`,
    );
    md.push('');
    const st = (x: Record<string, number>) => Object.entries(x).map(([k, v]) => `${k}: ${v}`).join(', ');
    md.push(
      'Each add is sent as a client sends it: a `503 STORAGE_BUSY` (the conditional write lost more races than the api retries) is sent again after its `Retry-After`, for up to 60 s.',
      '',
    );
    md.push('| concurrent adds | first answers | final answers | requests | in the collection afterwards | until the last answer, ms |', '|---|---|---|---|---|---|');
    for (const a of c.adds) md.push(`| ${a.attempted} | ${st(a.firstStatuses)} | ${st(a.finalStatuses)} | ${a.requests} | ${a.landed} | ${num(a.ms)} |`);
    md.push('');
    targets.push({
      id: 'collections',
      what: `collections: GET of ${c.drops} drops; ${c.adds[0]?.attempted ?? 0} concurrent adds`,
      target: '(reported; no budget)',
      measured:
        `GET ${fmt(spread(c.get.map((x) => x.reqPerSec)), 'req/s')}, p50 ${fmt(spread(c.get.map((x) => x.p50)), 'ms')}, p99 ${fmt(spread(c.get.map((x) => x.p99)), 'ms')}; ` +
        `${c.adds[0]?.attempted ?? 0} adds at once: ${c.adds.every((a) => a.landed === a.attempted) ? 'all landed' : `**${c.adds.map((a) => `${a.landed}/${a.attempted}`).join(', ')} landed**`} in every repetition, ` +
        `${fmt(spread(c.adds.map((a) => a.firstStatuses['200'] ?? 0)))} at the first request (the rest after a 503 and its Retry-After), in ${fmt(spread(c.adds.map((a) => a.ms)), 'ms')}`,
      pass: undefined,
    });
  }
  md.push(`Cleanup: ${r.cleanup.abortedUploads.toLocaleString('en-US')} multipart uploads aborted, ${r.cleanup.deletedObjects.toLocaleString('en-US')} objects deleted; redis-server stopped.`, '');

  const rows = (['two-redis', 'one', 'two'] as ReplicaSetup[]).flatMap((setup) =>
    of(setup).flatMap((x) => [
      ...x.results.map((y, i) => ({ panel: 'tickets / s', setup: LABEL[setup], rep: x.rep, part: setup === 'one' ? 'api' : `api ${i + 1}`, v: y.reqPerSec })),
      ...x.apiCpuSeconds.map((s, i) => ({ panel: 'CPU seconds per run', setup: LABEL[setup], rep: x.rep, part: setup === 'one' ? 'api' : `api ${i + 1}`, v: s })),
      ...(x.redisCpuSeconds !== undefined ? [{ panel: 'CPU seconds per run', setup: LABEL[setup], rep: x.rep, part: 'redis-server', v: x.redisCpuSeconds }] : []),
      ...(x.emulatorCpuSeconds !== undefined ? [{ panel: 'CPU seconds per run', setup: LABEL[setup], rep: x.rep, part: 'emulator', v: x.emulatorCpuSeconds }] : []),
    ]),
  );
  // Medians over the repetitions, stacked by process.
  const med = new Map<string, { panel: string; setup: string; part: string; vs: number[] }>();
  for (const row of rows) {
    const k = `${row.panel}|${row.setup}|${row.part}`;
    if (!med.has(k)) med.set(k, { panel: row.panel, setup: row.setup, part: row.part, vs: [] });
    med.get(k)!.vs.push(row.v);
  }
  const values = [...med.values()].map((m) => ({ panel: m.panel, setup: m.setup, part: m.part, v: spread(m.vs).median }));
  const panel = (name: string) => ({
    title: name,
    width: 170,
    height: 220,
    transform: [{ filter: { field: 'panel', equal: name } }],
    mark: 'bar',
    encoding: {
      x: { field: 'setup', type: 'nominal', title: null, sort: Object.values(LABEL), axis: { labelAngle: -20, labelLimit: 200 } },
      y: { field: 'v', type: 'quantitative', title: null, stack: 'zero' },
      color: {
        field: 'part',
        title: null,
        scale: { domain: ['api', 'api 1', 'api 2', 'redis-server', 'emulator'], range: ['#4c78a8', '#72b7b2', '#54a24b', '#e45756', '#9d755d'] },
      },
    },
  });
  await renderPng(
    {
      title: { text: 'Ticket creation: two api replicas + Redis vs one replica (and two without Redis)', subtitle: `median over the repetitions, stacked by process; ${r.duration} s runs; ratio ${fmt(ratio, '×')}` },
      data: { values },
      hconcat: ['tickets / s', 'CPU seconds per run'].map(panel),
      resolve: { scale: { color: 'shared' } },
    } as TopLevelSpec,
    join(outDir, 'replicas.png'),
  );
  md.push('![replicas](replicas.png)', '');
  return { md, targets };
}
