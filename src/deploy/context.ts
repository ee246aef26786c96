import type { DataPlane } from '../dataplane/route-table.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { PolicyGate } from '../policy/gate.ts';
import type { RegistryPort } from '../registry/port.ts';
import type { RuntimeDriver } from '../runtime/driver.ts';
import type { RuntimeChoice } from '../runtime/select.ts';
import type { Sealer } from '../secrets/sealer.ts';
import type { Store } from '../store/store.ts';
import type { AppSecrets } from './app-secrets.ts';
import type { CanaryControls } from './canary/controls.ts';

/** What the deploy machinery works with; built once by the composition root (src/server/start.ts). */
export interface DeployContext {
  store: Store;
  driver: RuntimeDriver;
  dataplane: DataPlane;
  sealer: Sealer;
  /** Asks image registries what a tag points at, without pulling (image apps, auto-update). */
  registry: RegistryPort;
  /** The app's secret values as a masker, for every event and deployment error written (./app-secrets.ts). */
  secrets: AppSecrets;
  clock: Clock;
  log: Logger;
  settings: {
    baseDomain: string;
    http: { host: string; port: number };
    /** The proxy's TLS listener; null or absent when HTTPS is off (URLs stay http://). */
    https?: { host: string; port: number } | null;
    buildTimeoutMs: number;
    /** Where uploads are unpacked before their build takes them. */
    uploadsDir: string;
  };
  /** Which runtime berth chose and why (for `berth doctor`). */
  runtime?: RuntimeChoice;
  /** The policy gates judged before a deploy starts anything (./policy-step.ts); absent: none. */
  policies?: PolicyGate;
  /** The running canaries, by app, for `berth promote` / `berth abort` (./canary/controls.ts: made on first use). */
  canaries?: CanaryControls;
}
