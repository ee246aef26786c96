import type { ChaosRule } from '../dataplane/route-table.ts';
import { fail } from '../errors/catalogue.ts';
import { CHAOS_LIMITS, CHAOS_MODES, chaosForAllowed, chaosLatencyAllowed, chaosRatioAllowed, chaosStatusAllowed, type ChaosMode } from '../model/wire-chaos.ts';
import type { ChaosRecord } from '../store/chaos.ts';
import { requireApp } from './apps.ts';
import type { DeployContext } from './context.ts';
import { emit } from './emit.ts';

/**
 * `berth chaos`: an outage simulated on an app's traffic by the proxy, nowhere else (berth's own
 * components and answers are never touched). The rule is stored (it survives a daemon restart) and goes
 * to the proxy in the route table (which it saves for its own restart); it ends by itself at `until`: the
 * proxy ignores it from then on, and the daemon's sweep removes it with a `chaos.off` event.
 *
 * Canaries (later): a canary is a release, so "chaos on the canary" is a rule with `release` naming it.
 */
export interface ChaosRequest {
  app: string;
  mode: string;
  latencyMs?: number;
  status?: number;
  ratio?: number;
  /** `v3` or `3`; absent: the whole app. */
  release?: string;
  /** How long it lasts; default 10 minutes. */
  forMs?: number;
}

/** What publishes the route table after a change (route-publisher.ts's Routing). */
export interface TablePublisher {
  publish(): Promise<void>;
}

const isMode = (mode: string): mode is ChaosMode => (CHAOS_MODES as readonly string[]).includes(mode);

/** Checks a request and turns it into the record to store (pure apart from reading the app's releases). */
export function chaosRecord(ctx: Pick<DeployContext, 'store' | 'clock'>, req: ChaosRequest): ChaosRecord {
  if (!isMode(req.mode)) throw fail('CHAOS_MODE_INVALID', { mode: String(req.mode) });
  requireApp(ctx, req.app);
  let latencyMs: number | null = null;
  let status: number | null = null;
  let ratio: number | null = null;
  if (req.mode === 'slow') {
    if (req.latencyMs === undefined || !chaosLatencyAllowed(req.latencyMs)) throw fail('CHAOS_LATENCY_INVALID', { value: String(req.latencyMs ?? 'missing') });
    latencyMs = req.latencyMs;
  } else {
    if (req.status === undefined || !chaosStatusAllowed(req.status)) throw fail('CHAOS_STATUS_INVALID', { value: String(req.status ?? 'missing') });
    if (req.ratio === undefined || !chaosRatioAllowed(req.ratio)) throw fail('CHAOS_RATIO_INVALID', { value: String(req.ratio ?? 'missing') });
    status = req.status;
    ratio = req.ratio;
  }
  const forMs = req.forMs ?? CHAOS_LIMITS.defaultForMs;
  if (!chaosForAllowed(forMs)) throw fail('CHAOS_DURATION_INVALID', { value: String(forMs) });
  let releaseVersion: number | null = null;
  if (req.release !== undefined) {
    const version = /^v?(\d{1,9})$/i.exec(req.release.trim());
    const release = version ? ctx.store.releases.listByApp(req.app).find((r) => r.version === Number(version[1])) : undefined;
    if (!release) throw fail('CHAOS_RELEASE_UNKNOWN', { app: req.app, release: req.release });
    releaseVersion = release.version;
  }
  const now = ctx.clock.now();
  return { app: req.app, mode: req.mode, latencyMs, status, ratio, releaseVersion, since: now, until: now + forMs };
}

/** Turns chaos on (replacing the app's rule, if any), then publishes the table. */
export async function startChaos(ctx: DeployContext, routing: TablePublisher, req: ChaosRequest): Promise<ChaosRecord> {
  const record = chaosRecord(ctx, req);
  const release = record.releaseVersion === null ? null : `v${record.releaseVersion}`;
  const what = record.mode === 'slow' ? `slow, +${record.latencyMs} ms per request` : `error, ${record.status} for ${Math.round(record.ratio! * 1000) / 10} % of requests`;
  ctx.store.transaction(() => {
    ctx.store.chaos.put(record);
    emit(ctx, { app: record.app, deploymentId: null }, {
      type: 'chaos.on',
      message: `chaos on ${release ?? 'all releases'}: ${what}, until ${new Date(record.until).toISOString()}`,
      data: { mode: record.mode, latencyMs: record.latencyMs, status: record.status, ratio: record.ratio, release, until: record.until },
    });
  });
  await routing.publish();
  return record;
}

/** Turns the app's chaos off (asked); says whether it had any. */
export async function stopChaos(ctx: DeployContext, routing: TablePublisher, app: string): Promise<boolean> {
  requireApp(ctx, app);
  const removed = ctx.store.transaction(() => removeChaos(ctx, app, 'asked'));
  if (removed) await routing.publish();
  return removed;
}

/** The app's chaos now; null when none, or it is past its end (the sweep removes it soon). */
export function showChaos(ctx: Pick<DeployContext, 'store' | 'clock'>, app: string): ChaosRecord | null {
  requireApp(ctx, app);
  const record = ctx.store.chaos.get(app);
  return record && record.until > ctx.clock.now() ? record : null;
}

/**
 * Removes the app's rule with its `chaos.off` event; call inside a transaction. The app's destruction
 * calls it too (before the row would go with the app) so its history says why the chaos ended.
 */
export function removeChaos(ctx: Pick<DeployContext, 'store' | 'clock' | 'secrets'>, app: string, reason: 'asked' | 'expired' | 'app destroyed'): boolean {
  if (!ctx.store.chaos.remove(app)) return false;
  emit(ctx, { app, deploymentId: null }, { type: 'chaos.off', message: `chaos off (${reason})`, data: { reason } });
  return true;
}

/** Removes every rule past its end with its event; publishes once when any went. Returns the apps. */
export async function sweepExpiredChaos(ctx: DeployContext, routing: TablePublisher): Promise<string[]> {
  const now = ctx.clock.now();
  const gone = ctx.store.transaction(() => ctx.store.chaos.expired(now).filter((r) => removeChaos(ctx, r.app, 'expired')).map((r) => r.app));
  if (gone.length > 0) await routing.publish();
  return gone;
}

/** The route table's form of a stored rule (desired-routes.ts). */
export function chaosRule(record: ChaosRecord): ChaosRule {
  const release = record.releaseVersion === null ? null : `v${record.releaseVersion}`;
  return record.mode === 'slow'
    ? { mode: 'slow', latencyMs: record.latencyMs!, release, until: record.until }
    : { mode: 'error', status: record.status!, ratio: record.ratio!, release, until: record.until };
}
