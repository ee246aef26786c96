/** `berth status <app>`: what is serving, every instance, its traffic, and how the last deployment went. */
import { isBerthError } from '../../errors/catalogue.ts';
import type { App, AppMetrics, Deployment, DeploymentList, EventList, ImageUpdate, Instance } from '../../model/wire.ts';
import { parseCommandArgs, type CommandSpec, type Globals } from '../args.ts';
import { appPath, type ApiClient } from '../client.ts';
import type { Context } from '../context.ts';
import { formatAgo, formatElapsed, formatError, formatTable, orDash, shortId } from '../format.ts';
import type { Style } from '../io.ts';
import { healthText, statusText } from './apps.ts';
import { trafficCells } from './top.ts';
import { describeChaos } from './chaos.ts';
import { formatCanary } from './canary-status.ts';
import { formatRolling, rollingProgress, type RollingProgress } from './rolling-status.ts';

export const spec: CommandSpec = {
  name: 'status',
  usage: 'berth status <app>',
  summary: 'Show an app\'s release, instances and last deployment.',
  details: [
    'Images berth keeps updated (`update:` in berth.yaml) are listed with their last check, the digest serving and any digest skipped as bad.',
    'Traffic: requests/s, error % (5xx answers and proxy errors) and p50/p95/p99 latency through the proxy over the last 1 and 5 minutes, for the app and each release that had requests.',
    '--json prints `{ app: App, lastDeployment: Deployment | null, traffic: { "1m": AppMetrics, "5m": AppMetrics } | null }` (null from a server without metrics).',
  ],
  flags: {},
  args: ['<app>'],
};

export interface StatusArgs {
  globals: Globals;
  app: string;
}

export function parse(argv: string[]): StatusArgs {
  const { positionals, globals } = parseCommandArgs(spec, argv);
  return { globals, app: positionals[0] };
}

function instanceState(instance: Instance, style: Style): string {
  if (instance.state === 'serving') return style.green(instance.state);
  if (instance.state === 'failed') return style.red(instance.state);
  return instance.state;
}

function runState(instance: Instance, style: Style): string {
  if (instance.run === 'crashloop' || instance.run === 'missing') return style.red(instance.run);
  if (instance.run === 'restarting' || instance.run === 'exited') return style.yellow(instance.run);
  return instance.run;
}

/** `sha256:0123456789ab`: enough of a digest to tell images apart. */
const short = (digest: string | null): string => (digest === null ? '-' : digest.slice(0, digest.indexOf(':') + 13));

/** The images berth keeps updated: last check (when, ok or failed), the digest serving, a pinned bad one; then errors and an update under way. */
export function formatUpdates(updates: ImageUpdate[], now: number, style: Style): string {
  const rows = updates.map((u) => [
    u.image,
    u.service ?? 'app',
    u.lastCheckAt === null ? 'not yet' : `${formatAgo(u.lastCheckAt, now)}, ${u.lastError ? style.red('failed') : 'ok'}`,
    short(u.serving),
    u.pinned === null ? '-' : style.yellow(short(u.pinned)),
  ]);
  const notes = updates.flatMap((u) => [
    ...(u.lastError ? [`  ${u.image}: the last check failed: ${u.lastError.message}`] : []),
    ...(u.trial
      ? [`  ${u.image}: ${u.trial.settlingUntil === null ? `updating to ${short(u.trial.digest)} (${u.trial.deployment})` : `${short(u.trial.digest)} on trial for ${formatElapsed(Date.parse(u.trial.settlingUntil) - now)} more: a crash loop or failing health checks revert it`}`]
      : []),
    ...(u.pinned ? [`  ${u.image}: ${short(u.pinned)} failed and is skipped until the tag names another image`] : []),
  ]);
  return `auto-update:\n${formatTable(['IMAGE', 'FOR', 'LAST CHECK', 'SERVING', 'PINNED'], rows, style)}${notes.map((n) => `${n}\n`).join('')}`;
}

export type Traffic = { '1m': AppMetrics; '5m': AppMetrics };

/** The app's traffic over 1m and 5m, then each release that had requests in either (a canary next to the release it replaces). */
export function formatTraffic(traffic: Traffic, style: Style): string {
  const rows = [traffic['1m'], traffic['5m']].map((m) => ['app', m.window, ...trafficCells(m.total, style)]);
  for (const m of [traffic['1m'], traffic['5m']]) {
    for (const r of m.releases) if (r.requests > 0) rows.push([`${r.name}${r.current ? ' (current)' : ''}`, m.window, ...trafficCells(r, style)]);
  }
  return `traffic:\n${formatTable(['FOR', 'WINDOW', 'REQ/S', 'ERRORS', 'P50', 'P95', 'P99'], rows, style)}`;
}

