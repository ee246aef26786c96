/**
 * `berth audit [app]`: the audit report of a period as GitHub-flavoured Markdown, to stdout or to a file.
 * The server renders it (src/audit/report.ts); this command only asks and writes it out.
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../../lib/atomic-file.ts';
import type { AuditReport } from '../../model/wire.ts';
import { parseCommandArgs, usageError, type CommandSpec, type Globals } from '../args.ts';
import type { Context } from '../context.ts';
import { CliError, EXIT_USAGE } from '../errors.ts';
import { isSince } from './logs.ts';

export const spec: CommandSpec = {
  name: 'audit',
  usage: 'berth audit [app] [--since 7d|ISO-TIME] [--out FILE]',
  summary: 'Write an audit report (Markdown): summary, timeline, policy violations.',
  details: [
    'The report covers every app, or the one named, from --since (default 7d) until now: deploys by outcome, rollbacks, restarts and crash loops, unhealthy instances, certificate events and counts by type; a timeline table (Time | Event | Details) and a policy-violations table (Time | Check | Reason). It prints to stdout; --out writes it to FILE at once (never half-written), replacing a file there. --json prints the API\'s answer with the Markdown in `markdown`.',
  ],
  flags: {
    since: { type: 'string', value: 'WHEN', doc: 'the period\'s start: this long ago (7d, 24h) or this ISO time (default 7d)' },
    out: { type: 'string', value: 'FILE', doc: 'write the report to FILE instead of stdout' },
  },
  args: ['[app]'],
};

export interface AuditArgs {
  globals: Globals;
  app?: string;
  since?: string;
  out?: string;
}

export function parse(argv: string[]): AuditArgs {
  const { flags, positionals, globals } = parseCommandArgs(spec, argv);
  const args: AuditArgs = { globals };
  if (positionals[0] !== undefined) args.app = positionals[0];
  const since = flags.since as string | undefined;
  if (since !== undefined && !isSince(since)) throw usageError(spec, `--since "${since}" is neither a duration nor an ISO time`, 'for example --since 7d, --since 24h or --since 2026-12-01T00:00:00Z');
  if (since !== undefined) args.since = since;
  const out = flags.out as string | undefined;
  if (out !== undefined && out.trim() === '') throw usageError(spec, '--out is empty', 'name the file to write, for example --out report.md');
  if (out !== undefined) args.out = out;
  return args;
}

export async function run(args: AuditArgs, ctx: Context): Promise<number> {
  // Where it goes is checked before the server is asked: a report for a directory is refused at once.
  const path = args.out === undefined ? undefined : checkOutPath(resolve(ctx.io.cwd, args.out), args.out);
  const client = await ctx.client();
  const report = await client.get<AuditReport>('/v1/audit', { query: { app: args.app, since: args.since } });
  if (path === undefined) {
    ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(report, null, 2) + '\n' : report.markdown);
    return 0;
  }
  try {
    writeFileAtomic(path, report.markdown);
  } catch (error) {
    throw new CliError(`cannot write the report to ${args.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'check that its folder exists and that you may write there');
  }
  if (ctx.globals.json) ctx.io.stdout.write(JSON.stringify({ ...report, markdown: undefined, out: path }, null, 2) + '\n');
  else ctx.io.stderr.write(`wrote ${args.out}: ${report.events} events from ${report.from} to ${report.to}${report.cut ? ' (cut: the report says what it leaves out)' : ''}\n`);
  return 0;
}

/** The file to write: not a directory, in a folder that exists. */
function checkOutPath(path: string, given: string): string {
  const target = statOrUndefined(path);
  if (target?.isDirectory()) throw new CliError(`--out ${given} is a directory`, `name a file to write the report to, for example --out ${given.replace(/\/+$/, '')}/audit.md`, EXIT_USAGE);
  if (target && !target.isFile()) throw new CliError(`--out ${given} is not a regular file`, 'name a regular file to write the report to, for example --out audit.md', EXIT_USAGE);
  const folder = statOrUndefined(dirname(path));
  if (!folder?.isDirectory()) throw new CliError(`cannot write --out ${given}: the folder ${dirname(given)} does not exist`, 'create it first, or name a file in an existing folder', EXIT_USAGE);
  return path;
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
