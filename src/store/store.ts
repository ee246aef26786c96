import { AcmeAccounts } from './acme-accounts.ts';
import { Apps } from './apps.ts';
import { Builds } from './builds.ts';
import { ChaosRules } from './chaos.ts';
import { Certificates } from './certificates.ts';
import { Db } from './db.ts';
import { Deployments } from './deployments.ts';
import { EnvVars } from './env-vars.ts';
import { Events } from './events.ts';
import { HealthChecks } from './health-checks.ts';
import { ImageUpdates } from './image-updates.ts';
import { Instances } from './instances.ts';
import { Notifiers } from './notifiers.ts';
import { NotifyDeliveries } from './notify-deliveries.ts';
import { RegistryCredentials } from './registry-credentials.ts';
import { Releases } from './releases.ts';
import { Settings, Tokens } from './settings.ts';
import { Rollouts } from './rollouts.ts';

/** The store, one repository per noun over one SQLite connection. */
export class Store {
  readonly db: Db;
  readonly apps: Apps;
  readonly builds: Builds;
  readonly releases: Releases;
  readonly deployments: Deployments;
  readonly instances: Instances;
  readonly env: EnvVars;
  readonly events: Events;
  readonly settings: Settings;
  readonly tokens: Tokens;
  readonly registryCredentials: RegistryCredentials;
  readonly imageUpdates: ImageUpdates;
  /** TLS certificates, ACME's and own, one per hostname. */
  readonly certificates: Certificates;
  readonly acmeAccounts: AcmeAccounts;
  /** Notifications: the notifiers (URLs and secrets sealed) and their delivery queue and history. */
  readonly notifiers: Notifiers;
  readonly notifyDeliveries: NotifyDeliveries;
  /** The health monitor's checks (last 100 per instance) and each instance's and app's health state. */
  readonly health: HealthChecks;
  /** `berth chaos`: one simulated outage per app at most. */
  readonly chaos: ChaosRules;
  /** Canary rollouts (deploy/canary/): the split the route table carries, step, last verdicts. */
  readonly rollouts: Rollouts;

  constructor(path: string) {
    this.db = new Db(path);
    this.apps = new Apps(this.db);
    this.builds = new Builds(this.db);
    this.releases = new Releases(this.db);
    this.deployments = new Deployments(this.db);
    this.instances = new Instances(this.db);
    this.env = new EnvVars(this.db);
    this.events = new Events(this.db);
    this.settings = new Settings(this.db);
    this.tokens = new Tokens(this.db);
    this.registryCredentials = new RegistryCredentials(this.db);
    this.imageUpdates = new ImageUpdates(this.db);
    this.certificates = new Certificates(this.db);
    this.acmeAccounts = new AcmeAccounts(this.db);
    this.notifiers = new Notifiers(this.db);
    this.notifyDeliveries = new NotifyDeliveries(this.db);
    this.health = new HealthChecks(this.db);
    this.chaos = new ChaosRules(this.db);
    this.rollouts = new Rollouts(this.db);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn);
  }

  close(): void {
    this.db.close();
  }
}
