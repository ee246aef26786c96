import type { CertificateManagerPort } from '../deploy/certificates.ts';
import type { Deployer } from '../deploy/deployer.ts';
import type { DeployContext } from '../deploy/context.ts';
import type { Routing } from '../deploy/route-publisher.ts';
import type { NotifyControllerPort } from '../notify/controller.ts';
import type { Metrics } from '../metrics/metrics.ts';

/** What the API handlers may use; wired by the composition root. */
export interface ApiDeps {
  ctx: DeployContext;
  deployer: Deployer;
  routing: Routing;
  config: ApiConfig;
  version: string;
  apiAddress: () => { host: string; port: number };
  /**
   * The certificate manager (src/certs/manager.ts), woken after an own certificate is added or removed or a
   * renewal is asked for. Absent on a daemon that runs none: the store still changes, and a manager started
   * later reads it.
   */
  certificates?: CertificateManagerPort;
  /**
   * The daemon's metrics (src/metrics/), ticking on their own. Absent (tests that wire the API alone): the
   * endpoints read the same data plane, driver and store through one made on first use, refreshed on demand.
   */
  metrics?: Metrics;
  /**
   * The notification controller (src/notify/controller.ts), woken after a notifier is added or removed.
   * Absent: notifiers are still stored, and a controller started later reads them.
   */
  notifications?: NotifyControllerPort;
  /** Ends the daemon; with `stopApps` the proxy and every instance stop too. */
  shutdown(options: { stopApps: boolean }): void;
}

/** The server settings the API reads (the composition root passes its whole ServerConfig). */
export interface ApiConfig {
  dataDir: string;
  baseDomain: string;
  http: { host: string; port: number };
  api: { host: string; port: number };
  maxUploadBytes: number;
  maxUnpackedBytes: number;
  maxUploadEntries: number;
}
