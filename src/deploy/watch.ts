import { formatHostPort } from '../lib/host-port.ts';
import type { DriverEvent } from '../runtime/driver.ts';
import { describeExit } from '../runtime/describe-exit.ts';
import type { DeployContext } from './context.ts';
import { emit } from './emit.ts';
import type { Routing } from './route-publisher.ts';

/**
 * Turns runtime events into the store's view and the event log: a crash is recorded, a restart on a new
 * address re-routes traffic, a crash loop is reported loudly and taken off the route table. Returns the unsubscribe function.
 */
export function watchInstances(ctx: DeployContext, routing: Routing): () => void {
  return ctx.driver.subscribe((event: DriverEvent) => {
    const instance = ctx.store.instances.get(event.id);
    if (!instance) return;
    const label = `${instance.process}.${instance.ordinal}`;
    const where = { app: instance.app, deploymentId: null };
    switch (event.type) {
      case 'exited':
        if (instance.state === 'stopping' || instance.state === 'stopped') return;
        emit(ctx, where, {
          type: 'instance.exited',
          message: `${label} ${describeExit(event.exit)}${event.willRestart ? ', restarting' : ''}`,
          data: { instance: event.id, exit: event.exit, restarts: event.restarts },
        });
        return;
      case 'restarted': {
        const address = event.address ? formatHostPort(event.address) : null;
        emit(ctx, where, { type: 'instance.restarted', message: `${label} restarted (restart ${event.restarts})`, data: { instance: event.id, address, restarts: event.restarts } });
        if (address !== instance.address) {
          ctx.store.instances.setAddress(event.id, address, ctx.clock.now());
          void routing.publish().catch(() => {});
        }
        return;
      }
      case 'crashloop':
        ctx.log.error('instance is crash-looping', { app: instance.app, instance: event.id, restarts: event.restarts });
        emit(ctx, where, {
          type: 'instance.crashloop',
          message: `${label} keeps crashing (${event.restarts} restarts, last ${describeExit(event.exit)}); berth stopped restarting it`,
          data: { instance: event.id, exit: event.exit, restarts: event.restarts },
        });
        // Nothing listens there any more: off the route table, so the proxy says 503 (no healthy
        // instance) instead of trying the dead address on every request.
        if (instance.address !== null) {
          ctx.store.instances.setAddress(event.id, null, ctx.clock.now());
          void routing.publish().catch(() => {});
        }
        return;
    }
  });
}
