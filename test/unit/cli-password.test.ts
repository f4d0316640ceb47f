/** Where the CLI takes a drop's password from (src/cli/password.ts), and its sentences. */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DropshipApiError } from '../../src/client/index.js';
import { CliError, EXIT, UsageError } from '../../src/cli/exit.js';
import type { Io } from '../../src/cli/io.js';
import { passwordError, passwordOf } from '../../src/cli/password.js';

const io = (env: Record<string, string> = {}, stdin?: string): Io =>
  ({ env, ...(stdin !== undefined ? { stdin: Readable.from([Buffer.from(stdin)]) } : {}) }) as unknown as Io;

describe('passwordOf', () => {
  it.each([
    ['--password', { password: 'from argv' }, io(), 'from argv'],
    ['--password-stdin: the first line only', { 'password-stdin': true }, io({}, 'from stdin\nrest\n'), 'from stdin'],
    ['--password-stdin without a newline', { 'password-stdin': true }, io({}, 'no newline'), 'no newline'],
    ['--password-stdin with CRLF', { 'password-stdin': true }, io({}, 'windows\r\n'), 'windows'],
    ['DROPSHIP_PASSWORD', {}, io({ DROPSHIP_PASSWORD: 'from env' }), 'from env'],
    ['argv wins over the environment', { password: 'argv' }, io({ DROPSHIP_PASSWORD: 'env' }), 'argv'],
    ['none', {}, io(), undefined],
  ])('%s', async (_what, values, given, want) => {
    expect(await passwordOf(values, given)).toBe(want);
  });

  it('refuses two sources and an empty password', async () => {
    await expect(passwordOf({ password: 'a', 'password-stdin': true }, io({}, 'b\n'))).rejects.toBeInstanceOf(UsageError);
    await expect(passwordOf({ 'password-stdin': true }, io({}, '\n'))).rejects.toBeInstanceOf(UsageError);
    await expect(passwordOf({ password: '' }, io())).rejects.toBeInstanceOf(UsageError);
  });
});

describe('passwordError', () => {
  const api = (status: number, code: string) => new DropshipApiError(status, code, 'm');
  it.each([
    ['PASSWORD_WRONG', 401, 'wrong password for drop X', EXIT.UNAUTHORIZED],
    ['PASSWORD_REQUIRED', 401, 'drop X is password-protected: give --password, --password-stdin or DROPSHIP_PASSWORD', EXIT.UNAUTHORIZED],
    ['RATE_LIMITED', 429, 'too many password attempts on drop X; try again later', EXIT.BUSY],
  ])('%s is a sentence', (code, status, message, exit) => {
    const e = passwordError(api(status, code), 'X');
    expect(e).toBeInstanceOf(CliError);
    expect([(e as CliError).message, (e as CliError).exitCode]).toEqual([message, exit]);
  });
  it('leaves other errors alone', () => {
    const other = api(404, 'DROP_NOT_FOUND');
    expect(passwordError(other, 'X')).toBe(other);
  });
});
