import { rmSync } from 'node:fs';
import { fail } from '../errors/catalogue.ts';
import { newId } from '../lib/ids.ts';
import type { Manifest } from '../manifest/schema.ts';
import type { DeploymentKind, DeploymentRecord, ReleaseRecord } from '../model/records.ts';
import type { DeployContext } from './context.ts';
import { emit } from './emit.ts';
import type { Routing } from './route-publisher.ts';
import { runDeployment } from './runbook.ts';
import type { DeploySource, UpdateOrder } from './runbook.ts';
import type { DeployOptions } from './deploy-options.ts';

export interface DeployRequest {
  app: string;
  kind: DeploymentKind;
  description: string;
  /** Queue behind a running deployment of the app instead of refusing with DEPLOY_IN_PROGRESS. */
  wait: boolean;
  source?: DeploySource;
  target?: ReleaseRecord;
  /** kind `update`: the image and the digest found (./image-updater.ts). */
  update?: UpdateOrder;
  /** `berth deploy --strategy`, `--skip-checks`. */
  options?: DeployOptions;
}

/**
 * Starts deployments: one per app at a time, later ones queued (or refused), each run in the background
 * with its own abort signal. The HTTP request that asked for it gets the deployment id at once.
 */
export class Deployer {
  readonly #ctx: DeployContext;
  readonly #routing: Routing;
  readonly #tails = new Map<string, Promise<void>>();
  readonly #running = new Map<string, { app: string; controller: AbortController }>();

  constructor(ctx: DeployContext, routing: Routing) {
    this.#ctx = ctx;
    this.#routing = routing;
  }

  start(request: DeployRequest): DeploymentRecord {
    const { store, clock } = this.#ctx;
    let deployment: DeploymentRecord;
    try {
      deployment = store.transaction(() => {
        const holding = store.deployments.holding(request.app);
        if (holding && !request.wait) throw fail('DEPLOY_IN_PROGRESS', { app: request.app, deployment: holding.id, state: holding.state });
        if (store.apps.ensure(request.app, clock.now())) emit(this.#ctx, { app: request.app, deploymentId: null }, { type: 'app.created', message: `app ${request.app} created` });
        const record = store.deployments.insert(
          { id: newId('dep'), app: request.app, kind: request.kind, releaseId: request.target?.id ?? null, previousReleaseId: store.apps.get(request.app)!.currentRelease },
          clock.now(),
        );
        emit(this.#ctx, { app: request.app, deploymentId: record.id }, { type: 'deploy.queued', message: queuedMessage(request.kind, request.description), data: { kind: request.kind } });
        return record;
      });
    } catch (error) {
      if (request.source?.dir) rmSync(request.source.dir, { recursive: true, force: true });
      throw error;
    }
    const controller = new AbortController();
    const previous = this.#tails.get(request.app) ?? Promise.resolve();
    // Registered before it runs, so a queued deployment is cancelled too (it then ends interrupted at once).
    this.#running.set(deployment.id, { app: request.app, controller });
    const run = previous
      .then(() => runDeployment({ ctx: this.#ctx, routing: this.#routing, deployment, signal: controller.signal }, request))
      .finally(() => this.#running.delete(deployment.id));
    const tail = run.catch((error) => this.#ctx.log.error('deployment runner failed', { error: error as Error }));
    this.#tails.set(request.app, tail);
    void tail.then(() => {
      if (this.#tails.get(request.app) === tail) this.#tails.delete(request.app);
    });
    return deployment;
  }

  /** Aborts the app's running and queued deployments and waits for them to undo their work. */
  async cancelApp(app: string, reason: string): Promise<void> {
    for (const entry of this.#running.values()) if (entry.app === app) entry.controller.abort(new Error(reason));
    await this.#tails.get(app);
  }

  /** Daemon shutdown: every deployment in flight is interrupted (and undone) before the store closes. */
  async cancelAll(reason: string): Promise<void> {
    for (const entry of this.#running.values()) entry.controller.abort(new Error(reason));
    await Promise.all(this.#tails.values());
  }

  /** Resolves when the app has no deployment running or queued (tests, destroy). */
  idle(app: string): Promise<void> {
    return this.#tails.get(app) ?? Promise.resolve();
  }
}

/** `env: set X`, `scale: web=2`, `rollback to v1` already say their kind; a deploy's description (a commit subject) does not. */
export const queuedMessage = (kind: string, description: string): string => (description.startsWith(kind) ? description : `${kind}: ${description}`);
