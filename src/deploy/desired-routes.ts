import type { RouteTable, Target } from '../dataplane/route-table.ts';
import type { Manifest } from '../manifest/schema.ts';
import type { InstanceRecord, ReleaseRecord } from '../model/records.ts';

export interface AppRouting {
  name: string;
  /** The release serving traffic; its manifest decides domains and drain time. */
  current: ReleaseRecord | null;
  instances: InstanceRecord[];
  releaseNames: Map<string, string>;
}

/** The hostnames an app answers to: `<app>.<base domain>` first, then the manifest's domains. */
export function hostsFor(app: string, manifest: Manifest | null, baseDomain: string): string[] {
  return [`${app}.${baseDomain}`, ...(manifest?.domains ?? [])].map((h) => h.toLowerCase());
}

/** The app's public URLs, as printed by the CLI. */
export function urlsFor(app: string, manifest: Manifest | null, baseDomain: string, http: { port: number }): string[] {
  const port = http.port === 80 ? '' : `:${http.port}`;
  return hostsFor(app, manifest, baseDomain)
    .filter((h) => !h.startsWith('*.'))
    .map((h) => `http://${h}${port}`);
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
    table.apps[app.name] = {
      hosts: hostsFor(app.name, manifest, baseDomain),
      targets,
      drainTimeoutMs: manifest?.deploy.drainTimeoutMs ?? 30_000,
    };
  }
  return table;
}
