import { scale } from '../../deploy/scale.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';
import { deploymentView } from '../views.ts';
import { detachedDeployer } from './common.ts';

/**
 * POST /v1/apps/:app/scale `{ "processes": { "web": 3 } }`: replicas change through the same gated path
 * as a deploy (../../deploy/scale.ts); `{ "reset": true }` goes back to berth.yaml's numbers.
 */
export function scaleRoutes(router: Router, deps: ApiDeps): void {
  router.on(operations.scale, ({ res, params: { app }, body }) => {
    const { formation, deployment } = scale(deps.ctx, detachedDeployer(deps), { app, processes: body.processes, reset: body.reset });
    answer(res, 'scale', 202, { formation, deployment: deploymentView(deps, deployment) });
  });
}
