/** `berth events [app]`: the event log, oldest first, every app's or one's; `-f` keeps following it. */
import { isBerthError } from '../../errors/catalogue.ts';
import type { ApiEvent, EventList } from '../../model/wire.ts';
import { parseCommandArgs, parseCount, usageError, type CommandSpec, type Globals } from '../args.ts';
import type { Context } from '../context.ts';
import { CliError, isAbort } from '../errors.ts';
import type { Style } from '../io.ts';
import { sanitizeLine } from '../progress.ts';
import { formatTime, isSince } from './logs.ts';

export const spec: CommandSpec = {
  name: 'events',
  usage: 'berth events [app] [-f|--follow] [--since 7d|ISO-TIME] [--type TYPES] [--limit N]',
  summary: 'Show what berth recorded: deploys, restarts, crashes, certificates; -f follows live.',
  details: [
    'Each line reads `<time> <app> <type> <message>` (without the app when one is named), oldest first: the latest --limit events (default 100), from --since on when given. --type takes types or families, comma-separated: --type deploy.failed,instance.* (or --type cert). --json prints the API\'s `{ events }`, or with -f one event JSON object per line.',
  ],
  flags: {
    follow: { type: 'boolean', short: 'f', doc: 'keep printing new events until Ctrl-C' },
    since: { type: 'string', value: 'WHEN', doc: 'only events from this long ago (7d, 2h) or since this ISO time' },
    type: { type: 'string', value: 'TYPES', doc: 'only these event types or families, comma-separated (deploy.failed,instance.*)' },
    limit: { type: 'string', value: 'N', doc: 'at most N events, the latest (default 100, at most 1000)' },
  },
  args: ['[app]'],
};

export interface EventsArgs {
  globals: Globals;
  app?: string;
  follow: boolean;
  since?: string;
  type?: string;
  limit?: number;
}

/** The most events one request asks for (the API's bound). */
const MAX_LIMIT = 1000;

export function parse(argv: string[]): EventsArgs {
  const { flags, positionals, globals } = parseCommandArgs(spec, argv);
  const args: EventsArgs = { globals, follow: flags.follow === true };
  if (positionals[0] !== undefined) args.app = positionals[0];
  const since = flags.since as string | undefined;
  if (since !== undefined && !isSince(since)) throw usageError(spec, `--since "${since}" is neither a duration nor an ISO time`, 'for example --since 7d, --since 2h or --since 2026-12-01T00:00:00Z');
  if (since !== undefined) args.since = since;
  const type = flags.type as string | undefined;
  if (type !== undefined && type.trim() === '') throw usageError(spec, '--type is empty', 'for example --type deploy.failed or --type instance.*');
  if (type !== undefined) args.type = type;
  const limit = parseCount(spec, 'limit', flags.limit as string | undefined);
  if (limit !== undefined && limit > MAX_LIMIT) throw usageError(spec, `--limit ${limit} is more than ${MAX_LIMIT}`, 'page on with --since, or follow with -f');
  if (limit !== undefined) args.limit = limit;
  return args;
}

/** One event on one line; its message's own colours and control characters never reach the terminal. */
export function formatEvent(event: ApiEvent, now: number, style: Style, options: { utc?: boolean; withApp?: boolean } = {}): string {
  const clean = (text: string) => sanitizeLine(text).replace(/[\u0080-\u009f]/g, ' ');
  const app = options.withApp ? `${style.cyan(clean(event.app ?? '-'))} ` : '';
  const type = event.type === 'deploy.failed' || event.type === 'instance.crashloop' || event.type === 'policy.violation' ? style.red(event.type) : event.type;
  return `${style.dim(formatTime(event.at, now, options))} ${app}${type} ${clean(event.message)}\n`;
}

export async function run(args: EventsArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  const query = { app: args.app, since: args.since, type: args.type, limit: args.limit };
  const withApp = args.app === undefined;
  const print = (event: ApiEvent) => ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(event) + '\n' : formatEvent(event, ctx.now(), ctx.out, { withApp }));
  if (!args.follow) {
    const body = await client.get<EventList>('/v1/events', { query });
    if (ctx.globals.json) ctx.io.stdout.write(JSON.stringify(body, null, 2) + '\n');
    else if (body.events.length === 0) ctx.io.stderr.write(`no events${args.app ? ` of ${args.app}` : ''}${args.since ? ` since ${args.since}` : ''}${args.type ? ` of type ${args.type}` : ''}\n`);
    else for (const event of body.events) print(event);
    return 0;
  }
  let open = false;
  try {
    for await (const message of client.events('/v1/events', { query: { ...query, follow: true }, signal: ctx.interrupted(), onOpen: () => (open = true) })) {
      print(JSON.parse(message.data) as ApiEvent);
    }
  } catch (error) {
    // Ctrl-C is how one stops following: not a failure.
    if (isAbort(error)) return 0;
    // A connection dropped mid-stream is the server going away, as when it ends the stream.
    if (!open || !isBerthError(error) || error.code !== 'DAEMON_UNREACHABLE') throw error;
  }
  throw new CliError('the server ended the event stream', 'it stopped or restarted; run the command again once it is back (`berth version` shows whether it answers)');
}
