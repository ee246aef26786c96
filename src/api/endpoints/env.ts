import { envDrift } from '../../deploy/env.ts';
import { checkEnvName, checkEnvValue } from '../../model/env-vars.ts';
import { currentVars, releaseVars } from '../../deploy/releases.ts';
import { emit } from '../../deploy/emit.ts';
import type { ApiDeps } from '../deps.ts';
import { sendJson } from '../http.ts';
import { operations } from '../operations.ts';
import { runOutsideRequestScope } from '../request-scope.ts';
import type { Router } from '../router.ts';
import { deploymentView } from '../views.ts';
import { invalid, requireApp } from './common.ts';

/**
 * The app's env vars. Values are sealed at rest and leave the server only with ?reveal=1; events and
 * logs carry names only. A change rolls out as a new release through the same health-gated path.
 */
export function envRoutes(router: Router, deps: ApiDeps): void {
  const { store, sealer, clock } = deps.ctx;

  // `serving: false` marks a var the serving release does not run with (yet); `unsetButServed` lists names
  // unset since it was made. Both clear with the next release that succeeds.
  router.on(operations.getEnv, ({ res, params: { app }, query }) => {
    const record = requireApp(deps, app);
    const current = record.currentRelease ? store.releases.get(record.currentRelease) : undefined;
    const drift = envDrift(currentVars(deps.ctx, app), current ? releaseVars(deps.ctx, current) : null);
    const vars = store.env.list(app).map((v) => ({
      name: v.name,
      updatedAt: new Date(v.updatedAt).toISOString(),
      serving: !drift.pending.has(v.name),
      ...(query.reveal ? { value: sealer.open(v.valueSealed) } : {}),
    }));
    sendJson(res, 200, { app, release: current ? `v${current.version}` : null, vars, unsetButServed: drift.unsetButServed });
  });

  // Every name and value is checked before anything is saved: a refused request changes nothing.
  router.on(operations.patchEnv, ({ res, params: { app }, body }) => {
    const record = requireApp(deps, app);
    const set = body.set ?? new Map<string, string>();
    const unset = [...new Set(body.unset ?? [])];
    for (const [name, value] of set) {
      checkEnvName(name);
      checkEnvValue(name, value);
    }
    for (const name of unset) {
      checkEnvName(name);
      if (set.has(name)) invalid([{ path: 'unset', message: `${name} is also in set`, fix: `either set ${name} or unset it` }]);
    }
    if (set.size === 0 && unset.length === 0) invalid([{ path: '(body)', message: 'nothing to change', fix: '{"set": {"NAME": "value"}} or {"unset": ["NAME"]}' }]);

    const changed = store.transaction(() => {
      const names: string[] = [];
      for (const [name, value] of set) {
        store.env.set(app, name, sealer.seal(value), clock.now());
        names.push(name);
      }
      for (const name of unset) if (store.env.unset(app, name)) names.push(name);
      if (names.length) emit(deps.ctx, { app, deploymentId: null }, 'env.changed', `env changed: ${names.join(', ')}`, { names });
      return names;
    });
    const description = [set.size ? `set ${[...set.keys()].join(', ')}` : '', unset.length ? `unset ${unset.join(', ')}` : ''].filter(Boolean).join('; ');
    const deployment = changed.length > 0 && record.currentRelease ? runOutsideRequestScope(() => deps.deployer.start({ app, kind: 'env', description: `env: ${description}`, wait: true })) : null;
    sendJson(res, 202, { changed, deployment: deployment ? deploymentView(deps, deployment) : null });
  });
}
