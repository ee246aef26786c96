import { fail } from '../errors/catalogue.ts';
import type { DeploymentRecord } from '../model/records.ts';
import { checkEnvName, checkEnvValue } from '../model/env-vars.ts';
import { requireApp } from './apps.ts';
import type { DeployContext } from './context.ts';
import type { Deployer } from './deployer.ts';
import { emit } from './emit.ts';

export interface EnvChange {
  app: string;
  /** Names to set, with their values in the clear (sealed before they are saved). */
  set?: ReadonlyMap<string, string>;
  /** Names to remove; removing one that is not set is no change. */
  unset?: readonly string[];
}

/**
 * `berth env set/unset`: saves the change, then rolls it out as a new release through the same
 * health-gated path as a deploy. The change is saved first, in one transaction with its event, and stays
 * saved if the rollout fails (`env list` then says what the serving release lacks). An app that never
 * deployed only saves it. Every name and value is checked before anything is saved: a refused change
 * changes nothing. `changed` lists the names that really changed; without any, nothing rolls out.
 */
export function changeEnv(
  ctx: DeployContext,
  deployer: Pick<Deployer, 'start'>,
  change: EnvChange,
): { changed: string[]; deployment: DeploymentRecord | null } {
  const { store, sealer, clock } = ctx;
  const { app } = change;
  const record = requireApp(ctx, app);
  const set = change.set ?? new Map<string, string>();
  const unset = [...new Set(change.unset ?? [])];
  checkChange(set, unset);

  const changed = store.transaction(() => {
    const names: string[] = [];
    for (const [name, value] of set) {
      store.env.set(app, name, sealer.seal(value), clock.now());
      names.push(name);
    }
    for (const name of unset) if (store.env.unset(app, name)) names.push(name);
    if (names.length) emit(ctx, { app, deploymentId: null }, { type: 'env.changed', message: `env changed: ${names.join(', ')}`, data: { names } });
    return names;
  });
  if (changed.length === 0 || !record.currentRelease) return { changed, deployment: null };
  const description = [set.size ? `set ${[...set.keys()].join(', ')}` : '', unset.length ? `unset ${unset.join(', ')}` : ''].filter(Boolean).join('; ');
  return { changed, deployment: deployer.start({ app, kind: 'env', description: `env: ${description}`, wait: true }) };
}

/** Names and values valid, no name both set and unset, something to do; in that order. */
function checkChange(set: ReadonlyMap<string, string>, unset: readonly string[]): void {
  for (const [name, value] of set) {
    checkEnvName(name);
    checkEnvValue(name, value);
  }
  for (const name of unset) {
    checkEnvName(name);
    if (set.has(name)) throw fail('REQUEST_INVALID', { issues: [{ path: 'unset', message: `${name} is also in set`, fix: `either set ${name} or unset it` }] });
  }
  if (set.size === 0 && unset.length === 0) throw fail('REQUEST_INVALID', { issues: [{ path: '(body)', message: 'nothing to change', fix: '{"set": {"NAME": "value"}} or {"unset": ["NAME"]}' }] });
}
