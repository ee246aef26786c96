/** `berth destroy <app>`: removes an app and everything it has, after the user types its name. */
import type { AppDestroyed } from '../../model/wire.ts';
import { parseCommandArgs, usageError, type CommandSpec, type Globals } from '../args.ts';
import { appPath } from '../client.ts';
import type { Context } from '../context.ts';
import { CliError } from '../errors.ts';
import { readLine } from '../prompt.ts';

export const spec: CommandSpec = {
  name: 'destroy',
  usage: 'berth destroy <app> [--yes]',
  summary: 'Stop an app and delete its releases, env vars and logs.',
  details: ['At a terminal you confirm by typing the app name; scripts must pass --yes. --json prints the API\'s `{ destroyed }`.'],
  flags: { yes: { type: 'boolean', short: 'y', doc: 'do not ask for confirmation' } },
  args: ['<app>'],
};

export interface DestroyArgs {
  globals: Globals;
  app: string;
  yes: boolean;
}

export function parse(argv: string[]): DestroyArgs {
  const { flags, positionals, globals } = parseCommandArgs(spec, argv);
  return { globals, app: positionals[0], yes: flags.yes === true };
}

/** Destroying cannot be undone, so without --yes it needs a person at a terminal to confirm. */
export function confirmation(args: { yes: boolean; interactive: boolean }): 'none' | 'ask' | 'refuse' {
  if (args.yes) return 'none';
  return args.interactive ? 'ask' : 'refuse';
}

export async function run(args: DestroyArgs, ctx: Context): Promise<number> {
  const how = confirmation({ yes: args.yes, interactive: ctx.io.stdin.isTTY === true });
  if (how === 'refuse') {
    throw usageError(spec, `not destroying ${args.app}: there is no terminal to confirm at`, `pass --yes to destroy it without asking: \`berth destroy ${args.app} --yes\``);
  }
  if (how === 'ask') {
    const answer = await readLine(ctx.io.stdin, ctx.io.stderr, `This stops ${args.app} and deletes its releases, env vars and logs. Type "${args.app}" to confirm: `);
    if (answer.trim() !== args.app) throw new CliError(`not destroyed: "${answer.trim()}" is not "${args.app}"`);
  }
  const client = await ctx.client();
  const body = await client.request<AppDestroyed>('DELETE', appPath(args.app));
  ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(body, null, 2) + '\n' : `destroyed ${body.destroyed}\n`);
  return 0;
}
