/** `berth health <app>`: each serving instance's health state and its latest checks. */
import type { AppHealth, HealthCheck, InstanceHealth } from '../../model/wire.ts';
import { parseCommandArgs, parseCount, usageError, type CommandSpec, type Globals } from '../args.ts';
import { appPath } from '../client.ts';
import type { Context } from '../context.ts';
import { formatTable, orDash, shortId } from '../format.ts';
import type { Style } from '../io.ts';
import { healthText } from './apps.ts';
import { formatTime } from './logs.ts';

/** The API keeps 100 checks per instance and answers at most that many. */
const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 10;

export const spec: CommandSpec = {
  name: 'health',
  usage: 'berth health <app> [--limit N]',
  summary: 'Show the health checks of an app\'s serving instances, newest first.',
  details: [
    'An instance is degraded after 3 failed checks in a row (berth restarts it then) and healthy again when one passes; the app is degraded while any serving instance of its current release is.',
    `--limit N shows the last N checks per instance (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT}). --json prints the API's AppHealth.`,
  ],
  flags: {
    limit: { type: 'string', value: 'N', doc: `checks per instance, newest first (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT})` },
  },
  args: ['<app>'],
};

export interface HealthArgs {
  globals: Globals;
  app: string;
  limit: number;
}

export function parse(argv: string[]): HealthArgs {
  const { flags, positionals, globals } = parseCommandArgs(spec, argv);
  const limit = parseCount(spec, 'limit', flags.limit as string | undefined) ?? DEFAULT_LIMIT;
  if (limit > MAX_LIMIT) throw usageError(spec, `--limit must be at most ${MAX_LIMIT}, not ${limit}`, `berth keeps the last ${MAX_LIMIT} checks of each instance`);
  return { globals, app: positionals[0], limit };
}

function checkRow(check: HealthCheck, now: number, style: Style): string[] {
  return [
    style.dim(formatTime(check.at, now)),
    check.ok ? style.green('ok') : style.red('fail'),
    check.status === null ? '-' : String(check.status),
    `${check.latencyMs} ms`,
    orDash(check.detail),
  ];
}

function instanceHeading(instance: InstanceHealth, style: Style): string {
  const failing = instance.consecutiveFailures > 0 ? `, ${instance.consecutiveFailures} failed in a row` : '';
  return `${style.bold(`${instance.process}.${instance.ordinal}`)} ${shortId(instance.instance)} ${instance.release}: ${healthText(instance.state, style)}${failing}`;
}

export function formatHealth(health: AppHealth, now: number, style: Style): string {
  const out = [`${style.bold(health.app)}: ${healthText(health.state, style)}`];
  if (health.instances.length === 0) out.push('no serving instance: nothing is checked until a release serves');
  for (const instance of health.instances) {
    out.push('', instanceHeading(instance, style));
    if (instance.checks.length === 0) out.push('  no checks yet');
    else out.push(formatTable(['TIME', 'RESULT', 'STATUS', 'LATENCY', 'DETAIL'], instance.checks.map((check) => checkRow(check, now, style)), style).trimEnd());
  }
  return out.join('\n') + '\n';
}

export async function run(args: HealthArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  const body = await client.get<AppHealth>(appPath(args.app, '/health'), { query: { limit: args.limit } });
  ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(body, null, 2) + '\n' : formatHealth(body, ctx.now(), ctx.out));
  return 0;
}
