import { emit } from '../../deploy/emit.ts';
import { checkFormation, formationOf, type Formation } from '../../deploy/formation.ts';
import { requireCurrentRelease } from '../../deploy/releases.ts';
import type { ApiDeps } from '../deps.ts';
import { sendJson } from '../http.ts';
import { operations } from '../operations.ts';
import { runOutsideRequestScope } from '../request-scope.ts';
import type { Router } from '../router.ts';
import { deploymentView } from '../views.ts';
import { invalid, requireApp } from './common.ts';

/**
 * POST /v1/apps/:app/scale `{ "processes": { "web": 3 } }`: replicas change through the same gated path
 * as a deploy (a new release of the current build, health-checked, then switched). The formation stays
 * for later deploys until scaled again; `{ "reset": true }` goes back to berth.yaml's numbers.
 */
export function scaleRoutes(router: Router, deps: ApiDeps): void {
  const { store } = deps.ctx;
  router.on(operations.scale, ({ res, params: { app }, body }) => {
    const record = requireApp(deps, app);
    const current = requireCurrentRelease(deps.ctx, app);
    let formation: Formation;
    let description: string;
    if (body.reset !== undefined && body.processes !== undefined) {
      invalid([{ path: 'reset', message: 'cannot be sent with processes', fix: '{"processes": {"web": 3}} or {"reset": true}' }]);
    }
    if (body.reset === true) {
      formation = formationOf([]);
      description = 'scale: back to berth.yaml';
    } else {
      if (body.processes === undefined) invalid([{ path: 'processes', message: 'is required (or "reset": true)', fix: '{"processes": {"web": 3}}' }]);
      const change = checkFormation(current.manifest, body.processes);
      // The saved formation came through JSON.parse: only its own entries count.
      formation = formationOf([...Object.entries(record.formation), ...Object.entries(change)]);
      description = `scale: ${Object.entries(change).map(([name, n]) => `${name}=${n}`).join(' ')}`;
    }
    store.transaction(() => {
      store.apps.setFormation(app, formation);
      emit(deps.ctx, { app, deploymentId: null }, 'app.scaled', description, { formation });
    });
    const deployment = runOutsideRequestScope(() => deps.deployer.start({ app, kind: 'scale', description, wait: true }));
    sendJson(res, 202, { formation, deployment: deploymentView(deps, deployment) });
  });
}
