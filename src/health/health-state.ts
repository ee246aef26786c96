/**
 * The health state of an instance and of its app, pure: what one check result does to an instance's
 * state, and what the app's state is given its serving instances'. The monitor (./monitor.ts) persists
 * both (src/store/health-checks.ts) and emits the events these transitions name.
 */
import type { Masker } from '../runtime/mask-secrets.ts';

export type HealthState = 'unknown' | 'healthy' | 'degraded';

/** An instance's state and checks failed in a row since the last that passed (`unknown` has none recorded). */
export interface InstanceHealthStatus {
  state: HealthState;
  failures: number;
}

/** Longest failure detail kept per check: enough for an error message or an HTTP status, bounded whatever a check command prints. */
export const MAX_DETAIL = 500;
/** Read of a detail before masking: longer than MAX_DETAIL so a secret across the cut is masked whole before the cut. */
const MAX_DETAIL_READ = 8 * MAX_DETAIL;

/**
 * The state after one check. A pass makes the instance healthy (`recovered` when it was degraded: the
 * `instance.healthy` event). A failure counts; the instance turns degraded only when the monitor's verdict
 * is `unhealthy` (its UNHEALTHY_AFTER-th failure in a row, the moment it reports and restarts the
 * instance), so the degraded state and the restart can never disagree. A failure below that leaves the
 * state as it was: `unknown` stays unknown until a check passes. The monitor counts in memory: after a
 * daemon restart its count starts from zero, so a degraded instance stays degraded (persisted) and one
 * that was failing needs UNHEALTHY_AFTER new failures to turn degraded.
 */
export function afterCheck(before: InstanceHealthStatus, ok: boolean, unhealthyVerdict: boolean): { status: InstanceHealthStatus; change: 'degraded' | 'recovered' | null } {
  if (ok) return { status: { state: 'healthy', failures: 0 }, change: before.state === 'degraded' ? 'recovered' : null };
  const failures = before.failures + 1;
  if (unhealthyVerdict && before.state !== 'degraded') return { status: { state: 'degraded', failures }, change: 'degraded' };
  return { status: { state: before.state, failures }, change: null };
}

/**
 * An app's state from the states of the serving instances of its current release: degraded while any is
 * degraded, healthy when at least one passed and none is degraded, else unknown (nothing checked yet, or
 * nothing serving).
 */
export function appHealth(instances: Iterable<HealthState>): HealthState {
  let healthy = false;
  for (const state of instances) {
    if (state === 'degraded') return 'degraded';
    if (state === 'healthy') healthy = true;
  }
  return healthy ? 'healthy' : 'unknown';
}

/** Which app event a change of the app's state is: only entering and leaving `degraded` are announced. */
export function appChange(before: HealthState, after: HealthState): 'app.degraded' | 'app.recovered' | null {
  if (before !== 'degraded' && after === 'degraded') return 'app.degraded';
  if (before === 'degraded' && after !== 'degraded') return 'app.recovered';
  return null;
}

/**
 * A check's failure detail as stored: masked with the app's secrets (a check command's output can hold
 * them), control characters as spaces (it is printed in a terminal table), at most MAX_DETAIL characters.
 * Cut long before masking only far past MAX_DETAIL, so no secret is cut in half where it is kept.
 */
export function checkDetail(detail: string | undefined, mask: Masker): string | null {
  if (detail === undefined || detail === '') return null;
  const masked = mask(detail.length > MAX_DETAIL_READ ? detail.slice(0, MAX_DETAIL_READ) : detail);
  // eslint-disable-next-line no-control-regex
  const flat = masked.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');
  if (flat.length <= MAX_DETAIL) return flat;
  // Never half a surrogate pair at the cut.
  const cut = flat.slice(0, MAX_DETAIL - 1).replace(/[\uD800-\uDBFF]$/, '');
  return `${cut}…`;
}
