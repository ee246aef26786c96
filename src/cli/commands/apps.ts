/** `berth apps`: every app with its status, serving release, instances and URL. */
import type { App, AppList } from '../../model/wire.ts';
import { parseCommandArgs, type CommandSpec, type Globals } from '../args.ts';
import type { Context } from '../context.ts';
import { formatTable, orDash } from '../format.ts';
import type { Style } from '../io.ts';

export const spec: CommandSpec = {
  name: 'apps',
  usage: 'berth apps',
  summary: 'List apps with their status, release and URL.',
  details: [
    'INSTANCES counts serving instances of the current release over all of its instances. HEALTH is degraded while one of them failed 3 health checks in a row and has not passed one since (`berth health APP` shows the checks). --json prints the API\'s `{ apps }`.',
  ],
  flags: {},
  args: [],
};

export interface AppsArgs {
  globals: Globals;
}

export function parse(argv: string[]): AppsArgs {
  return { globals: parseCommandArgs(spec, argv).globals };
}

export function statusText(status: App['status'], style: Style): string {
  switch (status) {
    case 'running':
      return style.green(status);
    case 'degraded':
      return style.yellow(status);
    case 'failed':
      return style.red(status);
    case 'deploying':
      return style.cyan(status);
    default:
      return status;
  }
}

/** What the health monitor last found (`berth health APP` shows its checks): degraded in red. */
export function healthText(health: App['health'], style: Style): string {
  if (health === 'degraded') return style.red(health);
  if (health === 'healthy') return style.green(health);
  return style.dim(health);
}

/** `2/2`: serving instances of the serving release over all of its instances; `-` without a release. */
export function instancesText(app: App): string {
  if (!app.release) return '-';
  const current = app.instances.filter((instance) => instance.release.id === app.release!.id);
  return `${current.filter((instance) => instance.state === 'serving').length}/${current.length}`;
}

export function formatApps(apps: App[], style: Style): string {
  if (apps.length === 0) return 'no apps yet: deploy one with `berth deploy`, or try `berth up`\n';
  const rows = apps.map((app) => [app.name, statusText(app.status, style), orDash(app.release?.name), instancesText(app), healthText(app.health, style), orDash(app.urls[0])]);
  return formatTable(['NAME', 'STATUS', 'RELEASE', 'INSTANCES', 'HEALTH', 'URL'], rows, style);
}

export async function run(_args: AppsArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  const body = await client.get<AppList>('/v1/apps');
  ctx.io.stdout.write(ctx.globals.json ? JSON.stringify(body, null, 2) + '\n' : formatApps(body.apps, ctx.out));
  return 0;
}
