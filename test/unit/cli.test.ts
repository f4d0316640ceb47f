/** Pure parts of the CLI: download names, drop targets, durations, exit codes, progress text. */
import { describe, expect, it } from 'vitest';
import { DropshipApiError, DropshipTransferError } from '../../src/client/index.js';
import { parse, parseDuration, parseLifetime, parsePositiveInt, serverOf } from '../../src/cli/args.js';
import { CliError, EXIT, UsageError, exitCodeOf } from '../../src/cli/exit.js';
import { filenameFromDisposition, sanitizeFilename } from '../../src/cli/filename.js';
import { bar, barLine, createReporter, formatBytes, formatDuration, plainLine, totalOf } from '../../src/cli/render.js';
import { fileKey, stateFilePath } from '../../src/cli/state.js';
import { onlyTarget, parseTarget } from '../../src/cli/target.js';
import type { UploadProgress } from '../../src/client/index.js';

const ID = 'V1StGXR8_Z5jdHi6B-myT';

describe('download file names', () => {
  it.each([
    [`attachment; filename="a.txt"; filename*=UTF-8''r%C3%A4ksm%C3%B6rg%C3%A5s%20%22q%22.bin`, 'räksmörgås "q".bin'],
    [`attachment; filename="plain name.pdf"`, 'plain name.pdf'],
    [`attachment; filename=bare.txt`, 'bare.txt'],
    [`attachment; filename="esc\\"aped.txt"`, 'esc"aped.txt'],
    [`attachment; filename*=iso-8859-1'en'caf%E9.txt`, 'café.txt'],
    [`attachment; filename*=UTF-8''%E0%A4%A; filename="fallback.txt"`, 'fallback.txt'],
    [`inline`, undefined],
  ])('%s → %s', (header, expected) => {
    expect(filenameFromDisposition(header)).toBe(expected);
  });

  it.each([
    ['../../.ssh/authorized_keys', 'authorized_keys'],
    ['..\\..\\Windows\\system.ini', 'system.ini'],
    ['/etc/passwd', 'passwd'],
    ['.bashrc', 'bashrc'],
    ['..', undefined],
    ['   ', undefined],
    ['evil\u0000name\u001b[31m.txt', 'evilname[31m.txt'],
    ['CON.txt', '_CON.txt'],
    ['what?<>|*.txt', 'what_____.txt'],
    ['trailing. . ', 'trailing'],
    ['räksmörgås "q".bin', 'räksmörgås _q_.bin'],
  ])('sanitizes %j → %j', (name, expected) => {
    expect(sanitizeFilename(name)).toBe(expected);
  });

  it('shortens names over 255 bytes and keeps the extension', () => {
    const s = sanitizeFilename(`${'ä'.repeat(300)}.jpeg`)!;
    expect(new TextEncoder().encode(s).length).toBeLessThanOrEqual(255);
    expect(s.endsWith('.jpeg')).toBe(true);
  });
});

describe('drop ids and URLs', () => {
  it.each([
    [ID, { id: ID, kind: 'drop' }],
    [`https://drop.example.com/d/${ID}`, { id: ID, kind: 'drop', server: 'https://drop.example.com' }],
    [`https://drop.example.com/d/${ID}/download`, { id: ID, kind: 'drop', server: 'https://drop.example.com' }],
    [`http://127.0.0.1:8080/v1/drops/${ID}`, { id: ID, kind: 'drop', server: 'http://127.0.0.1:8080' }],
    [`https://example.com/share/d/${ID}?x=1`, { id: ID, kind: 'drop', server: 'https://example.com/share' }],
    [`https://drop.example.com/c/${ID}`, { id: ID, kind: 'collection', server: 'https://drop.example.com' }],
    [`http://127.0.0.1:8080/v1/collections/${ID}`, { id: ID, kind: 'collection', server: 'http://127.0.0.1:8080' }],
  ])('%s', (arg, expected) => {
    expect(parseTarget(arg)).toEqual(expected);
  });

  it('wait and download take drops only; status and delete take collections too', () => {
    expect(() => onlyTarget([`https://drop.example.com/c/${ID}`], 'wait')).toThrow(/wait works on a drop/);
    expect(onlyTarget([`https://drop.example.com/c/${ID}`], 'status', ['drop', 'collection']).kind).toBe('collection');
  });

  it.each(['nope', 'ftp://x/d/' + ID, 'https://example.com/', `https://example.com/d/a`, `https://example.com/c/a`])('refuses %s as a usage error', (arg) => {
    expect(() => parseTarget(arg)).toThrow(UsageError);
  });

  it('--server beats the URL, which beats DROPSHIP_URL, which beats the default', () => {
    expect(serverOf('http://flag/', 'http://url', { DROPSHIP_URL: 'http://env' })).toBe('http://flag');
    expect(serverOf(undefined, 'http://url', { DROPSHIP_URL: 'http://env' })).toBe('http://url');
    expect(serverOf(undefined, undefined, { DROPSHIP_URL: 'http://env' })).toBe('http://env');
    expect(serverOf(undefined, undefined, {})).toBe('http://127.0.0.1:8080');
    expect(() => serverOf('localhost:8080', undefined, {})).toThrow(UsageError);
  });
});

