/** `berth rollback <app> [release]`: serve an earlier release again, through the same health gate. */
import type { DeploymentAccepted } from '../../model/wire.ts';
import { parseCommandArgs, usageError, type CommandSpec, type Globals } from '../args.ts';
import { appPath } from '../client.ts';
import type { Context } from '../context.ts';
import { followAndReport } from '../follow.ts';

export const spec: CommandSpec = {
  name: 'rollback',
  usage: 'berth rollback <app> [release]',
  summary: 'Serve an earlier release again (default: the previous one).',
  details: [
    'The release is a version (`v3` or `3`) or a release id (`rel_...`), as `berth releases <app>` lists them. A warm release (still running in standby) switches back instantly; others start and pass the health check first. --json prints the final Deployment.',
  ],
  flags: {},
  args: ['<app>', '[release]'],
};

export interface RollbackArgs {
  globals: Globals;
  app: string;
  release?: string;
}

/** `v3` and `3` -> `v3`; `rel_...` as it is; anything else is a usage error. */
export function parseReleaseRef(text: string): string {
  const version = /^[vV]?(\d+)$/.exec(text.trim());
  if (version && Number(version[1]) >= 1) return `v${Number(version[1])}`;
  if (/^rel_[0-9a-z]+$/.test(text.trim())) return text.trim();
  throw usageError(spec, `"${text}" is not a release`, 'name it by version (v3 or 3) or by id (rel_...); `berth releases <app>` lists them');
}

export function parse(argv: string[]): RollbackArgs {
  const { positionals, globals } = parseCommandArgs(spec, argv);
  const args: RollbackArgs = { globals, app: positionals[0] };
  if (positionals[1] !== undefined) args.release = parseReleaseRef(positionals[1]);
  return args;
}

export async function run(args: RollbackArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  const { deployment } = await client.request<DeploymentAccepted>('POST', appPath(args.app, '/rollback'), {
    body: args.release === undefined ? {} : { release: args.release },
  });
  const log = ctx.globals.json ? ctx.io.stderr : ctx.io.stdout;
  log.write(`rolling ${args.app} back${args.release ? ` to ${args.release}` : ' to the previous release'} (${deployment.id})\n`);
  return followAndReport(ctx, deployment);
}
