import { listRegistryLogins, loginToRegistry, logoutOfRegistry, type RegistryLogin } from '../../deploy/registry-logins.ts';
import type { RegistryLogin as RegistryLoginView } from '../../model/wire.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';

/**
 * Registry logins (`berth registry login|list|logout`). `:host` is the registry as the user wrote it
 * (percent-encoded); the use case normalizes it. A password comes in with PUT and never goes out.
 */
export function registryRoutes(router: Router, deps: ApiDeps): void {
  const { ctx } = deps;

  router.on(operations.listRegistries, ({ res }) => {
    answer(res, 'listRegistries', 200, { registries: listRegistryLogins(ctx).map(loginView) });
  });

  router.on(operations.loginRegistry, async ({ res, params, body }) => {
    const { login, replaced } = await loginToRegistry(ctx, { host: params.host, username: body.username, password: body.password });
    answer(res, 'loginRegistry', replaced ? 200 : 201, loginView(login));
  });

  router.on(operations.logoutRegistry, ({ res, params }) => {
    answer(res, 'logoutRegistry', 200, { removed: logoutOfRegistry(ctx, params.host) });
  });
}

function loginView(login: RegistryLogin): RegistryLoginView {
  return { host: login.host, username: login.username, createdAt: new Date(login.createdAt).toISOString(), updatedAt: new Date(login.updatedAt).toISOString() };
}