describe('arguments', () => {
  it('an id that begins with "-" is the drop, not an unknown option', () => {
    const old = '-Vxx1StGXR8_Z5jdHi6Bm';
    expect(parse(['--json', old], {}).positionals).toEqual([old]);
    expect(parse([old, '--json'], {}).values.json).toBe(true);
    expect(parse(['--', old], {}).positionals).toEqual([old]);
  });

  it('an option value that begins with "-" is the value, unless it is an option', () => {
    const token = '-Xy9mQ2vB8sT0aLkP3nR7wE1zC5uJ4hG6dF_iOqWc2x';
    const opts = { 'owner-token': { type: 'string' }, output: { type: 'string', short: 'o' }, force: { type: 'boolean', short: 'f' } } as const;
    expect(parse(['--owner-token', token, ID], opts).values['owner-token']).toBe(token);
    expect(parse([ID, '--owner-token', token], opts).positionals).toEqual([ID]);
    expect(parse(['-o', '-', ID], opts).values.output).toBe('-');
    expect(parse(['-o', '-out.bin', ID], opts).values.output).toBe('-out.bin');
    expect(() => parse(['-o', '--force', ID], opts)).toThrow(UsageError);
    expect(() => parse(['-o', '-f', ID], opts)).toThrow(UsageError);
    expect(parse(['--', '--owner-token', token], opts).positionals).toEqual(['--owner-token', token]);
  });

  it('an unknown option is still a usage error', () => {
    expect(() => parse(['--nope', ID], {})).toThrow(UsageError);
    expect(() => parse(['-x'], {})).toThrow(UsageError);
  });
});

describe('option values', () => {
  it.each([
    ['90', 90],
    ['90s', 90],
    ['5m', 300],
    ['2h', 7200],
    ['7d', 604800],
    ['250ms', 0.25],
    ['3d', 259_200],
    ['1w', 604_800],
    ['1.5h', 5400],
    ['2h30m', 9000],
    ['3 days', 259_200],
    ['1 Week 2 days', 777_600],
    ['1 hour', 3600],
    [' 45 min ', 2700],
  ])('duration %s = %ss', (v, s) => expect(parseDuration(v, '--timeout')).toBe(s));

  it.each([
    ['3d', 259_200],
    ['never', 0],
    ['0', 0],
    ['90m', 5400],
  ])('--expires %s = %ss', (v, s) => expect(parseLifetime(v, '--expires')).toBe(s));

  it.each(['soon', '3 constructor', '3 fortnights', '2h and a bit', '', 'd', '-3d', '3d4'])('"%s" is no duration', (v) => {
    expect(() => parseDuration(v, '--expires')).toThrow(/--expires must be a duration like/);
  });

  it('bad durations and counts are usage errors', () => {
    expect(() => parseDuration('soon', '--timeout')).toThrow(UsageError);
    expect(() => parsePositiveInt('0', '--concurrency', 4)).toThrow(UsageError);
    expect(() => parsePositiveInt('3.5', '--concurrency', 4)).toThrow(UsageError);
    expect(() => parsePositiveInt('65', '--concurrency', 4, 64)).toThrow(UsageError);
    expect(parsePositiveInt(undefined, '--concurrency', 4)).toBe(4);
  });
});

describe('exit codes', () => {
  const apiErr = (status: number, code: string) => new DropshipApiError(status, code, code);
  it.each([
    [new UsageError('x'), EXIT.USAGE],
    [apiErr(404, 'DROP_NOT_FOUND'), EXIT.NOT_FOUND],
    [apiErr(410, 'DROP_EXPIRED'), EXIT.DROP_GONE],
    [apiErr(409, 'DROP_NOT_READY'), EXIT.DROP_GONE],
    [apiErr(410, 'DOWNLOAD_LIMIT_REACHED'), EXIT.DROP_GONE],
    [apiErr(429, 'RATE_LIMITED'), EXIT.BUSY],
    [apiErr(503, 'UPLOAD_SLOTS_FULL'), EXIT.BUSY],
    [apiErr(401, 'UNAUTHORIZED'), EXIT.UNAUTHORIZED],
    [apiErr(403, 'OWNER_TOKEN_INVALID'), EXIT.UNAUTHORIZED],
    [apiErr(500, 'INTERNAL'), EXIT.FAILURE],
    [new DropshipTransferError('x', 1, 500), EXIT.FAILURE],
    [new DOMException('t', 'TimeoutError'), EXIT.TIMEOUT],
    [new CliError('x', 4), 4],
    [new TypeError('fetch failed'), EXIT.FAILURE],
  ])('%s → %i', (e, code) => expect(exitCodeOf(e)).toBe(code));
});

