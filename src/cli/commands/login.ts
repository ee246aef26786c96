/** `berth login <url>`: checks a server URL and token against the server, then saves them for later commands. */
import type { ServerInfo } from '../../model/wire.ts';
import { parseCommandArgs, type CommandSpec, type Globals } from '../args.ts';
import { ApiClient } from '../client.ts';
import { loginFile, normalizeUrl, writeLogin } from '../config.ts';
import type { Context } from '../context.ts';
import { CliError, EXIT_USAGE } from '../errors.ts';
import { readAll, readSecret } from '../prompt.ts';

export const spec: CommandSpec = {
  name: 'login',
  usage: 'berth login <url> [--token TOKEN]',
  summary: 'Save a server URL and token for later commands.',
  details: [
    'Without --token the token is asked for without echo at a terminal, or read from stdin (`berth login https://berth.example.com < token-file`). The server\'s admin token is in DATA/admin-token. The login is saved to $XDG_CONFIG_HOME/berth/config.json (~/.config/berth/config.json) with mode 0600; BERTH_URL and BERTH_TOKEN still take precedence.',
  ],
  flags: {},
  args: ['<url>'],
};

export interface LoginArgs {
  globals: Globals;
  url: string;
}

export function parse(argv: string[]): LoginArgs {
  const { positionals, globals } = parseCommandArgs(spec, argv);
  return { globals, url: positionals[0] };
}

export async function run(args: LoginArgs, ctx: Context): Promise<number> {
  const url = normalizeUrl(args.url, 'the url');
  let token = args.globals.token;
  if (token === undefined) {
    token = ctx.io.stdin.isTTY ? await readSecret(ctx.io.stdin, ctx.io.stderr, `token for ${url} (not shown): `) : await readAll(ctx.io.stdin);
  }
  token = token.trim();
  if (!token) throw new CliError('no token given', 'pass --token, type it when asked, or pipe it in: `berth login <url> < token-file`', EXIT_USAGE);
  const info = await new ApiClient({ url, token }).get<ServerInfo>('/v1/info');
  const file = loginFile(ctx.io.env);
  writeLogin(file, { url, token });
  if (ctx.globals.json) {
    ctx.io.stdout.write(JSON.stringify({ url, configFile: file, server: info }, null, 2) + '\n');
    return 0;
  }
  ctx.io.stdout.write(`logged in to ${url} (berth server ${info.version}); saved to ${file}\n`);
  if (ctx.io.env.BERTH_URL) ctx.io.stderr.write(`note: BERTH_URL is set (${ctx.io.env.BERTH_URL}) and takes precedence over this login\n`);
  return 0;
}
