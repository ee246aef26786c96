import { checkEnvName, envDrift } from '../../deploy/env.ts';
import { currentVars, releaseVars } from '../../deploy/releases.ts';
import { emit } from '../../deploy/emit.ts';
import type { ApiDeps } from '../deps.ts';
import { readJsonBody, sendJson } from '../http.ts';
import type { Router } from '../router.ts';
import { deploymentView } from '../views.ts';
import { asObject, invalid, requireApp } from './common.ts';

const MAX_VALUE = 64 * 1024;

/**
 * The app's env vars. Values are sealed at rest and leave the server only with ?reveal=1; events and
 * logs carry names only. A change rolls out as a new release through the same health-gated path.
 */
export function envRoutes(router: Router, deps: ApiDeps): void {
  const { store, sealer, clock } = deps.ctx;

  // `serving: false` marks a var the serving release does not run with (yet); `unsetButServed` lists names
  // unset since it was made. Both clear with the next release that succeeds.
  router.on('GET', '/v1/apps/:app/env', (_req, res, { app }, url) => {
    const record = requireApp(deps, app);
    const reveal = url.searchParams.get('reveal') === '1';
    const current = record.currentRelease ? store.releases.get(record.currentRelease) : undefined;
    const drift = envDrift(currentVars(deps.ctx, app), current ? releaseVars(deps.ctx, current) : null);
    const vars = store.env.list(app).map((v) => ({
      name: v.name,
      updatedAt: new Date(v.updatedAt).toISOString(),
      serving: !drift.pending.has(v.name),
      ...(reveal ? { value: sealer.open(v.valueSealed) } : {}),
    }));
    sendJson(res, 200, { app, release: current ? `v${current.version}` : null, vars, unsetButServed: drift.unsetButServed });
  });

  router.on('PATCH', '/v1/apps/:app/env', async (req, res, { app }) => {
    const record = requireApp(deps, app);
    const body = asObject(await readJsonBody(req));
    const set = body.set ?? {};
    const unset = body.unset ?? [];
    if (typeof set !== 'object' || set === null || Array.isArray(set)) invalid([{ path: 'set', message: 'must be an object of NAME: "value"', fix: '{"set": {"API_KEY": "..."}}' }]);
    if (!Array.isArray(unset)) invalid([{ path: 'unset', message: 'must be a list of names', fix: '{"unset": ["OLD_NAME"]}' }]);
    const entries = Object.entries(set as Record<string, unknown>);
    for (const [name, value] of entries) {
      checkEnvName(name);
      if (typeof value !== 'string') invalid([{ path: `set.${name}`, message: 'must be a string', fix: `"${name}": "${String(value)}"` }]);
      if (value.length > MAX_VALUE) invalid([{ path: `set.${name}`, message: `is longer than ${MAX_VALUE} bytes`, fix: 'store large files elsewhere and pass their location' }]);
    }
    for (const name of unset as unknown[]) {
      if (typeof name !== 'string') invalid([{ path: 'unset', message: 'must be a list of names' }]);
      checkEnvName(name);
    }
    if (entries.length === 0 && (unset as string[]).length === 0) invalid([{ path: '(body)', message: 'nothing to change', fix: '{"set": {"NAME": "value"}} or {"unset": ["NAME"]}' }]);

    const changed = store.transaction(() => {
      const names: string[] = [];
      for (const [name, value] of entries) {
        store.env.set(app, name, sealer.seal(value as string), clock.now());
        names.push(name);
      }
      for (const name of unset as string[]) if (store.env.unset(app, name)) names.push(name);
      if (names.length) emit(deps.ctx, { app, deploymentId: null }, 'env.changed', `env changed: ${names.join(', ')}`, { names });
      return names;
    });
    const description = [entries.length ? `set ${entries.map(([n]) => n).join(', ')}` : '', (unset as string[]).length ? `unset ${(unset as string[]).join(', ')}` : '']
      .filter(Boolean)
      .join('; ');
    const deployment = changed.length > 0 && record.currentRelease ? deps.deployer.start({ app, kind: 'env', description: `env: ${description}`, wait: true }) : null;
    sendJson(res, 202, { changed, deployment: deployment ? deploymentView(deps, deployment) : null });
  });
}
