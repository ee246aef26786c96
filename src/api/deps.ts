import type { Deployer } from '../deploy/deployer.ts';
import type { DeployContext } from '../deploy/context.ts';
import type { Routing } from '../deploy/routing.ts';
import type { ServerConfig } from '../server/config.ts';

/** What the API handlers may use; wired by the composition root. */
export interface ApiDeps {
  ctx: DeployContext;
  deployer: Deployer;
  routing: Routing;
  config: ServerConfig;
  version: string;
  apiAddress: () => { host: string; port: number };
  /** Ends the daemon; with `stopApps` the proxy and every instance stop too. */
  shutdown(options: { stopApps: boolean }): void;
}
