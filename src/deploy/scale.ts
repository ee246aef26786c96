import { fail } from '../errors/catalogue.ts';
import type { DeploymentRecord } from '../model/records.ts';
import { requireApp } from './apps.ts';
import type { DeployContext } from './context.ts';
import type { Deployer } from './deployer.ts';
import { emit } from './emit.ts';
import { checkFormation, formationOf, type Formation } from './formation.ts';
import { requireCurrentRelease } from './releases.ts';

export interface ScaleChange {
  app: string;
  /** Replicas by process name, merged into the counts set before. */
  processes?: ReadonlyMap<string, number>;
  /** true: forget the counts set with scale and go back to berth.yaml's (not with `processes`). */
  reset?: boolean;
}

/**
 * `berth scale`: replicas change through the same gated path as a deploy (a new release of the current
 * build, health-checked, then switched). The formation is saved first, with its event, and stays for
 * later deploys until scaled again; the rollout waits behind a running deployment rather than refusing.
 */
export function scale(ctx: DeployContext, deployer: Pick<Deployer, 'start'>, change: ScaleChange): { formation: Formation; deployment: DeploymentRecord } {
  const { store } = ctx;
  const { app, processes, reset } = change;
  const record = requireApp(ctx, app);
  const current = requireCurrentRelease(ctx, app);
  let formation: Formation;
  let description: string;
  if (reset !== undefined && processes !== undefined) {
    throw fail('REQUEST_INVALID', { issues: [{ path: 'reset', message: 'cannot be sent with processes', fix: '{"processes": {"web": 3}} or {"reset": true}' }] });
  }
  if (reset === true) {
    formation = formationOf([]);
    description = 'scale: back to berth.yaml';
  } else {
    if (processes === undefined) throw fail('REQUEST_INVALID', { issues: [{ path: 'processes', message: 'is required (or "reset": true)', fix: '{"processes": {"web": 3}}' }] });
    const requested = checkFormation(current.manifest, processes);
    // The saved formation came through JSON.parse: only its own entries count.
    formation = formationOf([...Object.entries(record.formation), ...Object.entries(requested)]);
    description = `scale: ${Object.entries(requested).map(([name, n]) => `${name}=${n}`).join(' ')}`;
  }
  store.transaction(() => {
    store.apps.setFormation(app, formation);
    emit(ctx, { app, deploymentId: null }, { type: 'app.scaled', message: description, data: { formation } });
  });
  return { formation, deployment: deployer.start({ app, kind: 'scale', description, wait: true }) };
}
