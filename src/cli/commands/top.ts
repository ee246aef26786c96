/**
 * `berth top`: every app's traffic and instances, redrawn every 2 s until Ctrl-C: requests/s, error %,
 * p50/p95/p99 over the last minute, instances, CPU and memory. Not on a terminal (a pipe, CI), or with
 * --once or --json, it prints one view and exits. The numbers are GET /v1/apps/:app/metrics's.
 */
import { isBerthError } from '../../errors/catalogue.ts';
import type { AppList, AppMetrics, TrafficFigures } from '../../model/wire.ts';
import { parseCommandArgs, usageError, type CommandSpec, type Globals } from '../args.ts';
import { appPath, type ApiClient } from '../client.ts';
import type { Context } from '../context.ts';
import { isAbort } from '../errors.ts';
import { formatBytes, formatTable } from '../format.ts';
import { liveEnabled, type Style } from '../io.ts';

export const spec: CommandSpec = {
  name: 'top',
  usage: 'berth top [--window 1m|5m|1h] [--once]',
  summary: 'Watch every app\'s requests/s, errors, latency, CPU and memory live.',
  details: [
    'Redraws every 2 s until Ctrl-C. Requests/s, error % (5xx answers and proxy errors) and p50/p95/p99 are over the window (default 1m); CPU is the share of one core between the runtime\'s last two samples (every 15 s).',
    'Not on a terminal, or with --once, it prints once and exits. --json prints `{ apps: AppMetrics[] }` once.',
  ],
  flags: {
    window: { type: 'string', value: 'WINDOW', doc: 'the window of the traffic numbers: 1m (default), 5m or 1h' },
    once: { type: 'boolean', doc: 'print one view and exit' },
  },
  args: [],
};

export const REFRESH_MS = 2_000;
const WINDOWS = ['1m', '5m', '1h'];

export interface TopArgs {
  globals: Globals;
  window: string;
  once: boolean;
}

export function parse(argv: string[]): TopArgs {
  const { flags, globals } = parseCommandArgs(spec, argv);
  const window = typeof flags.window === 'string' ? flags.window : '1m';
  if (!WINDOWS.includes(window)) throw usageError(spec, `--window must be 1m, 5m or 1h, not "${window}"`);
  return { globals, window, once: flags.once === true };
}

/** `12.3`, `0.05`, `1.2k`: requests per second in about four characters. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1000) return `${(perSecond / 1000).toFixed(1)}k`;
  if (perSecond >= 10) return perSecond.toFixed(0);
  if (perSecond >= 0.1 || perSecond === 0) return perSecond.toFixed(perSecond === 0 ? 0 : 1);
  return perSecond.toFixed(2);
}

/** `2.5%`, `-` without requests. */
export const formatPercent = (rate: number | null): string => (rate === null ? '-' : `${(rate * 100).toFixed(rate > 0 && rate < 0.001 ? 2 : 1)}%`);

/** `12ms`, `1.4s`, `-` without requests. */
export function formatLatency(ms: number | null): string {
  if (ms === null) return '-';
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)}s`;
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)}ms`;
}

/** An error rate over 5 % is red, over 1 % yellow (docs/alerts.yml fires at 5 %). */
export const errorCell = (f: TrafficFigures, style: Style): string => {
  const text = formatPercent(f.errorRate);
  if (f.errorRate !== null && f.errorRate > 0.05) return style.red(text);
  if (f.errorRate !== null && f.errorRate > 0.01) return style.yellow(text);
  return text;
};

export const trafficCells = (f: TrafficFigures, style: Style): string[] => [
  formatRate(f.requestsPerSecond),
  errorCell(f, style),
  formatLatency(f.latencyMs.p50),
  formatLatency(f.latencyMs.p95),
  formatLatency(f.latencyMs.p99),
];

export function formatTop(apps: AppMetrics[], at: number, style: Style): string {
  if (apps.length === 0) return 'no apps yet: `berth deploy` creates one\n';
  const rows = apps.map((m) => {
    const serving = m.instances.filter((i) => i.state === 'serving').length;
    const cpu = m.instances.some((i) => i.cpuPercent !== null) ? `${m.instances.reduce((s, i) => s + (i.cpuPercent ?? 0), 0).toFixed(1)}%` : '-';
    const memory = m.instances.some((i) => i.memoryBytes !== null) ? formatBytes(m.instances.reduce((s, i) => s + (i.memoryBytes ?? 0), 0)) : '-';
    const restarts = m.instances.reduce((s, i) => s + i.restarts, 0);
    const current = m.releases.find((r) => r.current)?.name ?? '-';
    return [m.app, current, ...trafficCells(m.total, style), `${serving}/${m.instances.length}`, restarts > 0 ? style.yellow(String(restarts)) : '0', cpu, memory];
  });
  const window = apps[0].window;
  const head = style.dim(`berth top: every app over the last ${window}, ${new Date(at).toISOString().slice(11, 19)} UTC`);
  return `${head}\n${formatTable(['APP', 'RELEASE', 'REQ/S', 'ERRORS', 'P50', 'P95', 'P99', 'INSTANCES', 'RESTARTS', 'CPU', 'MEMORY'], rows, style)}`;
}

/** Every app's metrics; an app destroyed between the two calls is left out. */
export async function readAll(client: ApiClient, window: string, signal?: AbortSignal): Promise<AppMetrics[]> {
  const { apps } = await client.get<AppList>('/v1/apps', { signal });
  const all = await Promise.all(
    apps.map((app) =>
      client.get<AppMetrics>(appPath(app.name, '/metrics'), { query: { window }, signal }).catch((error) => {
        if (isBerthError(error) && error.code === 'APP_NOT_FOUND') return null;
        throw error;
      }),
    ),
  );
  return all.filter((m): m is AppMetrics => m !== null);
}

export async function run(args: TopArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  const live = !args.once && !ctx.globals.json && liveEnabled(ctx.io.stdout, ctx.io.env);
  if (!live) {
    const apps = await readAll(client, args.window);
    ctx.io.stdout.write(ctx.globals.json ? JSON.stringify({ apps }, null, 2) + '\n' : formatTop(apps, ctx.now(), ctx.out));
    return 0;
  }
  const signal = ctx.interrupted();
  // The alternate screen: the terminal gets its own contents back at the end.
  ctx.io.stdout.write('\x1b[?1049h\x1b[?25l');
  try {
    while (!signal.aborted) {
      const apps = await readAll(client, args.window, signal);
      ctx.io.stdout.write(`\x1b[H\x1b[2J${formatTop(apps, ctx.now(), ctx.out)}${ctx.out.dim('Ctrl-C to quit')}\n`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, REFRESH_MS);
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
    }
  } catch (error) {
    if (!isAbort(error)) throw error;
  } finally {
    ctx.io.stdout.write('\x1b[?25h\x1b[?1049l');
    ctx.close();
  }
  return 0;
}
