/**
 * `berth env list|set|unset`: an app's environment variables. A change rolls out as a new release through
 * the health gate, which this follows like a deploy. Values are never printed, except by `list --reveal`;
 * `KEY=-` reads a value from stdin so secrets stay out of shell history.
 */
import { checkEnvName } from '../../model/env-vars.ts';
import { closest } from '../../manifest/suggest.ts';
import type { EnvChange, EnvList } from '../../model/wire.ts';
import { commandHelp, parseCommandArgs, splitSubcommand, usageError, type CommandSpec, type Globals } from '../args.ts';
import { appPath } from '../client.ts';
import type { Context } from '../context.ts';
import { CliError, EXIT_USAGE } from '../errors.ts';
import { followAndReport } from '../follow.ts';
import { formatAgo, formatTable } from '../format.ts';
import type { Style } from '../io.ts';
import { readAll, readSecret, stripFinalNewline } from '../prompt.ts';

const LIST: CommandSpec = {
  name: 'env list',
  usage: 'berth env list <app> [--reveal]',
  summary: 'List an app\'s environment variable names (values with --reveal).',
  details: ['--json prints the API\'s `{ app, vars }`; values are in it only with --reveal.'],
  flags: { reveal: { type: 'boolean', doc: 'print the values too, as NAME=value lines' } },
  args: ['<app>'],
};

const SET: CommandSpec = {
  name: 'env set',
  usage: 'berth env set <app> KEY=VALUE...',
  summary: 'Set environment variables and roll out a release with them.',
  details: [
    'A value may contain `=`: everything after the first one is the value. `KEY=-` reads the value from stdin (typed without echo at a terminal, or piped: `printf %s "$TOKEN" | berth env set app TOKEN=-`), so it stays out of shell history.',
    'The change rolls out as a new release through the health gate, followed here like a deploy. --json prints `{ changed, deployment }` with the finished deployment.',
  ],
  flags: {},
  args: ['<app>', '<KEY=VALUE...>'],
  variadic: true,
};

const UNSET: CommandSpec = {
  name: 'env unset',
  usage: 'berth env unset <app> KEY...',
  summary: 'Remove environment variables and roll out a release without them.',
  details: ['--json prints `{ changed, deployment }` with the finished deployment.'],
  flags: {},
  args: ['<app>', '<KEY...>'],
  variadic: true,
};

const SUBCOMMANDS: Record<string, CommandSpec> = { list: LIST, set: SET, unset: UNSET };

export const spec: CommandSpec = {
  name: 'env',
  usage: 'berth env list|set|unset <app> ...',
  summary: 'List, set or unset an app\'s environment variables.',
  details: Object.values(SUBCOMMANDS).map((sub) => `${sub.usage}\n  ${sub.summary}`),
  flags: { ...LIST.flags },
  args: ['<list|set|unset>'],
};

export type EnvArgs =
  | { globals: Globals; sub: 'list'; app: string; reveal: boolean }
  | { globals: Globals; sub: 'set'; app: string; set: Record<string, string>; stdinKey?: string }
  | { globals: Globals; sub: 'unset'; app: string; names: string[] };

/** `KEY=VALUE` items into names and values; `KEY=-` marks the one value that comes from stdin. */
export function parseAssignments(items: string[]): { set: Record<string, string>; stdinKey?: string } {
  const set: Record<string, string> = {};
  let stdinKey: string | undefined;
  for (const item of items) {
    const at = item.indexOf('=');
    if (at === -1) throw usageError(SET, `"${item}" is not KEY=VALUE`, `write ${item}=value, or ${item}=- to read the value from stdin`);
    // The item is all value here: the message must not echo it.
    if (at === 0) throw usageError(SET, 'an argument has no name before its "="', 'write KEY=VALUE, for example DATABASE_URL=postgres://...');
    const name = item.slice(0, at);
    checkEnvName(name);
    if (Object.hasOwn(set, name)) throw usageError(SET, `${name} is given twice`);
    const value = item.slice(at + 1);
    if (value === '-') {
      if (stdinKey !== undefined) throw usageError(SET, `only one value can come from stdin, but ${stdinKey} and ${name} both ask for it`, 'set them in two commands');
      stdinKey = name;
    }
    set[name] = value;
  }
  return stdinKey === undefined ? { set } : { set, stdinKey };
}

export function parseNames(items: string[]): string[] {
  for (const name of items) checkEnvName(name);
  return [...new Set(items)];
}

