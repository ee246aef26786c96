import { fail } from '../errors/catalogue.ts';
import { isValidAppName } from '../manifest/app-name.ts';
import type { AppRecord } from '../model/records.ts';
import type { DeployContext } from './context.ts';
import { emit } from './emit.ts';

/** APP_NAME_INVALID unless `name` can be an app (it becomes a hostname label). */
export function checkAppName(name: string): void {
  // The error quotes the name: a path segment may be kilobytes long.
  if (!isValidAppName(name)) throw fail('APP_NAME_INVALID', { name: name.length > 64 ? `${name.slice(0, 64)}…` : name });
}

/** The app's record: APP_NAME_INVALID for a name no app can have, APP_NOT_FOUND for one nobody created. */
export function requireApp(ctx: Pick<DeployContext, 'store'>, name: string): AppRecord {
  checkAppName(name);
  const app = ctx.store.apps.get(name);
  if (!app) throw fail('APP_NOT_FOUND', { app: name });
  return app;
}

/** Creates an empty app, or finds the one there is (`created` says which); only a new one is an event. */
export function createApp(ctx: Pick<DeployContext, 'store' | 'clock' | 'secrets'>, name: string): { app: AppRecord; created: boolean } {
  checkAppName(name);
  const { store, clock } = ctx;
  const created = store.transaction(() => {
    const fresh = store.apps.ensure(name, clock.now());
    if (fresh) emit(ctx, { app: name, deploymentId: null }, { type: 'app.created', message: `app ${name} created` });
    return fresh;
  });
  return { app: store.apps.get(name)!, created };
}
