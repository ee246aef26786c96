/** `berth run <app> -- <command...>`: a one-off command in a fresh instance of the current release. */
import type { RunExit, RunOutput } from '../../model/wire.ts';
import { parseCommandArgs, usageError, type CommandSpec, type Globals } from '../args.ts';
import { appPath } from '../client.ts';
import type { Context } from '../context.ts';

export const spec: CommandSpec = {
  name: 'run',
  usage: 'berth run <app> [--timeout SECONDS] -- <command...>',
  summary: 'Run a one-off command (a migration, a script) with the app\'s current release and env.',
  details: [
    'On the docker runtime it runs in a new container of the current image, on the app\'s private network (so services such as Redis or Postgres are reachable by name); on host processes, in the release\'s directory. Output streams back; the exit code is the command\'s (124 when it timed out). Ctrl-C stops it.',
  ],
  flags: { timeout: { type: 'string', value: 'SECONDS', doc: 'stop it after this long (default 1800)' } },
  args: ['<app>', '<command...>'],
  variadic: true,
};

export interface RunArgs {
  globals: Globals;
  app: string;
  command: string;
  timeoutSeconds?: number;
}

const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;
/** Words as the user typed them, quoted for `sh -c` where the shell would otherwise split or expand them. */
export const shellJoin = (words: string[]) => words.map((w) => (PLAIN.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');

export function parse(argv: string[]): RunArgs {
  const { positionals, flags, globals } = parseCommandArgs(spec, argv);
  const [app, ...command] = positionals;
  if (command.length === 0) throw usageError(spec, 'missing the command to run', 'put it after --, for example `berth run myapp -- node scripts/seed.js`');
  const args: RunArgs = { globals, app, command: command.length === 1 ? command[0] : shellJoin(command) };
  if (typeof flags.timeout === 'string') {
    const seconds = Number(flags.timeout);
    if (!Number.isInteger(seconds) || seconds < 1) throw usageError(spec, `"${flags.timeout}" is not a number of seconds`);
    args.timeoutSeconds = seconds;
  }
  return args;
}

export async function run(args: RunArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  let exit: RunExit | undefined;
  const signal = ctx.interrupted();
  try {
    for await (const message of client.events(appPath(args.app, '/run'), {
      method: 'POST',
      body: { command: args.command, ...(args.timeoutSeconds ? { timeoutSeconds: args.timeoutSeconds } : {}) },
      signal,
    })) {
      const data: unknown = JSON.parse(message.data);
      if (message.event === 'output') {
        const output = data as RunOutput;
        (output.stream === 'stderr' ? ctx.io.stderr : ctx.io.stdout).write(`${output.line}\n`);
      } else if (message.event === 'exit') exit = data as RunExit;
    }
  } catch (error) {
    if (!signal.aborted) throw error;
    ctx.io.stderr.write('stopped\n');
    return 130;
  }
  if (ctx.globals.json) ctx.io.stdout.write(JSON.stringify(exit ?? null) + '\n');
  if (!exit) {
    ctx.io.stderr.write('error: the server ended the run without an exit status\n');
    return 1;
  }
  if (exit.error) ctx.io.stderr.write(`error: ${exit.error}\n`);
  if (exit.timedOut) {
    ctx.io.stderr.write('error: the command did not finish in time and was stopped\nhint: pass --timeout SECONDS for longer jobs\n');
    return 124;
  }
  return exit.exitCode ?? 1;
}
