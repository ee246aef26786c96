/** `berth scale <app> web=3 worker=1`: change replicas through the same health-gated path as a deploy. */
import type { ScaleAccepted } from '../../model/wire.ts';
import { parseCommandArgs, usageError, type CommandSpec, type Globals } from '../args.ts';
import { appPath } from '../client.ts';
import type { Context } from '../context.ts';
import { followAndReport } from '../follow.ts';

export const spec: CommandSpec = {
  name: 'scale',
  usage: 'berth scale <app> <process>=<replicas>... | --reset',
  summary: 'Change how many instances of each process run (through the health gate).',
  details: [
    'A new release of the current build starts with the new counts, passes the health check and takes the traffic. The counts stay for later deploys until scaled again; --reset goes back to the numbers in berth.yaml. `web` needs at least 1; other processes may go to 0.',
  ],
  flags: { reset: { type: 'boolean', doc: 'use berth.yaml\'s replica counts again' } },
  args: ['<app>', '[process=replicas...]'],
  variadic: true,
};

export interface ScaleArgs {
  globals: Globals;
  app: string;
  processes: Record<string, number>;
  reset: boolean;
}

export function parse(argv: string[]): ScaleArgs {
  const { positionals, flags, globals } = parseCommandArgs(spec, argv);
  const [app, ...pairs] = positionals;
  const processes: Record<string, number> = {};
  for (const pair of pairs) {
    const match = /^([a-z][a-z0-9_-]{0,29})=(\d{1,3})$/.exec(pair);
    if (!match) throw usageError(spec, `"${pair}" is not <process>=<replicas>`, 'for example web=3');
    processes[match[1]] = Number(match[2]);
  }
  const reset = flags.reset === true;
  if (!reset && pairs.length === 0) throw usageError(spec, 'say which process to scale', 'for example `berth scale myapp web=3`, or --reset');
  if (reset && pairs.length > 0) throw usageError(spec, '--reset takes no process counts');
  return { globals, app, processes, reset };
}

export async function run(args: ScaleArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  const { deployment, formation } = await client.request<ScaleAccepted>('POST', appPath(args.app, '/scale'), {
    body: args.reset ? { reset: true } : { processes: args.processes },
  });
  const log = ctx.globals.json ? ctx.io.stderr : ctx.io.stdout;
  const counts = Object.entries(formation).map(([name, n]) => `${name}=${n}`).join(' ');
  log.write(`scaling ${args.app}${counts ? ` to ${counts}` : ' back to berth.yaml'} (${deployment.id})\n`);
  return followAndReport(ctx, deployment);
}
