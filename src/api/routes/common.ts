import { fail, type Issue } from '../../errors/catalogue.ts';
import { isValidAppName } from '../../manifest/app-name.ts';
import type { AppRecord } from '../../store/records.ts';
import type { ApiDeps } from '../deps.ts';

export function checkAppName(name: string): void {
  if (!isValidAppName(name)) throw fail('APP_NAME_INVALID', { name });
}

export function requireApp(deps: ApiDeps, name: string): AppRecord {
  checkAppName(name);
  const app = deps.ctx.store.apps.get(name);
  if (!app) throw fail('APP_NOT_FOUND', { app: name });
  return app;
}

/** A JSON body must be an object; anything else is REQUEST_INVALID naming the fix. */
export function asObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw fail('REQUEST_INVALID', { issues: [{ path: '(body)', message: 'must be a JSON object' }] });
  }
  return body as Record<string, unknown>;
}

export function invalid(issues: Issue[]): never {
  throw fail('REQUEST_INVALID', { issues });
}
