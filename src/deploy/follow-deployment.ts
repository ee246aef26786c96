import type { EventRecord } from '../model/records.ts';
import { isTerminal } from '../model/states.ts';
import type { DeployContext } from './context.ts';

/** The events that end a deployment: none of it follows them. */
const FINAL = new Set(['deploy.succeeded', 'deploy.failed', 'deploy.interrupted']);

/** Who reads a deployment's events as they come (an event stream, a CLI follower). */
export interface DeploymentFollower {
  /** Aborts when the reader goes away: no more events are passed. */
  readonly signal: AbortSignal;
  event(event: EventRecord): void;
  /** The deployment is over: no event of it follows. */
  end(): void;
}

/**
 * Passes a known deployment's events with a seq after `after` to `follower`, each once and in order:
 * those recorded, then each new one as it is committed, until the deployment is over (its final event,
 * or it had ended already) or the follower's signal aborts.
 */
export function followDeployment(ctx: Pick<DeployContext, 'store'>, id: string, after: number, follower: DeploymentFollower): void {
  const { store } = ctx;
  let last = after;
  let over = false;
  const closed = () => over || follower.signal.aborted;
  const finish = () => {
    over = true;
    unsubscribe();
    follower.end();
  };
  const pass = (event: EventRecord) => {
    if (closed() || event.seq <= last) return;
    last = event.seq;
    follower.event(event);
    if (FINAL.has(event.type)) finish();
  };
  // Subscribe before reading the past, so nothing falls between the two; what arrives meanwhile waits.
  const live: EventRecord[] = [];
  let replaying = true;
  const unsubscribe = store.events.subscribe((event) => {
    if (event.deploymentId !== id) return;
    if (replaying) live.push(event);
    else pass(event);
  });
  follower.signal.addEventListener('abort', unsubscribe, { once: true });
  for (const event of store.events.forDeployment(id, last)) pass(event);
  replaying = false;
  for (const event of live) pass(event);
  if (!closed() && isTerminal(store.deployments.get(id)!.state)) finish();
  if (closed()) unsubscribe();
}
