/**
 * How `berth promote` and `berth abort` reach a canary that is running: each canary runner attaches a
 * handle under its app while it judges steps, and the API asks through it. Not the deployer's
 * AbortController: that one interrupts (daemon shutdown), while an abort is a decision and ends the
 * deployment failed, with who asked. In memory only: after a restart no canary runs (recovery aborts
 * the one the store still shows), so there is nothing to reach.
 */
import { fail } from '../../errors/catalogue.ts';
import type { RolloutRecord } from '../../store/rollouts.ts';
import type { DeployContext } from '../context.ts';

export type CanaryCommandKind = 'promote' | 'abort';

/** What a command did: promoted (the switch happened), aborted (traffic back on stable). A refused promote rejects with CANARY_PROMOTE_DENIED. */
export interface CanaryOutcome {
  outcome: 'promoted' | 'aborted';
  message: string;
  rollout: RolloutRecord;
}

export interface CanaryHandle {
  deploymentId: string;
  ask(kind: CanaryCommandKind, by: string): Promise<CanaryOutcome>;
}

export class CanaryControls {
  readonly #byApp = new Map<string, CanaryHandle>();

  /** Makes the app's running canary reachable; the returned function detaches it (only if it is still this one). */
  attach(app: string, handle: CanaryHandle): () => void {
    this.#byApp.set(app, handle);
    return () => {
      if (this.#byApp.get(app) === handle) this.#byApp.delete(app);
    };
  }

  /** Promotes now (the promote policies still judge); NO_CANARY_RUNNING when the app has none. */
  async promote(app: string, by: string): Promise<CanaryOutcome> {
    return this.#handle(app).ask('promote', by);
  }

  /** Aborts now: all traffic back on stable, the canary stopped, the deployment failed. */
  async abort(app: string, by: string): Promise<CanaryOutcome> {
    return this.#handle(app).ask('abort', by);
  }

  #handle(app: string): CanaryHandle {
    const handle = this.#byApp.get(app);
    if (!handle) throw fail('NO_CANARY_RUNNING', { app });
    return handle;
  }
}

/**
 * The daemon's controls, made on first use and kept on the deploy context (the one object the runbook
 * and the API share), so nothing else needs to wire them.
 */
export function canaryControls(ctx: DeployContext): CanaryControls {
  ctx.canaries ??= new CanaryControls();
  return ctx.canaries;
}
