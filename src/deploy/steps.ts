import { fail, isBerthError } from '../errors/catalogue.ts';
import { waitHealthy } from '../health/gate.ts';
import { probeHttp } from '../health/probe.ts';
import { parseHostPort } from '../lib/host-port.ts';
import { newId } from '../lib/ids.ts';
import { describeExit } from '../runtime/describe-exit.ts';
import type { Manifest } from '../manifest/schema.ts';
import type { DeploymentRecord, InstanceRecord, ReleaseRecord } from '../store/records.ts';
import type { DeployContext } from './context.ts';
import { emit } from './emit.ts';
import { instanceSpecFor } from './instance-spec.ts';
import { createRelease, releaseVars } from './releases.ts';
import type { Routing } from './routing.ts';
import { urlsFor } from './routes.ts';
import type { DeploymentState } from './states.ts';
import type { Tail, UndoStack } from './undo.ts';

/** What every step of one deployment shares. */
export interface Run {
  ctx: DeployContext;
  routing: Routing;
  deployment: DeploymentRecord;
  signal: AbortSignal;
  undo: UndoStack;
  tail: Tail;
}

const where = (run: Run) => ({ app: run.deployment.app, deploymentId: run.deployment.id });

export function moveTo(run: Run, state: DeploymentState): void {
  const { store, clock } = run.ctx;
  store.transaction(() => {
    store.deployments.move(run.deployment.id, state, clock.now());
    emit(run.ctx, where(run), 'deploy.state', state, { state });
  });
}

/** build: the uploaded folder becomes an artifact, and a release is recorded for it. */
export async function buildStep(run: Run, source: { dir: string; manifest: Manifest }, description: string): Promise<ReleaseRecord> {
  moveTo(run, 'building');
  const { ctx } = run;
  const buildId = newId('bld');
  const timeout = AbortSignal.timeout(ctx.settings.buildTimeoutMs);
  let result;
  try {
    result = await ctx.driver.build({
      app: run.deployment.app,
      buildId,
      sourceDir: source.dir,
      command: source.manifest.build,
      signal: AbortSignal.any([run.signal, timeout]),
      log: (line) => {
        run.tail.push(line);
        emit(ctx, where(run), 'build.log', line);
      },
    });
  } catch (error) {
    if (timeout.aborted && !run.signal.aborted) {
      throw fail('BUILD_FAILED', { reason: `it ran longer than ${Math.round(ctx.settings.buildTimeoutMs / 60_000)} minutes` });
    }
    throw error;
  }
  const artifact = result.artifact;
  ctx.store.builds.insert({ id: buildId, app: run.deployment.app, artifact, inferredCommand: result.inferredCommand ?? null, createdAt: ctx.clock.now() });
  run.undo.push('remove the build', async () => {
    await ctx.driver.removeArtifact(artifact);
    ctx.store.builds.markRemoved(buildId, ctx.clock.now());
  });
  const release = createRelease(ctx, { app: run.deployment.app, deploymentId: run.deployment.id, buildId, manifest: source.manifest, description });
  run.undo.push('mark the release failed', () => ctx.store.releases.setStatus(release.id, 'failed'));
  return release;
}

/** An env change: the current release's build and manifest with the env as it is now. */
export function envReleaseStep(run: Run, description: string): ReleaseRecord {
  const { store } = run.ctx;
  const app = store.apps.get(run.deployment.app);
  const current = app?.currentRelease ? store.releases.get(app.currentRelease) : undefined;
  if (!current) throw fail('APP_HAS_NO_RELEASE', { app: run.deployment.app });
  const release = createRelease(run.ctx, { app: current.app, deploymentId: run.deployment.id, buildId: current.buildId, manifest: current.manifest, description });
  run.undo.push('mark the release failed', () => store.releases.setStatus(release.id, 'failed'));
  return release;
}

/**
 * start: every process of the release, replicas included, each recorded before it is spawned. `warm`
 * instances (a rollback to a release kept in standby) are reused instead of starting their slot again.
 */
export async function startStep(run: Run, release: ReleaseRecord, warm: InstanceRecord[] = []): Promise<InstanceRecord[]> {
  const { ctx } = run;
  const slots = Object.entries(release.manifest.processes).flatMap(([process, spec]) => Array.from({ length: spec.replicas }, (_, ordinal) => ({ process, ordinal })));
  const reused = slots.map((slot) => warm.find((i) => i.process === slot.process && i.ordinal === slot.ordinal));
  if (reused.every(Boolean)) return reused as InstanceRecord[];
  moveTo(run, 'starting');
  const build = ctx.store.builds.get(release.buildId);
  if (!build || build.removedAt !== null) throw fail('START_FAILED', { reason: `the build of v${release.version} is no longer on disk` });
  const vars = releaseVars(ctx, release);
  const started: InstanceRecord[] = reused.filter((i): i is InstanceRecord => i !== undefined);
  for (const [i, { process, ordinal }] of slots.entries()) {
    if (reused[i]) continue;
    run.signal.throwIfAborted();
    const id = newId('ins');
    const instanceSpec = instanceSpecFor({ id, release, build, process, vars });
    ctx.store.instances.insert({ id, app: release.app, releaseId: release.id, deploymentId: run.deployment.id, process, ordinal }, ctx.clock.now());
    run.undo.push(`stop ${id}`, async () => {
      await ctx.driver.stop(id);
      const now = ctx.store.instances.get(id);
      if (now && now.state === 'starting') ctx.store.instances.move(id, 'failed', ctx.clock.now());
    });
    let info;
    try {
      info = await ctx.driver.start(instanceSpec);
    } catch (error) {
      if (isBerthError(error)) throw error;
      throw fail('START_FAILED', { reason: (error as Error).message });
    }
    const address = info.address ? `${info.address.host}:${info.address.port}` : null;
    ctx.store.instances.setAddress(id, address, ctx.clock.now());
    emit(ctx, where(run), 'instance.started', `${process}.${ordinal} started${address ? ` on ${address}` : ''}`, { instance: id, process, address });
    started.push(ctx.store.instances.get(id)!);
  }
  return started;
}

