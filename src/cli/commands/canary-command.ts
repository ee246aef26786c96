/**
 * What `berth promote` and `berth abort` share: one app, a POST to its canary, the server's answer
 * printed (or its JSON). Who asks travels along for the events and the audit: the local user, via cli.
 */
import { userInfo } from 'node:os';
import type { RolloutAnswer } from '../../model/wire.ts';
import { parseCommandArgs, type CommandSpec, type Globals } from '../args.ts';
import { appPath } from '../client.ts';
import type { Context } from '../context.ts';

export interface CanaryCommandArgs {
  globals: Globals;
  app: string;
}

export function parseCanaryCommand(spec: CommandSpec, argv: string[]): CanaryCommandArgs {
  const { positionals, globals } = parseCommandArgs(spec, argv);
  return { globals, app: positionals[0] };
}

/** `alice (cli)`: printable ASCII, at most 64 characters, as the API takes it. */
export function askedBy(): string {
  let name = 'someone';
  try {
    name = userInfo().username;
  } catch {}
  const clean = name.replace(/[^\x20-\x7e]/g, '?').slice(0, 50) || 'someone';
  return `${clean} (cli)`;
}

export async function runCanaryCommand(action: 'promote' | 'abort', args: CanaryCommandArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  const answer = await client.request<RolloutAnswer>('POST', appPath(args.app, `/${action}`), { body: { by: askedBy() } });
  if (ctx.globals.json) ctx.io.stdout.write(JSON.stringify(answer, null, 2) + '\n');
  else ctx.io.stdout.write(`${answer.message}\n`);
  return 0;
}
