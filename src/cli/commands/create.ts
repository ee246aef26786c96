/** `berth create <app>`: an empty app, so env vars can be set before its first deploy. */
import { fail } from '../../errors/catalogue.ts';
import { isValidAppName } from '../../manifest/app-name.ts';
import type { App } from '../../model/wire.ts';
import { parseCommandArgs, type CommandSpec, type Globals } from '../args.ts';
import type { Context } from '../context.ts';

export const spec: CommandSpec = {
  name: 'create',
  usage: 'berth create <app>',
  summary: 'Create an empty app, to set its env vars before the first deploy.',
  details: ['`berth deploy` creates apps too; create one first when it needs secrets to start. --json prints the App.'],
  flags: {},
  args: ['<app>'],
};

export interface CreateArgs {
  globals: Globals;
  app: string;
}

export function parse(argv: string[]): CreateArgs {
  const { positionals, globals } = parseCommandArgs(spec, argv);
  return { globals, app: positionals[0] };
}

export async function run(args: CreateArgs, ctx: Context): Promise<number> {
  // Checked here too, so a typo fails before a round trip with the same message the server would give.
  if (!isValidAppName(args.app)) throw fail('APP_NAME_INVALID', { name: args.app });
  const client = await ctx.client();
  const app = await client.request<App>('POST', '/v1/apps', { body: { name: args.app } });
  if (ctx.globals.json) {
    ctx.io.stdout.write(JSON.stringify(app, null, 2) + '\n');
    return 0;
  }
  ctx.io.stdout.write(`created ${app.name}\nnext: \`berth env set ${app.name} KEY=VALUE\`, then \`berth deploy --app ${app.name}\`\n`);
  return 0;
}
