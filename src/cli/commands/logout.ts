/** `berth logout`: forgets the saved login; berth then talks to the local server again. */
import { parseCommandArgs, type CommandSpec, type Globals } from '../args.ts';
import { loginFile, readLogin, removeLogin } from '../config.ts';
import type { Context } from '../context.ts';

export const spec: CommandSpec = {
  name: 'logout',
  usage: 'berth logout',
  summary: 'Forget the saved login.',
  details: ['--json prints `{ loggedOut, url }`.'],
  flags: {},
  args: [],
};

export interface LogoutArgs {
  globals: Globals;
}

export function parse(argv: string[]): LogoutArgs {
  return { globals: parseCommandArgs(spec, argv).globals };
}

export async function run(_args: LogoutArgs, ctx: Context): Promise<number> {
  const file = loginFile(ctx.io.env);
  // A corrupt file is still removed: that is what logging out is for.
  const login = await readLogin(file).catch(() => undefined);
  const removed = await removeLogin(file);
  if (ctx.globals.json) ctx.io.stdout.write(JSON.stringify({ loggedOut: removed, url: login?.url ?? null }) + '\n');
  else ctx.io.stdout.write(removed ? `logged out${login ? ` of ${login.url}` : ''}: removed ${file}\n` : `not logged in (no ${file})\n`);
  return 0;
}
