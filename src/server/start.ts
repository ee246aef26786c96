import { chmodSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { createApiServer } from '../api/server.ts';
import type { CertificateManager } from '../certs/manager.ts';
import { createProxyProcess } from '../dataplane/proxy-process.ts';
import { watchDataPlane } from '../dataplane/watchdog.ts';
import { AppSecrets } from '../deploy/app-secrets.ts';
import type { DeployContext } from '../deploy/context.ts';
import { writeDefaultPolicies } from '../policy/defaults.ts';
import { PolicyGate } from '../policy/gate.ts';
import { Deployer } from '../deploy/deployer.ts';
import { HealthMonitor } from '../health/monitor.ts';
import { ImageUpdater } from '../deploy/image-updater.ts';
import { reportTo } from '../deploy/emit.ts';
import { Reconciler } from '../deploy/reconciler.ts';
import { recover } from '../deploy/recovery.ts';
import { storedEngineAuth } from '../deploy/registry-logins.ts';
import { RegistryClient } from '../registry/client.ts';
import { Routing } from '../deploy/route-publisher.ts';
import { ChaosExpiry } from '../deploy/chaos-expiry.ts';
import { watchInstances } from '../deploy/watch.ts';
import { writeFileAtomic } from '../lib/atomic-file.ts';
import { systemClock } from '../lib/clock.ts';
import { formatHostPort } from '../lib/host-port.ts';
import { newId } from '../lib/ids.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { NotifyController } from '../notify/controller.ts';
import { fail } from '../errors/catalogue.ts';
import { Metrics } from '../metrics/metrics.ts';
import { MetricsNotReadyError, startMetricsListener, type MetricsListener } from './metrics-listener.ts';
import { createDockerDriver } from '../runtime/docker/driver.ts';
import { startLogRetention } from '../runtime/log-retention.ts';
import { createDockerEngine } from '../runtime/docker/engine-http.ts';
import type { RuntimeDriver } from '../runtime/driver.ts';
import { createProcessDriver } from '../runtime/process/driver.ts';
import { setDataDirModes } from '../runtime/process/data-dir.ts';
import { daemonUid, isolatesApps, isolationWarning } from '../runtime/process/isolation.ts';
import { chooseRuntime } from '../runtime/select.ts';
import { createSealer, loadOrCreateKey } from '../secrets/sealer.ts';
import { Store } from '../store/store.ts';
import { dataFiles, type ServerConfig } from './config.ts';
import { createCertificateManager } from './certificates.ts';
import { acquireLock } from './lock.ts';

export interface RunningServer {
  apiUrl: string;
  httpAddress: { host: string; port: number };
  /** The proxy's TLS listener; null when HTTPS is off. */
  httpsAddress: { host: string; port: number } | null;
  /** The `--metrics` listener (GET /metrics without a token); null when off. */
  metricsAddress: { host: string; port: number } | null;
  adminTokenFile: string;
  /** Resolves once the server has stopped. */
  stopped: Promise<void>;
  stop(options?: { stopApps?: boolean }): Promise<void>;
}

export const berthVersion = (): string =>
  (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * The composition root: opens the store, picks the runtime, adopts or starts the proxy, recovers from
 * whatever the last stop left, then serves the API. Nothing else in berth wires things together.
 */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const files = dataFiles(config.dataDir);
  for (const dir of ['', 'run', 'logs', 'uploads', 'runtime']) mkdirSync(join(config.dataDir, dir), { recursive: true, mode: 0o700 });
  // It holds app sources, logs and the sealing key: only berth's user may enter it, however it was created.
  chmodSync(config.dataDir, 0o700);
  const releaseLock = acquireLock(files.lock, config.dataDir);
  const log = createLogger({ level: config.logLevel, fields: { component: 'berth' } });
  const clock = systemClock;
  const version = berthVersion();
  // The `--metrics` listener binds first: an address it cannot have fails the start before anything (the proxy) is started.
  let scrapeTarget: Metrics | null = null;
  const metricsListener = config.metrics ? await openMetricsListener(config.metrics, () => scrapeTarget, log, releaseLock) : null;
  const store = new Store(join(config.dataDir, 'berth.db'));

  if (store.tokens.count() === 0) {
    // The file is written before the row commits: a crash or a full disk in between leaves no token, and
    // the next start makes one again (never a stored hash whose token nobody has).
    store.transaction(() => writeFileAtomic(files.adminToken, store.tokens.create(newId('tok'), 'admin', clock.now()) + '\n', 0o600));
    log.info('created the admin token', { file: files.adminToken });
  }
  const sealer = createSealer(loadOrCreateKey(join(config.dataDir, 'secret.key')));
  const ownerId = store.settings.getOrCreate('owner_id', () => newId('own'));
  // Registries asked without pulling (a login is tried before it is saved); pulls use the stored logins.
  const registry = new RegistryClient();
  const engine = createDockerEngine({ socketPath: config.dockerSocket });
  const runtime = await chooseRuntime(config.runtime, engine, config.dockerSocket, config.dockerHostIgnored);
  log.info('runtime chosen', { driver: runtime.driver, reason: runtime.reason, engine: runtime.engine?.Version, api: runtime.engineApiVersion });
  // Now that the key, token and database exist: all 0600, and DATA passable (never readable) by app users when there are some.
  const appUsers = runtime.driver === 'process' && isolatesApps(daemonUid());
  setDataDirModes(config.dataDir, { appUsers });
  const notIsolated = isolationWarning({ driver: runtime.driver, uid: daemonUid() });
  if (notIsolated) log.warn(notIsolated);
  const driver: RuntimeDriver =
    runtime.driver === 'docker'
      ? createDockerDriver({ engine, ownerId, root: join(config.dataDir, 'runtime', 'docker'), log, nodeImage: config.nodeImage, build: config.build, registryAuth: storedEngineAuth({ store, sealer }) })
      : createProcessDriver({ root: join(config.dataDir, 'runtime', 'process'), ownerId, log, box: sealer, binPath: [dirname(process.execPath)], appUsers });
  const proxy = createProxyProcess({
    runDir: join(config.dataDir, 'run'),
    logFile: join(config.dataDir, 'logs', 'proxy.log'),
    listen: config.http,
    https: config.https,
    // The proxy keeps the certificates it serves across its own restart, their keys sealed with the daemon's key.
    sealingKeyPath: join(config.dataDir, 'secret.key'),
    version,
    log,
    ownerId,
    // One JSON line per request, under DATA/logs/access (rotated by size, kept by age); off with --access-log-keep 0.
    accessLog: config.accessLog && { dir: join(config.dataDir, 'logs', 'access'), ...config.accessLog },
  });
  const httpAddress = await proxy.start();
  const httpsAddress = config.https ? ((await proxy.info())?.httpsAddress ?? null) : null;
  if (config.https && !httpsAddress) log.warn('the proxy reports no TLS listener: apps are served over HTTP only', { https: formatHostPort(config.https) });
  // Every route table the proxy takes wakes the certificate manager: a deploy that brings a domain gets its certificate at once.
  let certificates: CertificateManager | null = null;
  const dataplane: typeof proxy = {
    ...proxy,
    apply: async (table) => {
      await proxy.apply(table);
      certificates?.wake();
    },
  };

  // Policy gates (src/policy): DATA/policies/*.yaml, the shipped defaults written on the first start only, read again on each use.
  // CEL runs in a worker thread started on first use and ended after 30 s idle, so the daemon's heap does not hold it.
  const policiesDir = join(config.dataDir, 'policies');
  if (writeDefaultPolicies(policiesDir)) log.info('wrote the default policies', { file: join(policiesDir, 'defaults.yaml') });
  const ctx: DeployContext = {
    store,
    driver,
    dataplane,
    sealer,
    registry,
    secrets: new AppSecrets(store, sealer),
    clock,
    log,
    settings: { baseDomain: config.baseDomain, http: httpAddress, https: httpsAddress, buildTimeoutMs: config.buildTimeoutMs, uploadsDir: join(config.dataDir, 'uploads') },
    runtime,
    policies: new PolicyGate({ dir: policiesDir, dataDir: config.dataDir }),
  };
  if (httpsAddress) {
    certificates = createCertificateManager({ ctx, dataPlane: proxy, acme: config.acme, httpPort: httpAddress.port });
    // The proxy gets the stored certificates before (or with) the first route table, so it never redirects to a host it cannot serve.
    await certificates.publish(true).catch((error) => log.error('certificates not pushed to the proxy yet', { error: error as Error }));
  }
  const routing = new Routing(ctx);
  const deployer = new Deployer(ctx, routing);
  const reconciler = new Reconciler(ctx, routing);
  const unwatch = watchInstances(ctx, routing); // before recovery: adopt() reports what died meanwhile
  await recover(ctx, routing);
  reconciler.start();
  // Auto-update (`update:` in berth.yaml): checks, update deploys, settle windows resumed from the store.
  const updater = new ImageUpdater({ ctx, deployer });
  updater.start();
  const monitor = new HealthMonitor({ ...ctx, report: reportTo(ctx), revertInstead: (instance, detail) => updater.revertInstead(instance, detail) });
  monitor.start();
  certificates?.start();
  // `berth chaos` past its end leaves the store and the table (the proxy already ignores it), now and every second.
  const chaosExpiry = new ChaosExpiry(ctx, routing);
  chaosExpiry.start();
  // App log lines older than --log-retention go, now and hourly (src/runtime/log-retention.ts).
  const stopLogRetention = startLogRetention(driver, { retentionMs: config.logRetentionMs, clock, log });
  // Notifications: events the deploy machinery appends are queued after their commit and posted off its path.
  const notifications = new NotifyController({ store, sealer, clock, log });
  notifications.start();
  // Traffic per release from the proxy every 5 s, instance usage every 15 s: `berth status`, `berth top`, Prometheus.
  const metrics = new Metrics({ dataplane, driver, store, clock, log, version });
  metrics.start();
  scrapeTarget = metrics;
  const unwatchProxy = watchDataPlane({
    log,
    alive: async () => (await dataplane.info()) !== undefined,
    restart: async () => {
      await dataplane.start();
      await certificates?.publish(true);
      await certificates?.republishChallenges();
      await routing.publish();
    },
  });

  let stopping: Promise<void> | null = null;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  const stop = (options: { stopApps?: boolean } = {}) => {
    stopping ??= (async () => {
      log.info('stopping', { stopApps: options.stopApps === true });
      api.close();
      setTimeout(() => api.closeAllConnections(), 2000).unref();
      await updater.stop();
      await certificates?.stop();
      await deployer.cancelAll('the berth server is stopping');
      await reconciler.stop();
      // The policy worker (src/policy/engine.ts), if one is up: its thread ends with the daemon.
      await ctx.policies?.close();
      await monitor.stop();
      await chaosExpiry.stop();
      stopLogRetention();
      await notifications.stop();
      await metricsListener?.close();
      await metrics.stop();
      unwatchProxy();
      unwatch();
      if (options.stopApps) {
        // Desired state stays as it is: the next start brings every app back as it was.
        await Promise.all(store.instances.live().map((i) => driver.stop(i.id)));
        // Services too (Redis, Postgres): stopped, their volumes kept; the driver starts them again on the next start.
        await driver.services?.stopAll();
        await dataplane.stop();
      } else await dataplane.detach();
      await driver.close();
      store.close();
      rmSync(files.apiInfo, { force: true });
      releaseLock();
      log.info('stopped');
      resolveStopped();
    })();
    return stopping;
  };

  const api = createApiServer({
    ctx,
    deployer,
    routing,
    config,
    version,
    apiAddress: () => apiAddress,
    ...(certificates ? { certificates } : {}),
    notifications,
    metrics,
    shutdown: (options) => void stop(options),
  });
  await new Promise<void>((resolve, reject) => {
    api.once('error', reject);
    api.listen(config.api.port, config.api.host, () => resolve());
  });
  const bound = api.address() as AddressInfo;
  const apiAddress = { host: config.api.host, port: bound.port };
  const apiUrl = `http://${formatHostPort(apiAddress)}`;
  const metricsAddress = metricsListener?.address ?? null;
  writeFileAtomic(files.apiInfo, JSON.stringify({ url: apiUrl, pid: process.pid, http: httpAddress, https: httpsAddress, metrics: metricsAddress }) + '\n', 0o600);
  log.info('berth is ready', { api: apiUrl, http: formatHostPort(httpAddress), https: httpsAddress ? formatHostPort(httpsAddress) : 'off', driver: driver.name, data: config.dataDir, version });

  const onSignal = () => void stop();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  void stopped.then(() => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  });
  return { apiUrl, httpAddress, httpsAddress, metricsAddress, adminTokenFile: files.adminToken, stopped, stop };
}

/** The `--metrics` listener, answering 503 until the metrics exist; an address it cannot listen on is CONFIG_INVALID. */
async function openMetricsListener(listen: { host: string; port: number }, target: () => Metrics | null, log: Logger, releaseLock: () => void): Promise<MetricsListener> {
  const scrape = async () => {
    const metrics = target();
    if (!metrics) throw new MetricsNotReadyError();
    return metrics.scrape();
  };
  try {
    return await startMetricsListener({ listen, scrape, log });
  } catch (error) {
    releaseLock();
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw fail('CONFIG_INVALID', { issues: [{ path: '--metrics', message: `cannot listen on ${formatHostPort(listen)}: ${code}`, fix: 'pick a free port on an address of this machine, for example --metrics 127.0.0.1:9464' }] });
  }
}
