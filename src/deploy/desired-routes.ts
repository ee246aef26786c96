import type { CanarySplit, ChaosRule, RouteTable, Target } from '../dataplane/route-table.ts';
import { splitWeights } from './canary/analysis.ts';
import type { Manifest } from '../manifest/schema.ts';
import { hstsHeader } from '../manifest/sections/https.ts';
import { securedHosts } from '../certs/plan.ts';
import type { CertificateRecord, InstanceRecord, ReleaseRecord } from '../model/records.ts';

export interface AppRouting {
  name: string;
  /** The release serving traffic; its manifest decides domains and drain time. */
  current: ReleaseRecord | null;
  instances: InstanceRecord[];
  releaseNames: Map<string, string>;
  /** `berth chaos` on the app (deploy/chaos.ts `chaosRule`); absent or null: none. */
  chaos?: ChaosRule | null;
  /** The canary split of the app's active rollout (./canary/); absent or null: none. */
  split?: CanarySplit | null;
}

/** The hostnames an app answers to: `<app>.<base domain>` first, then the manifest's domains. */
export function hostsFor(app: string, manifest: Manifest | null, baseDomain: string): string[] {
  return [`${app}.${baseDomain}`, ...(manifest?.domains ?? [])].map((h) => h.toLowerCase());
}

/** HTTPS as the URLs show it: the TLS listener's port, and whether the proxy holds a certificate for a host. */
export interface HttpsUrls {
  port: number;
  secured(host: string): boolean;
}

/** `urlsFor`'s HTTPS from the TLS listener (null: HTTPS off) and the stored certificates at `now`. */
export function httpsUrls(listener: { port: number } | null | undefined, certificates: CertificateRecord[], now: number): HttpsUrls | null {
  return listener ? { port: listener.port, secured: securedHosts(certificates, now) } : null;
}

/**
 * The app's public URLs, as printed by the CLI: https:// for a host the proxy serves over HTTPS (HTTPS on,
 * a valid certificate for it), http:// for the others. Wildcards have no URL.
 */
export function urlsFor(app: string, manifest: Manifest | null, baseDomain: string, http: { port: number }, https: HttpsUrls | null = null): string[] {
  const portOf = (port: number, standard: number) => (port === standard ? '' : `:${port}`);
  return hostsFor(app, manifest, baseDomain)
    .filter((h) => !h.startsWith('*.'))
    .map((h) => (https?.secured(h) ? `https://${h}${portOf(https.port, 443)}` : `http://${h}${portOf(http.port, 80)}`));
}

/** What the proxy does for the app's hosts once it holds their certificate: `https:` in berth.yaml (defaults for releases made before it). */
export function httpsRoute(manifest: Manifest): { redirect: boolean; hsts: string | null } {
  return { redirect: manifest.https?.redirect ?? true, hsts: hstsHeader(manifest.https?.hsts) };
}

/**
 * Derives the route table from the store's view of each app: serving web instances are active targets,
 * draining ones stay listed as draining (the proxy lets them finish), everything else is unrouted.
 * Pure: same input, same table.
 */
export function buildRouteTable(apps: AppRouting[], baseDomain: string, generation: number): RouteTable {
  const table: RouteTable = { generation, apps: {} };
  for (const app of apps) {
    const manifest = app.current?.manifest ?? null;
    if (manifest && !manifest.processes.web) continue;
    const targets: Target[] = [];
    for (const instance of app.instances) {
      if (instance.process !== 'web' || !instance.address) continue;
      if (instance.state !== 'serving' && instance.state !== 'draining') continue;
      targets.push({
        id: instance.id,
        release: app.releaseNames.get(instance.releaseId) ?? instance.releaseId,
        address: instance.address,
        weight: instance.state === 'serving' ? 1 : 0,
        state: instance.state === 'serving' ? 'active' : 'draining',
      });
    }
    if (app.split) weighSplit(targets, app.split);
    table.apps[app.name] = {
      hosts: hostsFor(app.name, manifest, baseDomain),
      targets,
      drainTimeoutMs: manifest?.deploy.drainTimeoutMs ?? 30_000,
      ...(manifest ? { https: httpsRoute(manifest) } : {}),
      ...(app.chaos ? { chaos: app.chaos } : {}),
      ...(app.split ? { split: app.split } : {}),
    };
  }
  return table;
}

/**
 * A canary split's share also in the active targets' weights (./canary/analysis.ts `splitWeights`): the
 * proxy picks the client's side by its bucket, and by weight inside it; a proxy that predates the split
 * still sends the canary its share by weight alone, and at 0 % none.
 */
function weighSplit(targets: Target[], split: CanarySplit): void {
  const active = targets.filter((t) => t.state === 'active');
  const canary = active.filter((t) => t.release === split.release);
  const weights = splitWeights(split.percent, canary.length, active.length - canary.length);
  for (const target of active) target.weight = target.release === split.release ? weights.canary : weights.stable;
}
