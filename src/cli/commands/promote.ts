/** `berth promote <app>`: the running canary serves all traffic now, if the promote policies allow. */
import type { CommandSpec } from '../args.ts';
import type { Context } from '../context.ts';
import { parseCanaryCommand, runCanaryCommand, type CanaryCommandArgs } from './canary-command.ts';

export const spec: CommandSpec = {
  name: 'promote',
  usage: 'berth promote <app>',
  summary: 'Promote the app\'s running canary now, skipping its remaining steps.',
  details: [
    'The `promote` policies still judge the canary\'s numbers so far: a deny keeps the canary running its steps and says why (exit 1). Allowed, the canary becomes the current release and the stable one drains, as after a normal switch.',
    'Without a canary running (deploy.strategy canary, or `berth deploy --strategy canary`), it fails with NO_CANARY_RUNNING. --json prints the answer: `{ app, outcome, message, rollout }`.',
  ],
  flags: {},
  args: ['<app>'],
};

export const parse = (argv: string[]): CanaryCommandArgs => parseCanaryCommand(spec, argv);

export const run = (args: CanaryCommandArgs, ctx: Context): Promise<number> => runCanaryCommand('promote', args, ctx);
