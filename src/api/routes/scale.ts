import { emit } from '../../deploy/emit.ts';
import { checkFormation } from '../../deploy/formation.ts';
import { requireCurrentRelease } from '../../deploy/releases.ts';
import type { ApiDeps } from '../deps.ts';
import { readJsonBody, sendJson } from '../http.ts';
import type { Router } from '../router.ts';
import { deploymentView } from '../views.ts';
import { asObject, invalid, requireApp } from './common.ts';

/**
 * POST /v1/apps/:app/scale `{ "processes": { "web": 3 } }`: replicas change through the same gated path
 * as a deploy (a new release of the current build, health-checked, then switched). The formation stays
 * for later deploys until scaled again; `{ "reset": true }` goes back to berth.yaml's numbers.
 */
export function scaleRoutes(router: Router, deps: ApiDeps): void {
  const { store } = deps.ctx;
  router.on('POST', '/v1/apps/:app/scale', async (req, res, { app }) => {
    const record = requireApp(deps, app);
    const current = requireCurrentRelease(deps.ctx, app);
    const body = asObject(await readJsonBody(req));
    let formation: Record<string, number>;
    let description: string;
    if (body.reset === true) {
      formation = {};
      description = 'scale: back to berth.yaml';
    } else {
      if (typeof body.processes !== 'object' || body.processes === null || Array.isArray(body.processes)) {
        invalid([{ path: 'processes', message: 'must be an object of process name to replicas', fix: '{"processes": {"web": 3}}' }]);
      }
      const change = checkFormation(current.manifest, body.processes as Record<string, unknown>);
      formation = { ...record.formation, ...change };
      description = `scale: ${Object.entries(change).map(([name, n]) => `${name}=${n}`).join(' ')}`;
    }
    store.transaction(() => {
      store.apps.setFormation(app, formation);
      emit(deps.ctx, { app, deploymentId: null }, 'app.scaled', description, { formation });
    });
    const deployment = deps.deployer.start({ app, kind: 'scale', description, wait: true });
    sendJson(res, 202, { formation, deployment: deploymentView(deps, deployment) });
  });
}
