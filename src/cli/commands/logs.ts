/** `berth logs <app>`: recent output of the app's processes; `-f` keeps following until Ctrl-C. */
import { isBerthError } from '../../errors/catalogue.ts';
import { parseDuration } from '../../lib/duration.ts';
import type { LogLine, LogLines } from '../../model/wire.ts';
import { parseCommandArgs, parseCount, usageError, type CommandSpec, type Globals } from '../args.ts';
import { appPath } from '../client.ts';
import type { Context } from '../context.ts';
import { CliError, isAbort } from '../errors.ts';
import { shortId } from '../format.ts';
import type { Style } from '../io.ts';

export const spec: CommandSpec = {
  name: 'logs',
  usage: 'berth logs <app> [-f|--follow] [--since 10m|ISO-TIME] [--tail N] [--process NAME]',
  summary: 'Show an app\'s output; -f follows it live.',
  details: [
    'Each line reads `<time> <process>.<instance> <line>`; lines the app wrote to stderr are marked. --json prints the API\'s `{ lines }`, or with -f one LogLine JSON object per line.',
  ],
  flags: {
    follow: { type: 'boolean', short: 'f', doc: 'keep printing new lines until Ctrl-C' },
    since: { type: 'string', value: 'WHEN', doc: 'only lines from this long ago (10m, 2h) or since this ISO time' },
    tail: { type: 'string', value: 'N', doc: 'at most the last N lines (default 100)' },
    process: { type: 'string', value: 'NAME', doc: 'only this process, such as web or worker' },
  },
  args: ['<app>'],
};

export interface LogsArgs {
  globals: Globals;
  app: string;
  follow: boolean;
  since?: string;
  tail?: number;
  process?: string;
}

/** A duration (10m) or an ISO date/time (2024-05-01, 2024-05-01T12:00:00Z), as the API takes it. */
export function isSince(text: string): boolean {
  return parseDuration(text) !== undefined || (/^\d{4}-\d{2}-\d{2}/.test(text) && Number.isFinite(Date.parse(text)));
}

export function parse(argv: string[]): LogsArgs {
  const { flags, positionals, globals } = parseCommandArgs(spec, argv);
  const since = flags.since as string | undefined;
  if (since !== undefined && !isSince(since)) throw usageError(spec, `--since "${since}" is neither a duration nor an ISO time`, 'for example --since 10m, --since 2h or --since 2024-05-01T12:00:00Z');
  const args: LogsArgs = { globals, app: positionals[0], follow: flags.follow === true };
  if (since !== undefined) args.since = since;
  const tail = parseCount(spec, 'tail', flags.tail as string | undefined, 0);
  if (tail !== undefined) args.tail = tail;
  if (flags.process !== undefined) args.process = flags.process as string;
  return args;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `12:03:04.512` in local time (UTC when asked), with the date in front when it is not from today. */
export function formatTime(iso: string, now: number, options: { utc?: boolean } = {}): string {
  const date = new Date(iso);
  if (!Number.isFinite(date.getTime())) return iso;
  const today = new Date(now);
  const get = options.utc
    ? (d: Date) => [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()]
    : (d: Date) => [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()];
  const [y, mo, d, h, mi, s, ms] = get(date);
  const [ty, tmo, td] = get(today);
  const time = `${pad(h)}:${pad(mi)}:${pad(s)}.${pad(ms, 3)}`;
  return y === ty && mo === tmo && d === td ? time : `${y}-${pad(mo)}-${pad(d)} ${time}`;
}

export function formatLogLine(line: LogLine, now: number, style: Style, options: { utc?: boolean } = {}): string {
  const source = style.cyan(`${line.process}.${shortId(line.instance)}`);
  const marker = line.stream === 'stderr' ? ` ${style.red('[stderr]')}` : '';
  return `${style.dim(formatTime(line.ts, now, options))} ${source}${marker} ${line.line}\n`;
}

export async function run(args: LogsArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  const query = { tail: args.tail, since: args.since, process: args.process };
  const path = appPath(args.app, '/logs');
  const print = (line: LogLine) => ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(line) + '\n' : formatLogLine(line, ctx.now(), ctx.out));
  if (!args.follow) {
    const body = await client.get<LogLines>(path, { query });
    if (ctx.globals.json) ctx.io.stdout.write(JSON.stringify(body, null, 2) + '\n');
    else if (body.lines.length === 0) ctx.io.stderr.write(`no log lines from ${args.app}${args.since ? ` since ${args.since}` : ''}\n`);
    else for (const line of body.lines) print(line);
    return 0;
  }
  let open = false;
  try {
    for await (const message of client.events(path, { query: { ...query, follow: true }, signal: ctx.interrupted(), onOpen: () => (open = true) })) {
      if (message.event !== 'log') continue;
      print(JSON.parse(message.data) as LogLine);
    }
  } catch (error) {
    // Ctrl-C is how one stops following: not a failure.
    if (isAbort(error)) return 0;
    // A connection dropped mid-stream is the server going away, as when it ends the stream.
    if (!open || !isBerthError(error) || error.code !== 'DAEMON_UNREACHABLE') throw error;
  }
  throw new CliError('the server ended the log stream', 'it stopped or restarted; run the command again once it is back (`berth version` shows whether it answers)');
}
