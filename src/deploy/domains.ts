import { fail } from '../errors/catalogue.ts';
import type { Manifest } from '../manifest/schema.ts';
import type { DeployContext } from './context.ts';
import { hostsFor } from './desired-routes.ts';

/**
 * A hostname routes to one app only: DOMAIN_TAKEN when another app's serving release answers to one of
 * the hosts this manifest asks for. Checked when an upload arrives (early, clear) and again inside the
 * switch's transaction, which is what makes it hold against a concurrent deploy or a rollback to a
 * release whose domains were given away since.
 */
export function checkDomains(ctx: Pick<DeployContext, 'store' | 'settings'>, app: string, manifest: Manifest): void {
  const { store } = ctx;
  const wanted = new Set(hostsFor(app, manifest, ctx.settings.baseDomain));
  for (const other of store.apps.list()) {
    if (other.name === app || !other.currentRelease) continue;
    const release = store.releases.get(other.currentRelease);
    for (const host of hostsFor(other.name, release?.manifest ?? null, ctx.settings.baseDomain)) {
      if (wanted.has(host)) throw fail('DOMAIN_TAKEN', { domain: host, app: other.name });
    }
  }
}
