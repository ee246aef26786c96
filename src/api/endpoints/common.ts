import { fail, type Issue } from '../../errors/catalogue.ts';
import { isValidAppName } from '../../manifest/app-name.ts';
import type { AppRecord } from '../../model/records.ts';
import type { ApiDeps } from '../deps.ts';

export function checkAppName(name: string): void {
  if (!isValidAppName(name)) throw fail('APP_NAME_INVALID', { name: name.length > 64 ? `${name.slice(0, 64)}…` : name });
}

export function requireApp(deps: ApiDeps, name: string): AppRecord {
  checkAppName(name);
  const app = deps.ctx.store.apps.get(name);
  if (!app) throw fail('APP_NOT_FOUND', { app: name });
  return app;
}

export function invalid(issues: Issue[]): never {
  throw fail('REQUEST_INVALID', { issues });
}
