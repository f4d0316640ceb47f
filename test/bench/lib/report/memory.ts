/** §5 of report.md: the streaming route's memory by body size, and its plots. */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderPng } from '../plot.js';
import { GIB, MIB, fmt, num, sizeLabel, spread, type Target } from '../stats.js';
import type { MemoryResults } from '../../suites/memory.js';
import { mib, pairedRatio, pct, type Section } from './common.js';

export async function memorySection(m: MemoryResults, outDir: string): Promise<Section> {
  const md: string[] = [];
  const targets: Target[] = [];
  const of = (size: number) => m.runs.filter((r) => r.size === size);
  md.push('## 5. Memory of the streaming route', '');
  md.push(
    'A fresh api process per body size and repetition; the body is generated on the fly and sent like `curl -T` (Content-Length, streamed). ' +
      `Peak RSS is VmHWM after a reset following a 20 MiB warm-up upload${m.peakResetWorked ? '' : ' (**the reset failed: peaks include start-up**)'}; ` +
      `idle RSS is the RSS right before the upload. Parts in flight: ${m.partsInFlight}, part size 8 MiB for these sizes.`,
    '',
  );
  md.push('| body | peak RSS MiB | idle RSS MiB | peak − idle MiB | MiB/s | api CPU s |', '|---|---|---|---|---|---|');
  for (const size of m.sizes) {
    const rs = of(size);
    md.push(
      `| ${sizeLabel(size)} | ${fmt(spread(rs.map((r) => mib(r.peakRssBytes))))} | ${fmt(spread(rs.map((r) => mib(r.idleRssBytes))))} | ` +
        `${fmt(spread(rs.map((r) => mib(r.peakRssBytes - r.idleRssBytes))))} | ${fmt(spread(rs.map((r) => r.mibPerSecond)))} | ${fmt(spread(rs.map((r) => r.cpuSeconds)))} |`,
    );
  }
  md.push('');
  const med = (size: number) => spread(of(size).map((r) => r.peakRssBytes)).median;
  const ref = med(m.sizes[0]!);
  const upTo2 = m.sizes.filter((s) => s <= 2 * GIB);
  const devs = upTo2.map((s) => med(s) / ref - 1);
  const worst = devs.reduce((a, d) => (Math.abs(d) > Math.abs(a) ? d : a), 0);
  targets.push({
    id: 'memory-flat',
    what: `streaming route peak RSS, ${sizeLabel(m.sizes[0]!)} → ${sizeLabel(Math.max(...upTo2))}`,
    target: `flat: every size within ±20 % of ${sizeLabel(m.sizes[0]!)}`,
    measured: upTo2.map((s) => `${sizeLabel(s)} ${num(mib(med(s)))} MiB`).join(', '),
    ratio: `worst ${worst >= 0 ? '+' : ''}${pct(worst)}`,
    pass: upTo2.length > 1 ? devs.every((d) => Math.abs(d) <= 0.2) : undefined,
  });
  if (m.sizes.includes(GIB) && m.sizes.includes(3 * GIB)) {
    // Paired by repetition: the 1 GiB and 3 GiB processes of the same repetition.
    const r = pairedRatio(of(3 * GIB), of(GIB), (x) => String(x.rep), (x) => x.peakRssBytes);
    targets.push({
      id: 'memory-1g-3g',
      what: 'streaming route peak RSS, 3 GiB vs 1 GiB',
      target: 'differ by < 20 %',
      measured: `1 GiB ${num(mib(med(GIB)))} MiB, 3 GiB ${num(mib(med(3 * GIB)))} MiB`,
      ratio: fmt(r, '×'),
      pass: r.n ? Math.abs(r.median - 1) < 0.2 : undefined,
    });
  }
  const rows = m.sizes.map((size) => {
    const p = spread(of(size).map((r) => mib(r.peakRssBytes)));
    const i = spread(of(size).map((r) => mib(r.idleRssBytes)));
    return { gib: size / GIB, label: sizeLabel(size), peak: p.median, min: p.min, max: p.max, idle: i.median };
  });
  await renderPng(
    {
      title: { text: 'Streaming route: api peak RSS vs body size', subtitle: `fresh api per size; median, whiskers min–max; band ±20 % of ${sizeLabel(m.sizes[0]!)}; grey: idle RSS` },
      width: 420,
      height: 260,
      layer: [
        {
          data: { values: [{ lo: (0.8 * ref) / MIB, hi: (1.2 * ref) / MIB }] },
          mark: { type: 'rect', color: '#2ca02c', opacity: 0.12 },
          encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } },
        },
        {
          data: { values: rows },
          layer: [
            {
              mark: { type: 'line', point: true },
              encoding: {
                x: {
                  field: 'gib',
                  type: 'quantitative',
                  scale: { type: 'log', domain: [Math.min(...rows.map((r) => r.gib)) / 1.5, Math.max(...rows.map((r) => r.gib)) * 1.5] },
                  axis: { values: rows.map((r) => r.gib), labelOverlap: false, labelExpr: "datum.value < 1 ? format(datum.value * 1024, 'd') + ' MiB' : datum.value + ' GiB'" },
                  title: 'body size (log scale)',
                },
                y: { field: 'peak', type: 'quantitative', title: 'RSS MiB', scale: { domainMin: 0 } },
              },
            },
            { mark: { type: 'rule' }, encoding: { x: { field: 'gib', type: 'quantitative' }, y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
            { mark: { type: 'line', color: '#999', strokeDash: [4, 3] }, encoding: { x: { field: 'gib', type: 'quantitative' }, y: { field: 'idle', type: 'quantitative' } } },
          ],
        },
      ],
    } as TopLevelSpec,
    join(outDir, 'memory.png'),
  );
  const biggest = Math.max(...m.sizes);
  const timeline = m.runs.find((r) => r.size === biggest && r.rep === 1)?.timeline ?? [];
  await renderPng(
    {
      title: { text: `api RSS while streaming ${sizeLabel(biggest)}`, subtitle: 'sampled every 250 ms from /proc (repetition 1)' },
      data: { values: timeline.map(([t, rss]) => ({ t, rss: rss / MIB })) },
      width: 420,
      height: 200,
      mark: 'line',
      encoding: { x: { field: 't', type: 'quantitative', title: 'seconds' }, y: { field: 'rss', type: 'quantitative', title: 'RSS MiB', scale: { domainMin: 0 } } },
    } as TopLevelSpec,
    join(outDir, 'memory-timeline.png'),
  );
  md.push('![peak RSS vs size](memory.png) ![RSS over time](memory-timeline.png)', '');
  return { md, targets };
}