export function formatStatus(app: App, last: Deployment | null, now: number, style: Style, traffic: Traffic | null = null, rolling: RollingProgress | null = null): string {
  const rows: [string, string][] = [
    ['status', statusText(app.status, style)],
    ['health', `${healthText(app.health, style)}${app.health === 'degraded' ? ` (\`berth health ${app.name}\`)` : ''}`],
    ['release', app.release ? `${app.release.name} (${app.release.id})` : 'none yet'],
    ['urls', app.urls.length ? app.urls.join(', ') : '-'],
  ];
  if (app.deploying) rows.push(['deploying', `${app.deploying.id} (${app.deploying.state})`]);
  // An older server sends no chaos field.
  if (app.chaos) rows.push(['chaos', style.yellow(`${describeChaos(app.chaos, now)} (\`berth chaos ${app.name} off\`)`)]);
  // A canary under way (an older server sends no canary field): mode, weight, step, the last verdicts.
  const canary = app.canary ? formatCanary(app.name, app.canary, now, style) : null;
  if (canary) rows.push(['mode', canary.row]);
  // A rolling deploy under way: its last batch done (`deploy.batch` events).
  if (app.deploying?.state === 'rolling') rows.push(['mode', formatRolling(rolling)]);
  const width = Math.max(...rows.map(([key]) => key.length));
  const out = [style.bold(app.name), ...rows.map(([key, value]) => `  ${key.padEnd(width)}  ${value}`), ...(canary?.lines ?? []), ''];
  if (app.instances.length === 0) out.push('no instances running', '');
  else {
    const table = app.instances.map((instance) => [
      shortId(instance.id),
      instance.process,
      instance.release.name,
      instanceState(instance, style),
      runState(instance, style),
      healthText(instance.health, style),
      String(instance.restarts),
      orDash(instance.address),
    ]);
    out.push(formatTable(['ID', 'PROCESS', 'RELEASE', 'STATE', 'RUN', 'HEALTH', 'RESTARTS', 'ADDRESS'], table, style));
  }
  if (traffic) out.push(formatTraffic(traffic, style));
  if (app.updates.length > 0) out.push(formatUpdates(app.updates, now, style));
  if (last) {
    const release = last.release ? ` -> ${last.release.name}` : '';
    const state = last.state === 'succeeded' ? style.green(last.state) : last.state === 'failed' || last.state === 'interrupted' ? style.red(last.state) : style.cyan(last.state);
    out.push(`last deployment: ${last.id} (${last.kind}${release}) ${state}, ${formatAgo(last.finishedAt ?? last.createdAt, now)}`);
    if (last.error) out.push(formatError({ message: last.error.message, hint: last.error.hint }, style).trimEnd().replace(/^/gm, '  '));
  }
  return out.join('\n').replace(/\n+$/, '') + '\n';
}

export async function run(args: StatusArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  const [app, deployments] = await Promise.all([
    client.get<App>(appPath(args.app)),
    client.get<DeploymentList>(appPath(args.app, '/deployments')),
  ]);
  const last = deployments.deployments[0] ?? null;
  const traffic = await readTraffic(client, args.app);
  const rolling = app.deploying?.state === 'rolling' ? await readRolling(client, args.app, app.deploying.id) : null;
  ctx.io.stdout.write(ctx.globals.json ? JSON.stringify({ app, lastDeployment: last, traffic }, null, 2) + '\n' : formatStatus(app, last, ctx.now(), ctx.out, traffic, rolling));
  return 0;
}

/** A rolling deploy's last batch, from the app's latest `deploy.batch` events. */
async function readRolling(client: ApiClient, app: string, deploymentId: string): Promise<RollingProgress | null> {
  const { events } = await client.get<EventList>('/v1/events', { query: { app, type: 'deploy.batch', limit: '50' } });
  return rollingProgress(events, deploymentId);
}

/** The 1m and 5m numbers; null from a server that has no metrics endpoint yet (an older daemon). */
async function readTraffic(client: ApiClient, app: string): Promise<Traffic | null> {
  try {
    const [oneMinute, fiveMinutes] = await Promise.all(['1m', '5m'].map((window) => client.get<AppMetrics>(appPath(app, '/metrics'), { query: { window } })));
    return { '1m': oneMinute, '5m': fiveMinutes };
  } catch (error) {
    if (isBerthError(error) && error.code === 'ROUTE_NOT_FOUND') return null;
    throw error;
  }
}
