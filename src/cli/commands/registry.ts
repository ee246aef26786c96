/**
 * `berth registry login|list|logout`: logins to private image registries, which the server uses to pull
 * images (services, image apps) and check their digests. The password is never an argument (it would
 * show in `ps` and in shell history): it is typed without echo at a terminal, or piped with
 * --password-stdin. The server tries it on the registry before saving it, sealed.
 */
import { closest } from '../../manifest/suggest.ts';
import type { RegistryLogin, RegistryLoginList, RegistryLogout } from '../../model/wire.ts';
import { commandHelp, parseCommandArgs, splitSubcommand, usageError, type CommandSpec, type Globals } from '../args.ts';
import type { Context } from '../context.ts';
import { CliError, EXIT_USAGE } from '../errors.ts';
import { formatAgo, formatTable } from '../format.ts';
import type { Style } from '../io.ts';
import { readAll, readLine, readSecret, stripFinalNewline } from '../prompt.ts';

const LOGIN: CommandSpec = {
  name: 'registry login',
  usage: 'berth registry login <host> --username USER --password-stdin',
  summary: 'Log in to a private image registry, for the server\'s pulls.',
  details: [
    '<host> is the registry as image references name it: ghcr.io, registry.gitlab.com, 127.0.0.1:5000, docker.io for Docker Hub.',
    'The password (or access token: use one for ghcr.io and Docker Hub) is never an argument, so it stays out of `ps` and shell history: pipe it with --password-stdin (`printf %s "$TOKEN" | berth registry login ghcr.io --username me --password-stdin`), or type it when asked at a terminal (not shown).',
    'The server tries the login on the registry first and saves nothing if it is refused; then it keeps it sealed, like secret env vars, and pulls with it. Logging in again replaces the host\'s login. --json prints the API\'s `{ host, username, createdAt, updatedAt }`.',
  ],
  flags: {
    username: { type: 'string', short: 'u', value: 'USER', doc: 'the registry user (asked for at a terminal when left out)' },
    'password-stdin': { type: 'boolean', doc: 'read the password or token from standard input' },
  },
  args: ['<host>'],
  // Checked here, so that an extra argument (a password typed where it must not be) is never echoed.
  variadic: true,
};

const LIST: CommandSpec = {
  name: 'registry list',
  usage: 'berth registry list',
  summary: 'List the registries the server has a login for (hosts and users, never passwords).',
  details: ['--json prints the API\'s `{ registries }`.'],
  flags: {},
  args: [],
};

const LOGOUT: CommandSpec = {
  name: 'registry logout',
  usage: 'berth registry logout <host>',
  summary: 'Delete the server\'s login for a registry (images already pulled stay).',
  details: ['--json prints the API\'s `{ removed }`.'],
  flags: {},
  args: ['<host>'],
};

const SUBCOMMANDS: Record<string, CommandSpec> = { login: LOGIN, list: LIST, logout: LOGOUT };

export const spec: CommandSpec = {
  name: 'registry',
  usage: 'berth registry login|list|logout ...',
  summary: 'Log in to private image registries the server pulls from.',
  details: Object.values(SUBCOMMANDS).map((sub) => `${sub.usage}\n  ${sub.summary}`),
  flags: { ...LOGIN.flags },
  args: ['<login|list|logout>'],
};

export type RegistryArgs =
  | { globals: Globals; sub: 'login'; host: string; username?: string; passwordStdin: boolean }
  | { globals: Globals; sub: 'list' }
  | { globals: Globals; sub: 'logout'; host: string };

/** `--password secret`, `--password=secret`, `-p secret`: refused before parsing, the value never repeated. */
function refusePasswordArgument(argv: string[]): void {
  const given = argv.find((arg) => /^--?pass(word)?(=|$)/.test(arg) || /^-p/.test(arg));
  if (given === undefined) return;
  throw usageError(
    LOGIN,
    'a password is never an argument: it would show in `ps` and in shell history',
    'pipe it in: `printf %s "$TOKEN" | berth registry login HOST --username USER --password-stdin` (or leave it out at a terminal to be asked)',
  );
}

