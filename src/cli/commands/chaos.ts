/** `berth chaos <app> slow|error|off`: simulate an outage on an app's traffic in the proxy, for a while. */
import { parseDuration, formatDuration } from '../../lib/duration.ts';
import { CHAOS_LIMITS, chaosForAllowed, chaosLatencyAllowed, chaosRatioAllowed, chaosStatusAllowed, type ChaosAnswer, type ChaosState } from '../../model/wire.ts';
import { parseCommandArgs, usageError, type CommandSpec, type Globals } from '../args.ts';
import { appPath } from '../client.ts';
import type { Context } from '../context.ts';
import { formatElapsed } from '../format.ts';

export const spec: CommandSpec = {
  name: 'chaos',
  usage: 'berth chaos <app> [slow --latency 2s | error --status 503 --ratio 0.3 | off] [--release v3] [--for 10m]',
  summary: 'Simulate an outage on an app\'s traffic (slow or failing requests), for a while.',
  details: [
    'slow: each request waits --latency (1ms to 60s) before the proxy forwards it. error: a --ratio (more than 0, at most 1) of requests is answered with --status (429 or 500..599) by the proxy, with a page saying it is berth\'s chaos; the others go through.',
    '--release v3 limits it to that release\'s instances (a canary is a release); without it the whole app. It turns itself off after --for (default 10m, at most 24h), even while the server is down. A new rule replaces the one there is; `off` ends it now; without a mode it shows the one there is.',
    'Only the app\'s traffic through the proxy is touched: berth\'s own components (the server, its API, the proxy\'s own answers, ACME challenges) never are.',
  ],
  flags: {
    latency: { type: 'string', value: 'DURATION', doc: 'slow: how long each request waits (2s, 500ms)' },
    status: { type: 'string', value: 'CODE', doc: 'error: the status answered (503)' },
    ratio: { type: 'string', value: 'SHARE', doc: 'error: the share of requests failed (0.3)' },
    release: { type: 'string', value: 'vN', doc: 'only this release\'s instances' },
    for: { type: 'string', value: 'DURATION', doc: 'how long it lasts (default 10m, at most 24h)' },
  },
  args: ['<app>', '[slow|error|off]'],
};

export type ChaosArgs =
  | { globals: Globals; app: string; action: 'show' | 'off' }
  | { globals: Globals; app: string; action: 'set'; body: { mode: 'slow' | 'error'; latencyMs?: number; status?: number; ratio?: number; release?: string; forMs: number } };

function duration(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw usageError(spec, `--${flag} "${text.slice(0, 40)}" is not a duration`, 'for example 500ms, 2s or 10m');
  return ms;
}

export function parse(argv: string[]): ChaosArgs {
  const { positionals, flags, globals } = parseCommandArgs(spec, argv);
  const [app, mode] = positionals;
  const given = (['latency', 'status', 'ratio', 'release', 'for'] as const).filter((f) => flags[f] !== undefined);
  const only = (allowed: readonly string[], what: string) => {
    const extra = given.find((f) => !allowed.includes(f));
    if (extra) throw usageError(spec, `--${extra} does not go with ${what}`);
  };
  if (mode === undefined || mode === 'off') {
    only([], mode === undefined ? 'showing the chaos' : 'off');
    return { globals, app, action: mode === undefined ? 'show' : 'off' };
  }
  if (mode !== 'slow' && mode !== 'error') throw usageError(spec, `"${mode.slice(0, 40)}" is not a chaos mode`, 'use slow, error or off');
  const forMs = flags.for === undefined ? CHAOS_LIMITS.defaultForMs : duration('for', String(flags.for));
  if (!chaosForAllowed(forMs)) throw usageError(spec, `--for ${String(flags.for)} is out of range`, 'from 1s to 24h');
  const release = flags.release === undefined ? undefined : String(flags.release);
  if (release !== undefined && !/^v?\d{1,9}$/i.test(release)) throw usageError(spec, `--release "${release.slice(0, 40)}" is not a release`, 'name it as v3');
  if (mode === 'slow') {
    only(['latency', 'release', 'for'], 'slow');
    if (flags.latency === undefined) throw usageError(spec, 'slow needs --latency', 'for example --latency 2s');
    const latencyMs = duration('latency', String(flags.latency));
    if (!chaosLatencyAllowed(latencyMs)) throw usageError(spec, `--latency ${String(flags.latency)} is out of range`, 'from 1ms to 60s');
    return { globals, app, action: 'set', body: { mode, latencyMs, forMs, ...(release ? { release } : {}) } };
  }
  only(['status', 'ratio', 'release', 'for'], 'error');
  if (flags.status === undefined || flags.ratio === undefined) throw usageError(spec, 'error needs --status and --ratio', 'for example --status 503 --ratio 0.3');
  const status = /^\d{3}$/.test(String(flags.status)) ? Number(flags.status) : NaN;
  if (!chaosStatusAllowed(status)) throw usageError(spec, `--status ${String(flags.status).slice(0, 40)} is not 429 or 500..599`);
  const ratio = /^(0|1)?(\.\d{1,9})?$/.test(String(flags.ratio)) && String(flags.ratio) !== '' ? Number(flags.ratio) : NaN;
  if (!chaosRatioAllowed(ratio)) throw usageError(spec, `--ratio ${String(flags.ratio).slice(0, 40)} is out of range`, 'more than 0 and at most 1, for example 0.3');
  return { globals, app, action: 'set', body: { mode, status, ratio, forMs, ...(release ? { release } : {}) } };
}

/** One line: what it does, to which release, and for how much longer. */
export function describeChaos(chaos: ChaosState, now: number): string {
  const what = chaos.mode === 'slow' ? `slow: +${formatDuration(chaos.latencyMs ?? 0)} per request` : `error: ${chaos.status} for ${Math.round((chaos.ratio ?? 0) * 1000) / 10} % of requests`;
  const left = Date.parse(chaos.until) - now;
  return `${what}, ${chaos.release ? `release ${chaos.release} only` : 'all releases'}, off in ${formatElapsed(Math.max(0, left))}`;
}

export async function run(args: ChaosArgs, ctx: Context): Promise<number> {
  const client = await ctx.client();
  const path = appPath(args.app, '/chaos');
  let answer: ChaosAnswer;
  if (args.action === 'set') answer = await client.request<ChaosAnswer>('PUT', path, { body: args.body });
  else if (args.action === 'off') answer = await client.request<ChaosAnswer>('DELETE', path);
  else answer = await client.get<ChaosAnswer>(path);
  if (ctx.globals.json) {
    ctx.io.stdout.write(JSON.stringify(answer, null, 2) + '\n');
    return 0;
  }
  if (answer.chaos === null) ctx.io.stdout.write(args.action === 'off' ? `chaos off for ${args.app}\n` : `no chaos on ${args.app}\n`);
  else ctx.io.stdout.write(`chaos on ${args.app}: ${describeChaos(answer.chaos, ctx.now())}\n`);
  return 0;
}