/** verify: web instances must pass the health gate; workers must stay up past a short settle time. */
export async function verifyStep(run: Run, release: ReleaseRecord, instances: InstanceRecord[], options: { warm: boolean }): Promise<void> {
  moveTo(run, 'verifying');
  const { ctx } = run;
  const health = release.manifest.health;
  const ids = new Set(instances.map((i) => i.id));
  const exits = new Map<string, string>();
  const unsubscribe = ctx.driver.subscribe((event) => {
    if (ids.has(event.id) && (event.type === 'exited' || event.type === 'crashloop')) exits.set(event.id, describeExit(event.exit));
  });
  try {
    for (const instance of instances) {
      const info = await ctx.driver.inspect(instance.id);
      if (info.state !== 'running' && info.state !== 'restarting') exits.set(instance.id, `is ${info.state}: ${describeExit(info.lastExit)}`);
      else if (info.state === 'restarting') exits.set(instance.id, describeExit(info.lastExit));
    }
    const gone = (id: string, label: string) => () => {
      const reason = exits.get(id);
      return reason ? `${label} ${reason}` : undefined;
    };
    await Promise.all(
      instances.map(async (instance) => {
        const label = `${instance.process}.${instance.ordinal}`;
        if (instance.process !== 'web') {
          const settle = Math.min(2000, health.intervalMs * health.healthyAfter);
          await ctx.clock.sleep(settle, run.signal);
          const reason = gone(instance.id, label)();
          if (reason) throw fail('START_FAILED', { reason });
          return;
        }
        const address = instance.address ? parseHostPort(instance.address) : undefined;
        if (!address) throw fail('START_FAILED', { reason: `${label} has no address` });
        await waitHealthy({
          probe: () =>
            probeHttp({ host: address.host, port: address.port, path: health.path, hostname: `${release.app}.${ctx.settings.baseDomain}`, timeoutMs: health.timeoutMs }),
          clock: ctx.clock,
          intervalMs: options.warm ? 200 : health.intervalMs,
          healthyAfter: options.warm ? 1 : health.healthyAfter,
          deadlineMs: options.warm ? Math.min(health.deadlineMs, 10_000) : health.deadlineMs,
          signal: run.signal,
          gone: gone(instance.id, label),
          onProbe: (result, consecutive) =>
            emit(ctx, where(run), 'health.probe', `${label} ${result.ok ? 'ok' : result.error} (${consecutive}/${options.warm ? 1 : health.healthyAfter})`, {
              instance: instance.id,
              ok: result.ok,
              status: result.status,
              error: result.error,
              consecutive,
            }),
        });
      }),
    );
  } catch (error) {
    await appendInstanceLogs(run, instances);
    throw error;
  } finally {
    unsubscribe();
  }
}

/** The last lines the new instances wrote, for the failure report. */
async function appendInstanceLogs(run: Run, instances: InstanceRecord[]): Promise<void> {
  for (const instance of instances) {
    try {
      for await (const line of run.ctx.driver.logs(instance.id, { tail: 15 })) run.tail.push(`${instance.process}.${instance.ordinal}: ${line.line}`);
    } catch {}
  }
}

/**
 * switch: one transaction makes the new release current, its instances serving and the old ones
 * draining; then the proxy gets the new table. From here on the deploy counts as done for traffic.
 */
export async function switchStep(run: Run, release: ReleaseRecord, instances: InstanceRecord[]): Promise<void> {
  moveTo(run, 'switching');
  const { ctx } = run;
  const { store, clock } = ctx;
  const fresh = new Set(instances.map((i) => i.id));
  store.transaction(() => {
    const now = clock.now();
    const previous = store.apps.get(release.app)?.currentRelease ?? null;
    for (const instance of store.instances.live(release.app)) {
      if (fresh.has(instance.id)) {
        store.instances.move(instance.id, 'serving', now);
      } else if (instance.state === 'serving') {
        const drainMs = store.releases.get(instance.releaseId)?.manifest.deploy.drainTimeoutMs ?? 30_000;
        store.instances.move(instance.id, 'draining', now, { stateUntil: now + drainMs });
      }
    }
    store.apps.setCurrentRelease(release.app, release.id);
    store.releases.setStatus(release.id, 'ready');
    store.deployments.setReleases(run.deployment.id, release.id, previous === release.id ? null : previous, now);
    store.deployments.move(run.deployment.id, 'draining', now);
    const urls = urlsFor(release.app, release.manifest, ctx.settings.baseDomain, ctx.settings.http);
    emit(ctx, where(run), 'deploy.switched', `v${release.version} is live at ${urls[0] ?? '(no web process)'}`, { release: release.id, version: release.version, urls });
    emit(ctx, where(run), 'deploy.state', 'draining', { state: 'draining' });
  });
  try {
    await run.routing.publish();
  } catch (error) {
    // The store is the truth: the proxy watchdog republishes once the proxy answers again.
    ctx.log.error('proxy did not take the new routes yet', { app: release.app, error: error as Error });
  }
}
