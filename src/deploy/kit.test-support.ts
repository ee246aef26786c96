/**
 * A control plane for tests of the deploy machinery, with honest implementations of every port: a real
 * SQLite store in a temp dir, the fake runtime driver (in-process HTTP servers), the real proxy in
 * process. Test-only; nothing in berth imports it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInProcessDataPlane } from '../proxy/in-process.ts';
import { systemClock } from '../lib/clock.ts';
import { silentLogger } from '../lib/log.ts';
import { parseManifest } from '../manifest/load.ts';
import { createFakeDriver } from '../runtime/fake/driver.ts';
import { createFakeState, type FakeState } from '../runtime/fake/state.ts';
import type { FakeBehaviour } from '../runtime/fake/behaviour.ts';
import type { FakeRemoteImages } from '../runtime/fake/images.ts';
import { FakeRegistry } from '../registry/fake.test-support.ts';
import { createSealer } from '../secrets/sealer.ts';
import { Store } from '../store/store.ts';
import { AppSecrets } from './app-secrets.ts';
import type { DeployContext } from './context.ts';
import { Deployer } from './deployer.ts';
import { Reconciler } from './reconciler.ts';
import { Routing } from './route-publisher.ts';
import { watchInstances } from './watch.ts';

export interface Kit {
  ctx: DeployContext;
  routing: Routing;
  deployer: Deployer;
  reconciler: Reconciler;
  fake: FakeState;
  dir: string;
  port: number;
  /** An unpacked upload: berth.yaml plus the fake behaviour of its instances. */
  source(manifest: string, behaviour?: FakeBehaviour): { dir: string; manifest: ReturnType<typeof parseManifest> };
  close(): Promise<void>;
}

/** `images`: what the registries hold; given, the fake driver runs image apps and services (runtime/fake/images.ts). */
export async function startKit(options: { images?: FakeRemoteImages } = {}): Promise<Kit> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-deploy-'));
  const store = new Store(join(dir, 'berth.db'));
  const fake = createFakeState();
  const dataplane = createInProcessDataPlane({ host: '127.0.0.1', port: 0 });
  const address = await dataplane.start();
  const sealer = createSealer(randomBytes(32));
  const ctx: DeployContext = {
    store,
    driver: createFakeDriver({ state: fake, ...(options.images ? { images: options.images } : {}) }),
    dataplane,
    sealer,
    registry: new FakeRegistry(),
    secrets: new AppSecrets(store, sealer),
    clock: systemClock,
    log: silentLogger,
    settings: { baseDomain: 'localhost', http: address, buildTimeoutMs: 60_000, uploadsDir: join(dir, 'uploads') },
  };
  mkdirSync(ctx.settings.uploadsDir, { recursive: true });
  const routing = new Routing(ctx);
  const deployer = new Deployer(ctx, routing);
  const reconciler = new Reconciler(ctx, routing);
  const unwatch = watchInstances(ctx, routing);
  reconciler.start(50);
  let n = 0;
  return {
    ctx,
    routing,
    deployer,
    reconciler,
    fake,
    dir,
    port: address.port,
    source(manifest, behaviour = {}) {
      const source = join(ctx.settings.uploadsDir, `upl_${++n}`);
      mkdirSync(source);
      writeFileSync(join(source, 'berth.yaml'), manifest);
      writeFileSync(join(source, 'package.json'), JSON.stringify({ name: 'app', scripts: { start: 'node server.js' } }));
      writeFileSync(join(source, '.berth-fake.json'), JSON.stringify(behaviour));
      return { dir: source, manifest: parseManifest(manifest) };
    },
    async close() {
      await deployer.cancelAll('test over');
      await reconciler.stop();
      unwatch();
      for (const instance of store.instances.live()) await ctx.driver.stop(instance.id);
      await ctx.driver.close();
      await dataplane.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
