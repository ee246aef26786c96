/**
 * `berth policy list|check`: the policy gates (CEL expressions judged before a deploy, and by the canary
 * work before each step and promotion). The server's are files in DATA/policies, edited in place and
 * read again on each use; an app's are `policies:` in its berth.yaml, as its serving release has them.
 */
import { basename, resolve } from 'node:path';
import { isBerthError } from '../../errors/catalogue.ts';
import { loadManifest, resolveAppName } from '../../manifest/load.ts';
import { closest } from '../../manifest/suggest.ts';
import type { PolicyCheck, PolicyList, PolicyProblemInfo, PolicyVerdict } from '../../model/wire.ts';
import { commandHelp, parseCommandArgs, splitSubcommand, usageError, type CommandSpec, type Globals } from '../args.ts';
import { appPath } from '../client.ts';
import type { Context } from '../context.ts';
import { formatTable } from '../format.ts';
import type { Style } from '../io.ts';

const LIST: CommandSpec = {
  name: 'policy list',
  usage: 'berth policy list [--app APP]',
  summary: 'List the policy gates: the server\'s and an app\'s, with the file and line each is written at.',
  details: [
    'Without --app, in an app\'s folder (one with berth.yaml), that app\'s are listed too: those of its serving release.',
    'A policy that does not load (YAML, a missing field, CEL that does not parse, an unknown fact) is listed with the problem; while one does not load, deploys are refused (the gate fails closed), and the command exits 1.',
    '--json prints the API\'s PolicyList.',
  ],
  flags: { app: { type: 'string', value: 'APP', doc: 'also this app\'s policies (default: the app of the berth.yaml here, if any)' } },
  args: [],
};

const CHECK: CommandSpec = {
  name: 'policy check',
  usage: 'berth policy check <app>',
  summary: 'Dry run: judge the deploy moment\'s policies now against the host and the app\'s serving release.',
  details: ['Prints each verdict; nothing is recorded. Exits 1 if any policy denies or does not load. --json prints the API\'s PolicyCheck.'],
  flags: {},
  args: ['<app>'],
};

const SUBCOMMANDS: Record<string, CommandSpec> = { list: LIST, check: CHECK };

export const spec: CommandSpec = {
  name: 'policy',
  usage: 'berth policy list|check ...',
  summary: 'List the policy gates and try them (a dry run).',
  details: Object.values(SUBCOMMANDS).map((sub) => `${sub.usage}\n  ${sub.summary}`),
  flags: { ...LIST.flags },
  args: ['<list|check>'],
};

export type PolicyArgs = { globals: Globals; sub: 'list'; app?: string } | { globals: Globals; sub: 'check'; app: string };

function subcommandSpec(sub: string | undefined): CommandSpec | undefined {
  if (sub === undefined) return undefined;
  const found = SUBCOMMANDS[sub];
  if (found) return found;
  const guess = closest(sub, Object.keys(SUBCOMMANDS));
  throw usageError(spec, `unknown policy subcommand "${sub}"`, guess ? `did you mean \`berth policy ${guess}\`?` : 'use list or check');
}

export function parse(argv: string[]): PolicyArgs {
  const { sub, rest } = splitSubcommand(argv, spec.flags);
  const subSpec = subcommandSpec(sub);
  if (sub === undefined || !subSpec) throw usageError(spec, 'missing the subcommand: list or check');
  const { flags, positionals, globals } = parseCommandArgs(subSpec, rest);
  if (sub === 'check') return { globals, sub, app: positionals[0] };
  const app = flags.app as string | undefined;
  return { globals, sub: 'list', ...(app !== undefined ? { app } : {}) };
}

export function helpFor(argv: string[]): string {
  return commandHelp(subcommandSpec(splitSubcommand(argv, spec.flags).sub) ?? spec);
}

const where = (source: { file: string; line: number | null }) => `${source.file}${source.line !== null ? `:${source.line}` : ''}`;

export function formatProblems(problems: PolicyProblemInfo[], style: Style): string {
  if (problems.length === 0) return '';
  const lines = problems.map((p) => `  ${where(p)}: ${p.policy !== null ? `policy "${p.policy}": ` : ''}${p.problem}`);
  return `${style.red(`${problems.length === 1 ? '1 policy does' : `${problems.length} policies do`} not load; deploys are refused until fixed:`)}\n${lines.join('\n')}\n`;
}

export function formatPolicyList(list: PolicyList, style: Style): string {
  const head = list.policies.length === 0 ? `no policies${list.app ? ` (server or ${list.app})` : ''}: add some in DATA/policies/*.yaml or berth.yaml \`policies:\`\n` : '';
  const rows = list.policies.map((p) => [p.name, p.when, p.scope, where(p.source), p.expr]);
  const table = rows.length ? formatTable(['NAME', 'WHEN', 'SCOPE', 'SOURCE', 'EXPR'], rows, style) : '';
  return head + table + formatProblems(list.problems, style);
}

function verdictLine(v: PolicyVerdict, style: Style): string {
  const mark = v.allowed ? style.green('✔ allowed') : style.red('✖ denied ');
  const facts = Object.entries(v.facts).map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(' ');
  return `${mark} ${style.bold(v.policy)} ${style.dim(`(${where(v.source)})`)}${v.allowed ? '' : `: ${v.reason}`}${facts ? `\n    ${style.dim(facts)}` : ''}`;
}

export function formatPolicyCheck(check: PolicyCheck, style: Style): string {
  const lines = check.verdicts.map((v) => verdictLine(v, style));
  if (check.verdicts.length === 0) lines.push('no deploy policies apply');
  const denied = check.verdicts.filter((v) => !v.allowed).length;
  const summary = check.allowed
    ? `${check.app} ${check.release}: a deploy would be allowed now`
    : `${check.app} ${check.release}: a deploy would be refused now (${denied} denied${check.problems.length ? `, ${check.problems.length} not loading` : ''})`;
  return `${lines.join('\n')}\n${formatProblems(check.problems, style)}${check.allowed ? summary : style.red(summary)}\n`;
}

/** The app of the folder the command runs in, when it has a berth.yaml. */
async function folderApp(ctx: Context): Promise<string | undefined> {
  const dir = resolve(ctx.io.cwd);
  const { manifest, found } = await loadManifest(dir);
  return found ? resolveAppName({ manifest, dirName: basename(dir) }) : undefined;
}

export async function run(args: PolicyArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  if (args.sub === 'list') {
    const fromFolder = args.app === undefined ? await folderApp(ctx) : undefined;
    const app = args.app ?? fromFolder;
    let body: PolicyList;
    try {
      body = await client.get<PolicyList>('/v1/policies', { query: app !== undefined ? { app } : {} });
    } catch (error) {
      // The folder's app before its first deploy: it has no serving release, so only the server's apply.
      if (fromFolder === undefined || !isBerthError(error) || error.code !== 'APP_NOT_FOUND') throw error;
      body = await client.get<PolicyList>('/v1/policies');
      ctx.io.stderr.write(`${fromFolder} is not deployed yet: its berth.yaml policies apply from its first deploy\n`);
    }
    ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(body, null, 2) + '\n' : formatPolicyList(body, ctx.out));
    return body.problems.length ? 1 : 0;
  }
  const body = await client.get<PolicyCheck>(appPath(args.app, '/policy-check'));
  ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(body, null, 2) + '\n' : formatPolicyCheck(body, ctx.out));
  return body.allowed ? 0 : 1;
}
