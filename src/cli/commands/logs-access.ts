/**
 * `berth logs <app> --access`: the requests the proxy answered for the app, one readable line each
 * (`time status method path ms bytes ip release`), or the entries as JSON. What a client sent (its path)
 * is printed with control characters escaped: a request must not be able to drive the reader's terminal.
 */
import type { AccessLog, AccessLogEntry } from '../../model/wire.ts';
import { appPath } from '../client.ts';
import type { Context } from '../context.ts';
import type { Style } from '../io.ts';
import type { LogsArgs } from './logs.ts';
import { followEvents, formatTime, printable } from './logs-print.ts';

export function formatAccessEntry(e: AccessLogEntry, now: number, style: Style, options: { utc?: boolean } = {}): string {
  const color = e.status >= 500 ? style.red : e.status >= 400 ? style.yellow : (s: string) => s;
  const fields = [
    style.dim(formatTime(e.time, now, options)),
    color(String(e.status)),
    printable(e.method),
    printable(e.path),
    `${formatMs(e.ms)}`,
    `${e.bytes}B`,
    printable(e.ip),
    style.cyan(printable(e.release ?? '-')),
  ];
  return fields.join(' ') + '\n';
}

/** `0.8ms`, `12ms`, `1.53s`. */
function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)}ms`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

export async function runAccess(args: LogsArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  const query = { tail: args.tail, since: args.since, status: args.status, path: args.path };
  const path = appPath(args.app, '/access-log');
  const print = (e: AccessLogEntry) => ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(e) + '\n' : formatAccessEntry(e, ctx.now(), ctx.out));
  if (!args.follow) {
    const body = await client.get<AccessLog>(path, { query });
    if (ctx.globals.json) ctx.io.stdout.write(JSON.stringify(body, null, 2) + '\n');
    else if (body.entries.length === 0) ctx.io.stderr.write(`no requests to ${args.app} in the access log${args.since ? ` since ${args.since}` : ''}\n`);
    else for (const entry of body.entries) print(entry);
    if (!body.complete && !ctx.globals.json) ctx.io.stderr.write('older requests may exist: the read stopped at its scan bound (narrow it with --since)\n');
    return 0;
  }
  const signal = ctx.interrupted();
  return followEvents((onOpen) => client.events(path, { query: { ...query, follow: true }, signal, onOpen }), 'access', (data) => print(JSON.parse(data) as AccessLogEntry));
}
