/** Sizes as people read them, shared by the share page (server) and the upload page (browser). */

/** Bytes in binary units, as file managers show them: "999 B", "1.50 KiB", "30.0 MiB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1024) return `${Math.max(0, Math.round(n || 0))} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[u]}`;
}

const DURATION_UNITS: [string, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** Time until something, as people say it: "in 3 days", "in 5 hours", "in 1 minute", "in less than a minute". */
export function formatTimeUntil(ms: number): string {
  for (const [unit, size] of DURATION_UNITS) {
    if (ms >= size) {
      const n = Math.round(ms / size);
      return `in ${n} ${unit}${n === 1 ? '' : 's'}`;
    }
  }
  return 'in less than a minute';
}

/** A moment as a date people read, in UTC: "1 Dec 2026, 15:20 UTC". */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (!Number.isFinite(d.getTime())) return iso;
  const date = d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  const time = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'UTC' });
  return `${date}, ${time} UTC`;
}
