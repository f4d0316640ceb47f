/** Medians with their range, percentiles, and the formatting the report uses. */

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v.at(-1)!, n: v.length };
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: number[], p: number): number {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const rank = Math.min(v.length, Math.max(1, Math.ceil((p / 100) * v.length)));
  return v[rank - 1]!;
}

/** A number with about three significant digits, thousands separated. */
export function num(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return '—';
  const abs = Math.abs(x);
  if (abs === 0) return '0';
  if (abs >= 1000) return Math.round(x).toLocaleString('en-US');
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(abs)));
  return x.toFixed(Math.min(decimals, 6));
}

/** "median [min–max]" (just the value when there was one run or no spread). */
export function fmt(s: Spread, unit = '', digits = 3): string {
  if (s.n === 0) return '—';
  const u = unit ? ` ${unit}` : '';
  if (s.n === 1 || s.min === s.max) return `${num(s.median, digits)}${u}`;
  return `${num(s.median, digits)}${u} [${num(s.min, digits)}–${num(s.max, digits)}]`;
}

export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;

export function sizeLabel(bytes: number): string {
  if (bytes >= GIB && bytes % GIB === 0) return `${bytes / GIB} GiB`;
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  return `${bytes} B`;
}

export interface Target {
  id: string;
  what: string;
  target: string;
  measured: string;
  ratio?: string;
  pass: boolean | undefined;
  note?: string;
}
