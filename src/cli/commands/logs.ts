/**
 * `berth logs <app>`: recent output of the app's processes, `--grep` to keep lines holding a text; `-f`
 * keeps following until Ctrl-C. `--access` shows the requests the proxy answered instead (./logs-access.ts).
 */
import { parseDuration } from '../../lib/duration.ts';
import { MAX_ACCESS_PATH_PREFIX, MAX_ACCESS_TAIL, MAX_GREP_LENGTH, parseStatusFilter } from '../../model/wire-logs.ts';
import type { LogLine, LogLines } from '../../model/wire.ts';
import { parseCommandArgs, parseCount, usageError, type CommandSpec, type Globals } from '../args.ts';
import { appPath } from '../client.ts';
import type { Context } from '../context.ts';
import { shortId } from '../format.ts';
import type { Style } from '../io.ts';
import { runAccess } from './logs-access.ts';
import { followEvents, formatTime, printable } from './logs-print.ts';

export { formatTime };

export const spec: CommandSpec = {
  name: 'logs',
  usage: 'berth logs <app> [-f|--follow] [--since 10m|ISO-TIME] [--tail N] [--process NAME] [--grep TEXT] | --access [-f] [--status 5xx|404] [--path /PREFIX] [--since ...] [--tail N]',
  summary: 'Show an app\'s output (or with --access, the requests it answered); -f follows it live.',
  details: [
    'Each line reads `<time> <process>.<instance> <line>`; lines the app wrote to stderr are marked. --json prints the API\'s `{ lines }`, or with -f one LogLine JSON object per line.',
    '--grep keeps the lines holding TEXT, a plain substring (no regular expression): case-insensitive when TEXT has no upper-case letter, exact otherwise (smart case).',
    '--access reads the proxy\'s access log: `<time> <status> <method> <path> <duration> <bytes> <client ip> <release>` per request; --status takes a class (5xx) or a code (404), --path a path prefix. --json prints the API\'s `{ entries, complete }`, or with -f one entry per line.',
    'Control characters in what apps and clients wrote are shown escaped (\\x1b).',
  ],
  flags: {
    follow: { type: 'boolean', short: 'f', doc: 'keep printing new lines until Ctrl-C' },
    since: { type: 'string', value: 'WHEN', doc: 'only lines from this long ago (10m, 2h) or since this ISO time' },
    tail: { type: 'string', value: 'N', doc: 'at most the last N lines (default 100)' },
    process: { type: 'string', value: 'NAME', doc: 'only this process, such as web or worker' },
    grep: { type: 'string', value: 'TEXT', doc: `only lines holding TEXT (smart case, at most ${MAX_GREP_LENGTH} characters)` },
    access: { type: 'boolean', doc: 'the requests the proxy answered (its access log) instead of the app\'s output' },
    status: { type: 'string', value: 'STATUS', doc: 'with --access: a status class (5xx) or code (404)' },
    path: { type: 'string', value: 'PREFIX', doc: 'with --access: only paths starting with PREFIX' },
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
  grep?: string;
  access?: true;
  status?: string;
  path?: string;
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
  if (flags.access === true) return accessArgs(args, flags);
  for (const flag of ['status', 'path'] as const) {
    if (flags[flag] !== undefined) throw usageError(spec, `--${flag} filters the access log`, `add --access: berth logs ${args.app} --access --${flag} ...`);
  }
  if (flags.process !== undefined) args.process = flags.process as string;
  const grep = flags.grep as string | undefined;
  if (grep !== undefined) {
    if (grep.length === 0 || grep.length > MAX_GREP_LENGTH) throw usageError(spec, `--grep takes 1 to ${MAX_GREP_LENGTH} characters, not ${grep.length}`, 'a shorter part of the line finds it too');
    args.grep = grep;
  }
  return args;
}

function accessArgs(args: LogsArgs, flags: Record<string, unknown>): LogsArgs {
  for (const flag of ['process', 'grep'] as const) {
    if (flags[flag] !== undefined) throw usageError(spec, `--${flag} filters the app's output, not the access log`, '--access filters by --status and --path');
  }
  const status = flags.status as string | undefined;
  if (status !== undefined) {
    const parsed = parseStatusFilter(status);
    if (typeof parsed === 'string') throw usageError(spec, `--status ${parsed}`, 'for example --status 5xx or --status 404');
    args.status = status;
  }
  const path = flags.path as string | undefined;
  if (path !== undefined) {
    if (!path.startsWith('/') || path.length > MAX_ACCESS_PATH_PREFIX) throw usageError(spec, `--path takes a path prefix starting with / (at most ${MAX_ACCESS_PATH_PREFIX} characters)`, 'for example --path /api');
    args.path = path;
  }
  if (args.tail !== undefined && args.tail > MAX_ACCESS_TAIL) throw usageError(spec, `--tail with --access is at most ${MAX_ACCESS_TAIL}`);
  return { ...args, access: true };
}

export function formatLogLine(line: LogLine, now: number, style: Style, options: { utc?: boolean } = {}): string {
  const source = style.cyan(`${line.process}.${shortId(line.instance)}`);
  const marker = line.stream === 'stderr' ? ` ${style.red('[stderr]')}` : '';
  return `${style.dim(formatTime(line.ts, now, options))} ${source}${marker} ${printable(line.line)}\n`;
}

export async function run(args: LogsArgs, ctx: Context): Promise<number> {
  if (args.access) return runAccess(args, ctx);
  const client = await ctx.client();
  const query = { tail: args.tail, since: args.since, process: args.process, grep: args.grep };
  const path = appPath(args.app, '/logs');
  const print = (line: LogLine) => ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(line) + '\n' : formatLogLine(line, ctx.now(), ctx.out));
  if (!args.follow) {
    const body = await client.get<LogLines>(path, { query });
    if (ctx.globals.json) ctx.io.stdout.write(JSON.stringify(body, null, 2) + '\n');
    else if (body.lines.length === 0) ctx.io.stderr.write(`no log lines from ${args.app}${args.grep !== undefined ? ` holding "${printable(args.grep)}"` : ''}${args.since ? ` since ${args.since}` : ''}\n`);
    else for (const line of body.lines) print(line);
    return 0;
  }
  const signal = ctx.interrupted();
  return followEvents((onOpen) => client.events(path, { query: { ...query, follow: true }, signal, onOpen }), 'log', (data) => print(JSON.parse(data) as LogLine));
}
