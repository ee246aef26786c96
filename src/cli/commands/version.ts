/** `berth version`: the CLI's version and, when it answers, the server's. */
import type { ServerInfo } from '../../model/wire.ts';
import { parseCommandArgs, type CommandSpec, type Globals } from '../args.ts';
import type { Context } from '../context.ts';
import { describeError } from '../errors.ts';
import { cliVersion } from '../version.ts';

export const spec: CommandSpec = {
  name: 'version',
  usage: 'berth version',
  summary: 'Print the CLI\'s version and the server\'s.',
  details: ['--json prints `{ cli, url, server }` where server is the API\'s /v1/info answer, or null when it does not answer.'],
  flags: {},
  args: [],
};

export interface VersionArgs {
  globals: Globals;
}

export function parse(argv: string[]): VersionArgs {
  return { globals: parseCommandArgs(spec, argv).globals };
}

export async function run(_args: VersionArgs, ctx: Context): Promise<number> {
  const cli = cliVersion();
  const client = await ctx.client();
  let server: ServerInfo | null = null;
  let problem: string | undefined;
  try {
    server = await client.get<ServerInfo>('/v1/info', { timeoutMs: 3000 });
  } catch (error) {
    problem = describeError(error).message;
  }
  if (ctx.globals.json) {
    ctx.io.stdout.write(JSON.stringify({ cli, url: client.url, server }, null, 2) + '\n');
    return 0;
  }
  const serverLine = server ? `server ${server.version} at ${client.url} (driver ${server.driver})` : `server: ${problem}`;
  ctx.io.stdout.write(`berth ${cli}\n${serverLine}\n`);
  return 0;
}
