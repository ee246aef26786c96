import { fail } from '../../errors/catalogue.ts';
import { isTerminal } from '../../model/states.ts';
import type { EventRecord } from '../../model/records.ts';
import type { ApiDeps } from '../deps.ts';
import { sendJson } from '../http.ts';
import { operations } from '../operations.ts';
import type { Router } from '../router.ts';
import { EventStream } from '../sse.ts';
import { deploymentView, eventView } from '../views.ts';
import { requireApp } from './common.ts';

const FINAL = new Set(['deploy.succeeded', 'deploy.failed', 'deploy.interrupted']);

export function deploymentRoutes(router: Router, deps: ApiDeps): void {
  const { store } = deps.ctx;

  router.on(operations.listDeployments, ({ res, params: { app } }) => {
    requireApp(deps, app);
    sendJson(res, 200, { deployments: store.deployments.listByApp(app).map((d) => deploymentView(deps, d)) });
  });

  /** The app's recent events (deploys, crashes, restarts, env changes), oldest first. */
  router.on(operations.appEvents, ({ res, params: { app }, query }) => {
    requireApp(deps, app);
    sendJson(res, 200, { events: store.events.forApp(app, query.limit).map((event) => eventView(deps, event)) });
  });

  router.on(operations.getDeployment, ({ res, params: { id } }) => {
    const deployment = store.deployments.get(id);
    if (!deployment) throw fail('DEPLOYMENT_NOT_FOUND', { id: shortened(id) });
    sendJson(res, 200, deploymentView(deps, deployment));
  });

  /** Replays the deployment's events, then streams new ones until it is over. */
  router.on(operations.deploymentEvents, ({ res, params: { id }, query }) => {
    const deployment = store.deployments.get(id);
    if (!deployment) throw fail('DEPLOYMENT_NOT_FOUND', { id: shortened(id) });
    const stream = new EventStream(res);
    let last = query.after;
    const live: EventRecord[] = [];
    let replaying = true;
    const send = (event: EventRecord) => {
      if (event.seq <= last) return;
      last = event.seq;
      stream.send(event.type, eventView(deps, event), event.seq);
      if (FINAL.has(event.type)) stream.close();
    };
    // Subscribe before reading the past, so nothing falls between the two.
    const unsubscribe = store.events.subscribe((event) => {
      if (event.deploymentId !== id) return;
      if (replaying) live.push(event);
      else send(event);
    });
    stream.signal.addEventListener('abort', unsubscribe);
    for (const event of store.events.forDeployment(id, last)) send(event);
    replaying = false;
    for (const event of live) send(event);
    const now = store.deployments.get(id)!;
    if (isTerminal(now.state) && !stream.closed) stream.close();
    if (stream.closed) unsubscribe();
  });
}

/** An id as an error quotes it: a path segment may be kilobytes long. */
const shortened = (id: string) => (id.length > 64 ? `${id.slice(0, 64)}…` : id);
