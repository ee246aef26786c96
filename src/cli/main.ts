/**
 * `berth`: finds the command, hands it its arguments and a Context, and turns whatever it throws into
 * `error:` / `hint:` on stderr and an exit code (0 ok, 1 failure, 2 usage error). bin/berth runs this file.
 */
import { BerthError } from '../errors/catalogue.ts';
import { closest } from '../manifest/suggest.ts';
import { commandHelp, flagLines, GLOBAL_FLAGS, type FlagSpec } from './args.ts';
import { createContext } from './context.ts';
import { describeError, exitCodeFor } from './errors.ts';
import { formatError } from './format.ts';
import { colorEnabled, processIo, style, type Io } from './io.ts';
import { COMMAND_GROUPS, COMMAND_NAMES, findCommand } from './registry.ts';
import { cliVersion } from './version.ts';

export const MAIN_USAGE = 'berth <command> [arguments] [flags]';

export interface CommandLine {
  /** Global flags given before the command, passed on to it. */
  leading: string[];
  command?: string;
  rest: string[];
}

function globalFlag(token: string): [string, FlagSpec] | undefined {
  if (token.startsWith('--')) {
    const name = token.slice(2).split('=')[0];
    return Object.hasOwn(GLOBAL_FLAGS, name) ? [name, GLOBAL_FLAGS[name]] : undefined;
  }
  return Object.entries(GLOBAL_FLAGS).find(([, flag]) => flag.short !== undefined && token === `-${flag.short}`);
}

/** Splits `berth [global flags] <command> [rest]`; only global flags may come before the command. */
export function splitCommandLine(argv: string[]): CommandLine {
  const leading: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') return { leading, command: argv[i + 1], rest: argv.slice(i + 2) };
    if (!token.startsWith('-') || token === '-') return { leading, command: token, rest: argv.slice(i + 1) };
    const flag = globalFlag(token);
    if (!flag) {
      throw new BerthError('USAGE', `unknown flag ${token} before the command`, 'see `berth --help`; command flags go after the command', { usage: MAIN_USAGE });
    }
    leading.push(token);
    if (flag[1].type === 'string' && !token.includes('=')) {
      if (i + 1 >= argv.length) throw new BerthError('USAGE', `${token} needs a value (${flag[1].value})`, 'see `berth --help`', { usage: MAIN_USAGE });
      leading.push(argv[++i]);
    }
  }
  return { leading, rest: [] };
}

/** `-h`/`--help` anywhere before a `--`. */
export function wantsHelp(argv: string[]): boolean {
  for (const token of argv) {
    if (token === '--') return false;
    if (token === '-h' || token === '--help') return true;
  }
  return false;
}

export function unknownCommand(name: string): BerthError {
  const guess = closest(name, COMMAND_NAMES);
  return new BerthError('USAGE', `unknown command "${name}"`, guess ? `did you mean \`berth ${guess}\`? (\`berth --help\` lists every command)` : '`berth --help` lists every command', { usage: MAIN_USAGE });
}

/** `berth --help`: every command with its one-line summary, by group. */
export async function overviewHelp(): Promise<string> {
  const lines = ['berth: deploy side projects to your own server, with health-gated zero-downtime releases', '', `usage: ${MAIN_USAGE}`];
  const width = Math.max(...COMMAND_NAMES.map((name) => name.length));
  for (const group of COMMAND_GROUPS) {
    lines.push('', `${group.title}:`);
    for (const [name, load] of Object.entries(group.commands)) {
      const { spec } = await load();
      lines.push(`  ${name.padEnd(width)}  ${spec.summary}`);
    }
  }
  lines.push('', 'global flags:', ...flagLines(GLOBAL_FLAGS));
  lines.push('', '`berth help <command>` (or `berth <command> --help`) shows a command\'s arguments and flags.', 'New here? `berth up` starts a local server and deploys an example app.');
  return lines.join('\n') + '\n';
}

export async function main(argv: string[], given: Io): Promise<number> {
  // Whether the command printed anything: a failure is JSON on stdout only while stdout is still empty
  // (one JSON document; a `logs -f --json` stream that breaks off ends with the error on stderr alone).
  let printed = false;
  // --json as parsed once parsing got that far; before, as written ahead of a `--` (what follows is a command's).
  let json = (argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv).includes('--json');
  const io: Io = {
    ...given,
    stdout: {
      write: (text: string) => ((printed = true), given.stdout.write(text)),
      get isTTY() {
        return given.stdout.isTTY;
      },
      get columns() {
        return given.stdout.columns;
      },
    },
  };
  try {
    const line = splitCommandLine(argv);
    if (line.command === undefined) {
      if (line.leading.includes('--version')) {
        io.stdout.write(`berth ${cliVersion()}\n`);
        return 0;
      }
      io.stdout.write(await overviewHelp());
      return 0;
    }
    if (line.command === 'help') {
      const [topic, ...more] = line.rest;
      if (topic === undefined) {
        io.stdout.write(await overviewHelp());
        return 0;
      }
      const load = findCommand(topic);
      if (!load) throw unknownCommand(topic);
      const module = await load();
      io.stdout.write(module.helpFor?.(more) ?? commandHelp(module.spec));
      return 0;
    }
    const load = findCommand(line.command);
    if (!load) throw unknownCommand(line.command);
    const module = await load();
    const args = [...line.leading, ...line.rest];
    if (wantsHelp(args)) {
      io.stdout.write(module.helpFor?.(line.rest) ?? commandHelp(module.spec));
      return 0;
    }
    const parsed = module.parse(args);
    json = parsed.globals.json === true;
    if (parsed.globals.version) {
      io.stdout.write(`berth ${cliVersion()}\n`);
      return 0;
    }
    const ctx = createContext(parsed.globals, io);
    try {
      return await module.run(parsed as never, ctx);
    } finally {
      ctx.close();
    }
  } catch (error) {
    const described = describeError(error);
    io.stderr.write(formatError(described, style(colorEnabled(io.stderr, io.env))));
    // A script that asked for --json gets the failure as JSON on stdout too, with the stable code.
    if (json && !printed) io.stdout.write(JSON.stringify({ error: { code: described.code ?? null, message: described.message, hint: described.hint ?? null, details: described.details ?? null } }, null, 2) + '\n');
    if (io.env.BERTH_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return exitCodeFor(error);
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2), processIo());
}
