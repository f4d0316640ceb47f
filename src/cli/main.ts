/** `dropship` — entry point: dispatch, exit codes, signals. bin/dropship.js loads this. */
import { existsSync, readFileSync } from 'node:fs';
import { remove } from './commands/delete.js';
import { download } from './commands/download.js';
import { help, USAGE } from './commands/help.js';
import { list } from './commands/list.js';
import { status } from './commands/status.js';
import { upload } from './commands/upload.js';
import { wait } from './commands/wait.js';
import { EXIT, EXIT_HELP, INTERRUPTED, UsageError, exitCodeOf, messageOf } from './exit.js';
import type { Io } from './io.js';
import { suggest } from './suggest.js';
import { GLOBAL_OPTIONS } from './args.js';

const COMMANDS: Record<string, (args: string[], io: Io) => Promise<number>> = {
  upload,
  status,
  wait,
  download,
  delete: remove,
  list,
};

/**
 * Global options may come before the command (`dropship --server URL upload f`): they are
 * moved behind it, where every command parses them.
 */
export function hoistGlobals(argv: string[]): string[] {
  const globals: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag] = a.split('=', 1);
    const name = flag!.startsWith('--') ? flag!.slice(2) : Object.entries(GLOBAL_OPTIONS).find(([, o]) => 'short' in o && `-${o.short}` === flag)?.[0];
    const o = name === undefined ? undefined : (GLOBAL_OPTIONS as Record<string, { type: string }>)[name];
    // --help and --version before a command keep their meaning as commands of their own.
    if (!o || name === 'help') break;
    globals.push(a);
    if (o.type === 'string' && !a.includes('=') && i + 1 < argv.length) globals.push(argv[++i]!);
  }
  if (globals.length === 0 || i >= argv.length) return argv;
  return [argv[i]!, ...globals, ...argv.slice(i + 1)];
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = hoistGlobals(argv);
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      if (command === 'help' && rest[0] && COMMANDS[rest[0]]) return help(io, rest[0]);
      // Asked for: stdout and success. Not asked for (no command at all): a usage error on stderr.
      (command === undefined ? io.stderr : io.stdout).write(`${USAGE}\n${EXIT_HELP}\n`);
      return command === undefined ? EXIT.USAGE : EXIT.OK;
    }
    if (command === '--version' || command === '-V') {
      io.stdout.write(`${version()}\n`);
      return EXIT.OK;
    }
    const run = COMMANDS[command];
    if (!run) {
      const meant = suggest(command, Object.keys(COMMANDS));
      throw new UsageError(`unknown command "${command}"${meant ? `; did you mean "${meant}"?` : ''}`);
    }
    return await run(rest, io);
  } catch (e) {
    const code = io.signal.aborted ? EXIT.INTERRUPTED : exitCodeOf(e);
    io.stderr.write(`dropship: ${io.signal.aborted ? INTERRUPTED : messageOf(e)}\n`);
    if (e instanceof UsageError) io.stderr.write(`Run "dropship --help" for usage.\n`);
    return code;
  }
}

/** package.json is two folders up from the sources (src/cli) and three from the compiled code (dist/src/cli). */
function version(): string {
  const file = ['../../package.json', '../../../package.json'].map((p) => new URL(p, import.meta.url)).find((u) => existsSync(u));
  if (!file) throw new Error('package.json not found next to the CLI');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Runs the CLI in this process: wires signals and exits with main's code. */
export async function run(argv = process.argv.slice(2)): Promise<never> {
  const ctrl = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    // First signal: stop cleanly (uploads stay resumable). Second: leave at once.
    if (++interrupts > 1) process.exit(EXIT.INTERRUPTED);
    ctrl.abort(new DOMException(`received ${sig}`, 'AbortError'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await main(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal: ctrl.signal,
    stdin: process.stdin,
  });
  // Let stdout drain (pipes are asynchronous) before leaving.
  await new Promise<void>((r) => process.stdout.write('', () => r()));
  process.exit(code);
}