function subcommandSpec(sub: string | undefined): CommandSpec | undefined {
  if (sub === undefined) return undefined;
  const found = SUBCOMMANDS[sub];
  if (found) return found;
  const guess = closest(sub, Object.keys(SUBCOMMANDS));
  throw usageError(spec, `unknown env subcommand "${sub}"`, guess ? `did you mean \`berth env ${guess}\`?` : 'use list, set or unset');
}

export function parse(argv: string[]): EnvArgs {
  const { sub, rest } = splitSubcommand(argv, spec.flags);
  const subSpec = subcommandSpec(sub);
  if (sub === undefined || !subSpec) throw usageError(spec, 'missing the subcommand: list, set or unset');
  const { flags, positionals, globals } = parseCommandArgs(subSpec, rest);
  const [app, ...items] = positionals;
  if (sub === 'list') return { globals, sub, app, reveal: flags.reveal === true };
  if (sub === 'set') return { globals, sub, app, ...parseAssignments(items) };
  return { globals, sub: 'unset', app, names: parseNames(items) };
}

export function helpFor(argv: string[]): string {
  return commandHelp(subcommandSpec(splitSubcommand(argv, spec.flags).sub) ?? spec);
}

export function formatVars(list: EnvList, reveal: boolean, now: number, style: Style): string {
  const { app, vars, release, unsetButServed } = list;
  if (reveal) return vars.map((v) => `${v.name}=${v.value ?? ''}\n`).join('');
  const lines: string[] = [];
  if (vars.length === 0) lines.push(`${app} has no environment variables: \`berth env set ${app} KEY=VALUE\`\n`);
  else lines.push(formatTable(['NAME', 'UPDATED', 'SERVED'], vars.map((v) => [v.name, formatAgo(v.updatedAt, now), v.serving ? 'yes' : style.yellow('no')]), style));
  if (!release) return lines.join('');
  const pending = vars.filter((v) => !v.serving).map((v) => v.name);
  if (unsetButServed.length) lines.push(`unset, but ${release} still runs with: ${unsetButServed.join(', ')}\n`);
  if (pending.length || unsetButServed.length) {
    lines.push(`${release} serves an older env (a rollout that failed, or a rollback); the next release that passes its health gate applies the vars as listed: \`berth deploy\`, or set them back\n`);
  }
  return lines.join('');
}

/** Only names: a value never reaches the terminal or the scrollback unless --reveal asks for it. */
export function changeSummary(verb: 'set' | 'unset', requested: string[], changed: string[]): string {
  const same = requested.filter((name) => !changed.includes(name));
  const lines: string[] = [];
  if (changed.length) lines.push(`${verb} ${changed.join(', ')}`);
  if (same.length) lines.push(verb === 'set' ? `unchanged (same value already): ${same.join(', ')}` : `not set anyway: ${same.join(', ')}`);
  return lines.join('\n') + '\n';
}

async function readValueFromStdin(ctx: Context, name: string): Promise<string> {
  if (ctx.io.stdin.isTTY) return readSecret(ctx.io.stdin, ctx.io.stderr, `value for ${name} (not shown): `);
  const value = stripFinalNewline(await readAll(ctx.io.stdin));
  if (value === '') throw new CliError(`${name}=- reads the value from stdin, but stdin was empty`, `pipe it in: printf %s "$VALUE" | berth env set <app> ${name}=-`, EXIT_USAGE);
  return value;
}

export async function run(args: EnvArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  if (args.sub === 'list') {
    const body = await client.get<EnvList>(appPath(args.app, '/env'), { query: { reveal: args.reveal } });
    ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(body, null, 2) + '\n' : formatVars(body, args.reveal, ctx.now(), ctx.out));
    return 0;
  }
  let change: { set?: Record<string, string>; unset?: string[] };
  let requested: string[];
  if (args.sub === 'set') {
    const set = { ...args.set };
    if (args.stdinKey !== undefined) set[args.stdinKey] = await readValueFromStdin(ctx, args.stdinKey);
    change = { set };
    requested = Object.keys(set);
  } else {
    change = { unset: args.names };
    requested = args.names;
  }
  const result = await client.request<EnvChange>('PATCH', appPath(args.app, '/env'), { body: change });
  const log = ctx.globals.json ? ctx.io.stderr : ctx.io.stdout;
  log.write(changeSummary(args.sub, requested, result.changed));
  if (!result.deployment) {
    if (ctx.globals.json) ctx.io.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else if (result.changed.length) log.write(`${args.app} has no release yet: the change applies from its first deploy\n`);
    return 0;
  }
  log.write(`rolling out a new release of ${args.app} (${result.deployment.id})\n`);
  return followAndReport(ctx, result.deployment, { json: (final) => ({ changed: result.changed, deployment: final }) });
}
