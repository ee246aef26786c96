import { requireApp } from '../../deploy/apps.ts';
import { followDeployment } from '../../deploy/follow-deployment.ts';
import { fail } from '../../errors/catalogue.ts';
import type { DeploymentRecord } from '../../model/records.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';
import { EventStream } from '../sse.ts';
import { deploymentView, eventView } from '../views.ts';

export function deploymentRoutes(router: Router, deps: ApiDeps): void {
  const { store } = deps.ctx;

  router.on(operations.listDeployments, ({ res, params: { app } }) => {
    requireApp(deps.ctx, app);
    answer(res, 'listDeployments', 200, { deployments: store.deployments.listByApp(app).map((d) => deploymentView(deps, d)) });
  });

  /** The app's recent events (deploys, crashes, restarts, env changes), oldest first. */
  router.on(operations.appEvents, ({ res, params: { app }, query }) => {
    requireApp(deps.ctx, app);
    answer(res, 'appEvents', 200, { events: store.events.forApp(app, query.limit).map((event) => eventView(deps, event)) });
  });

  router.on(operations.getDeployment, ({ res, params: { id } }) => {
    answer(res, 'getDeployment', 200, deploymentView(deps, requireDeployment(deps, id)));
  });

  /** Replays the deployment's events, then streams new ones until it is over. */
  router.on(operations.deploymentEvents, ({ res, params: { id }, query }) => {
    requireDeployment(deps, id);
    const stream = new EventStream(res);
    followDeployment(deps.ctx, id, query.after, {
      signal: stream.signal,
      event: (event) => stream.send(event.type, eventView(deps, event), event.seq),
      end: () => stream.close(),
    });
  });
}

function requireDeployment(deps: ApiDeps, id: string): DeploymentRecord {
  const deployment = deps.ctx.store.deployments.get(id);
  // The error quotes the id: a path segment may be kilobytes long.
  if (!deployment) throw fail('DEPLOYMENT_NOT_FOUND', { id: id.length > 64 ? `${id.slice(0, 64)}…` : id });
  return deployment;
}
