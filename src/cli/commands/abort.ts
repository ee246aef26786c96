/** `berth abort <app>`: the running canary stops taking traffic now, and its deployment fails. */
import type { CommandSpec } from '../args.ts';
import type { Context } from '../context.ts';
import { parseCanaryCommand, runCanaryCommand, type CanaryCommandArgs } from './canary-command.ts';

export const spec: CommandSpec = {
  name: 'abort',
  usage: 'berth abort <app>',
  summary: 'Abort the app\'s running canary: all traffic back on the stable release.',
  details: [
    'The answer comes once the proxy sends every new request to the stable release; the canary then finishes its requests in flight (up to deploy.drain_timeout) and stops, and its deployment fails with CANARY_ABORTED, naming who aborted it.',
    'Without a canary running, it fails with NO_CANARY_RUNNING. --json prints the answer: `{ app, outcome, message, rollout }`.',
  ],
  flags: {},
  args: ['<app>'],
};

export const parse = (argv: string[]): CanaryCommandArgs => parseCanaryCommand(spec, argv);

export const run = (args: CanaryCommandArgs, ctx: Context): Promise<number> => runCanaryCommand('abort', args, ctx);