function subcommandSpec(sub: string | undefined): CommandSpec | undefined {
  if (sub === undefined) return undefined;
  const found = SUBCOMMANDS[sub];
  if (found) return found;
  const guess = closest(sub, Object.keys(SUBCOMMANDS));
  throw usageError(spec, `unknown registry subcommand "${sub}"`, guess ? `did you mean \`berth registry ${guess}\`?` : 'use login, list or logout');
}

export function parse(argv: string[]): RegistryArgs {
  const { sub, rest } = splitSubcommand(argv, spec.flags);
  const subSpec = subcommandSpec(sub);
  if (sub === undefined || !subSpec) throw usageError(spec, 'missing the subcommand: login, list or logout');
  if (sub === 'login') refusePasswordArgument(rest);
  const { flags, positionals, globals } = parseCommandArgs(subSpec, rest);
  if (sub === 'list') return { globals, sub };
  if (sub === 'logout') return { globals, sub, host: positionals[0] };
  if (positionals.length > 1 && !globals.help) {
    throw usageError(LOGIN, `login takes one argument, the registry host, but was given ${positionals.length}`, 'a password is never an argument: pipe it with --password-stdin');
  }
  const username = flags.username as string | undefined;
  return { globals, sub: 'login', host: positionals[0], ...(username !== undefined ? { username } : {}), passwordStdin: flags['password-stdin'] === true };
}

export function helpFor(argv: string[]): string {
  return commandHelp(subcommandSpec(splitSubcommand(argv, spec.flags).sub) ?? spec);
}

export function formatLogins(logins: RegistryLogin[], now: number, style: Style): string {
  if (logins.length === 0) return 'no registry logins: `berth registry login HOST --username USER --password-stdin`\n';
  return formatTable(['REGISTRY', 'USER', 'UPDATED'], logins.map((l) => [l.host, l.username, formatAgo(l.updatedAt, now)]), style);
}

async function readUsername(ctx: Context, host: string): Promise<string> {
  if (!ctx.io.stdin.isTTY) throw new CliError('no user given', `pass it with --username: \`berth registry login ${host} --username USER --password-stdin\``, EXIT_USAGE);
  return (await readLine(ctx.io.stdin, ctx.io.stderr, `user for ${host}: `)).trim();
}

/** At a terminal: typed without echo. Otherwise only from stdin, and only when --password-stdin says so. */
async function readPassword(ctx: Context, args: { host: string; username: string; passwordStdin: boolean }): Promise<string> {
  if (ctx.io.stdin.isTTY) return readSecret(ctx.io.stdin, ctx.io.stderr, `password or token for ${args.username} at ${args.host} (not shown): `);
  const pipeIt = `printf %s "$TOKEN" | berth registry login ${args.host} --username ${args.username} --password-stdin`;
  if (!args.passwordStdin) throw new CliError('no password given: stdin is not a terminal to type it at', `pipe it in with --password-stdin: \`${pipeIt}\``, EXIT_USAGE);
  const password = stripFinalNewline(await readAll(ctx.io.stdin));
  if (password === '') throw new CliError('--password-stdin reads the password from stdin, but stdin was empty', `pipe it in: \`${pipeIt}\``, EXIT_USAGE);
  return password;
}

export async function run(args: RegistryArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  if (args.sub === 'list') {
    const body = await client.get<RegistryLoginList>('/v1/registries');
    ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(body, null, 2) + '\n' : formatLogins(body.registries, ctx.now(), ctx.out));
    return 0;
  }
  const path = `/v1/registries/${encodeURIComponent(args.host)}`;
  if (args.sub === 'logout') {
    const body = await client.request<RegistryLogout>('DELETE', path);
    ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(body, null, 2) + '\n' : `logged out of ${body.removed}: the server no longer has its credentials\n`);
    return 0;
  }
  const username = args.username ?? (await readUsername(ctx, args.host));
  if (username === '') throw new CliError('no user given', 'pass it with --username USER', EXIT_USAGE);
  const password = await readPassword(ctx, { host: args.host, username, passwordStdin: args.passwordStdin });
  const login = await client.request<RegistryLogin>('PUT', path, { body: { username, password } });
  ctx.io.stdout.write(
    ctx.globals.json
      ? JSON.stringify(login, null, 2) + '\n'
      : `logged in to ${login.host} as ${login.username}: the registry accepted the login, and the server pulls from it with these credentials (kept sealed)\n`,
  );
  return 0;
}