describe('progress text', () => {
  const p = (sent: number, total: number, extra: Partial<UploadProgress> = {}): UploadProgress => ({
    bytesSent: sent,
    bytesTotal: total,
    partsDone: 1,
    partCount: 8,
    bytesPerSecond: 5 * 1024 * 1024,
    etaSeconds: 12,
    bytesResumed: 0,
    bytesTransferred: sent,
    ...extra,
  });

  it('formats sizes and durations for people', () => {
    expect([0, 1023, 1024, 1536, 27 * 1024 ** 2, 3 * 1024 ** 4].map(formatBytes)).toEqual(['0 B', '1023 B', '1.00 KiB', '1.50 KiB', '27.0 MiB', '3.00 TiB']);
    expect([0, 59, 65, 3725, undefined].map(formatDuration)).toEqual(['0s', '59s', '1m05s', '1h02m', '--']);
    expect(bar(0.5, 10)).toBe('█████░░░░░');
    expect(bar(2, 4)).toBe('████');
  });

  it('a bar line fits the terminal and shows percent, bytes, speed and ETA', () => {
    const line = barLine('a-very-long-file-name-that-goes-on-and-on.bin', p(8 * 1024 ** 2, 64 * 1024 ** 2), 80);
    expect(line.length).toBeLessThan(80);
    expect(line).toContain(' 12%');
    expect(line).toContain('8.00 MiB/64.0 MiB');
    expect(line).toContain('5.00 MiB/s');
    expect(line).toContain('ETA 12s');
  });

  it('a plain line says how many parts are done', () => {
    expect(plainLine('f.bin', p(8 * 1024 ** 2, 64 * 1024 ** 2))).toBe('f.bin: 12% 8.00 MiB/64.0 MiB, parts 1/8, 5.00 MiB/s, ETA 12s');
  });

  it('the total adds files up; an empty file counts as complete', () => {
    const t = totalOf([p(10, 100), p(0, 0, { etaSeconds: 0 })]);
    expect(t).toMatchObject({ bytesSent: 10, bytesTotal: 100, partsDone: 2, partCount: 16 });
    expect(barLine('x', p(0, 0), 80)).toContain('100%');
  });

  it('without a terminal, progress is a line per completed part, not a redraw', () => {
    let text = '';
    const out = { isTTY: false, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
    const r = createReporter(out, { plainEveryMs: 0 });
    const h = r.start('f.bin', 100);
    r.progress(h, p(5, 100, { partsDone: 0 }));
    r.progress(h, p(50, 100, { partsDone: 1 }));
    r.progress(h, p(60, 100, { partsDone: 1 }));
    r.end(h, 'f.bin: processing http://x/d/1');
    expect(text).not.toContain('\x1b[');
    expect(text.split('\n').filter(Boolean)).toEqual([expect.stringContaining('parts 1/8'), 'f.bin: processing http://x/d/1']);
  });
});

describe('state file', () => {
  it('lives under XDG_STATE_HOME, else ~/.local/state, unless DROPSHIP_STATE_FILE says otherwise', () => {
    expect(stateFilePath({ XDG_STATE_HOME: '/s', HOME: '/h' })).toBe('/s/dropship/uploads.json');
    expect(stateFilePath({ HOME: '/h' })).toBe('/h/.local/state/dropship/uploads.json');
    expect(stateFilePath({ DROPSHIP_STATE_FILE: '/x.json', XDG_STATE_HOME: '/s' })).toBe('/x.json');
  });

  it('a file is the same upload only with the same path, size and mtime', () => {
    const k = fileKey('/a/b', 10, 1000.4);
    expect(fileKey('/a/b', 10, 1000)).toBe(k);
    expect(fileKey('/a/b', 11, 1000)).not.toBe(k);
    expect(fileKey('/a/c', 10, 1000)).not.toBe(k);
    expect(fileKey('/a/b', 10, 2000)).not.toBe(k);
  });
});
