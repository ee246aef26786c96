import { fail, isBerthError } from '../errors/catalogue.ts';
import { waitHealthy } from '../health/gate.ts';
import type { ProbeResult } from '../health/probe.ts';
import { formatHostPort } from '../lib/host-port.ts';
import { newId } from '../lib/ids.ts';
import { describeExit } from '../runtime/describe-exit.ts';
import type { Manifest, ServiceSpec } from '../manifest/schema.ts';
import type { AccessorySpec } from '../runtime/driver.ts';
import type { BuildRecord, DeploymentRecord, InstanceRecord, ReleaseRecord } from '../model/records.ts';
import type { DeployContext } from './context.ts';
import { checkDomains } from './domains.ts';
import { instanceProbe } from '../health/instance-probe.ts';
import { emit } from './emit.ts';
import { pullReporter } from './pull-events.ts';
import { instanceSpecFor, oneOffSpecFor } from './instance-spec.ts';
import { processLevels } from './levels.ts';
import { withFormation } from './formation.ts';
import { createRelease, releaseVars, requireCurrentRelease } from './releases.ts';
import { serviceImage } from './service-images.ts';
import type { Routing } from './route-publisher.ts';
import { httpsUrls, urlsFor } from './desired-routes.ts';
import type { DeploymentState } from '../model/states.ts';
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
    emit(run.ctx, where(run), { type: 'deploy.state', message: state, data: { state } });
  });
}

/**
 * build: the uploaded folder becomes an artifact, and a release is recorded for it. `beforeRecord` (the
 * `build` checks, ./checks.ts) runs on the artifact first and says what the release records of them.
 */
export async function buildStep(
  run: Run,
  source: { dir: string; manifest: Manifest; gitSha?: string },
  description: string,
  beforeRecord?: (build: BuildRecord) => Promise<ReleaseRecord['checks']>,
): Promise<ReleaseRecord> {
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
      ...(source.manifest.static ? { staticRoot: source.manifest.static } : {}),
      ...(source.manifest.dockerfile ? { dockerfile: source.manifest.dockerfile } : {}),
      ...(source.gitSha ? { gitSha: source.gitSha } : {}),
      signal: AbortSignal.any([run.signal, timeout]),
      log: (line) => {
        run.tail.push(line);
        emit(ctx, where(run), { type: 'build.log', message: line });
      },
    });
  } catch (error) {
    if (timeout.aborted && !run.signal.aborted) {
      throw fail('BUILD_FAILED', { reason: `it ran longer than ${Math.round(ctx.settings.buildTimeoutMs / 60_000)} minutes` });
    }
    throw error;
  }
  const artifact = result.artifact;
  ctx.store.builds.insert({ id: buildId, app: run.deployment.app, artifact, inferredCommand: result.inferredCommand ?? null, gitSha: source.gitSha ?? null, createdAt: ctx.clock.now() });
  run.undo.push('remove the build', async () => {
    await ctx.driver.removeArtifact(artifact);
    ctx.store.builds.markRemoved(buildId, ctx.clock.now());
  });
  const checks = await beforeRecord?.(ctx.store.builds.get(buildId)!);
  const release = createRelease(ctx, { app: run.deployment.app, deploymentId: run.deployment.id, buildId, manifest: source.manifest, description, ...(checks ? { checks } : {}) });
  run.undo.push('mark the release failed', () => ctx.store.releases.setStatus(release.id, 'failed'));
  return release;
}

/** An env change: the current release's build and manifest with the env as it is now. */
export function envReleaseStep(run: Run, description: string): ReleaseRecord {
  const { store } = run.ctx;
  const current = requireCurrentRelease(run.ctx, run.deployment.app);
  const release = createRelease(run.ctx, { app: current.app, deploymentId: run.deployment.id, buildId: current.buildId, manifest: current.manifest, description });
  run.undo.push('mark the release failed', () => store.releases.setStatus(release.id, 'failed'));
  return release;
}

/**
 * start + verify: processes start level by level (a process only after what it `depends_on` is ready);
 * each level is gated before the next starts, the last one in the `verifying` state. `warm` instances (a
 * rollback to a release kept in standby) are reused instead of starting their slot again. An instance
 * that exits while this runs fails the deployment at once.
 */
export async function startAndVerify(run: Run, release: ReleaseRecord, warm: InstanceRecord[] = []): Promise<InstanceRecord[]> {
  const { ctx } = run;
  const exits = new Map<string, string>();
  const unsubscribe = ctx.driver.subscribe((event) => {
    if (event.type === 'exited' || event.type === 'crashloop') exits.set(event.id, describeExit(event.exit));
  });
  const all: InstanceRecord[] = [];
  const levels = processLevels(release.manifest);
  try {
    for (const [i, level] of levels.entries()) {
      const started = await startLevel(run, release, level, warm, all);
      if (i === levels.length - 1) moveTo(run, 'verifying');
      await gate(run, release, started, { warm: started.every((instance) => warm.includes(instance)), exits });
    }
    return all;
  } catch (error) {
    await appendInstanceLogs(run, all.filter((i) => !warm.includes(i)));
    throw error;
  } finally {
    unsubscribe();
  }
}

/** Starts one level's instances; each is added to `all` as soon as it exists, so a failure report has it. */
async function startLevel(run: Run, release: ReleaseRecord, processes: string[], warm: InstanceRecord[], all: InstanceRecord[]): Promise<InstanceRecord[]> {
  const { ctx } = run;
  const manifest = withFormation(release.manifest, release.formation);
  const slots = processes.flatMap((process) => Array.from({ length: manifest.processes[process].replicas }, (_, ordinal) => ({ process, ordinal })));
  const reused = slots.map((slot) => warm.find((i) => i.process === slot.process && i.ordinal === slot.ordinal));
  const started: InstanceRecord[] = reused.filter((i): i is InstanceRecord => i !== undefined);
  all.push(...started);
  if (started.length === slots.length) return started;
  if (ctx.store.deployments.get(run.deployment.id)!.state !== 'starting') moveTo(run, 'starting');
  const inputs = startInputs(run, release);
  for (const [i, slot] of slots.entries()) {
    if (reused[i]) continue;
    const record = await startInstance(run, release, inputs, slot);
    started.push(record);
    all.push(record);
  }
  return started;
}

/** The build and env every instance of a release starts from; START_FAILED when the build is gone. */
export function startInputs(run: Run, release: ReleaseRecord): { build: BuildRecord; vars: Record<string, string> } {
  const build = run.ctx.store.builds.get(release.buildId);
  if (!build || build.removedAt !== null) throw fail('START_FAILED', { reason: `the build of v${release.version} is no longer on disk` });
  return { build, vars: releaseVars(run.ctx, release) };
}

/**
 * One instance of the release in its slot: recorded `starting`, its undo registered (on `run.undo`: a
 * strategy that routes instances before its end gives it an undo stack of its own), started, `instance.started`.
 */
export async function startInstance(run: Run, release: ReleaseRecord, inputs: { build: BuildRecord; vars: Record<string, string> }, slot: { process: string; ordinal: number }): Promise<InstanceRecord> {
  const { ctx } = run;
  const { process, ordinal } = slot;
  run.signal.throwIfAborted();
  const id = newId('ins');
  const instanceSpec = instanceSpecFor({ id, release, build: inputs.build, process, vars: inputs.vars });
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
    throw fail('START_FAILED', { reason: (error as Error).message }).because(error);
  }
  const address = info.address ? formatHostPort(info.address) : null;
  ctx.store.instances.setAddress(id, address, ctx.clock.now());
  emit(ctx, where(run), { type: 'instance.started', message: `${process}.${ordinal} started${address ? ` on ${address}` : ''}`, data: { instance: id, process, address } });
  return ctx.store.instances.get(id)!;
}

/**
 * The health gate for a set of instances started apart from `startAndVerify` (a rolling batch): exits
 * seen while it runs fail it at once; on failure their last lines go to the report.
 */
export async function gateInstances(run: Run, release: ReleaseRecord, instances: InstanceRecord[]): Promise<void> {
  const exits = new Map<string, string>();
  const unsubscribe = run.ctx.driver.subscribe((event) => {
    if (event.type === 'exited' || event.type === 'crashloop') exits.set(event.id, describeExit(event.exit));
  });
  try {
    await gate(run, release, instances, { warm: false, exits });
  } catch (error) {
    await appendInstanceLogs(run, instances);
    throw error;
  } finally {
    unsubscribe();
  }
}

/**
 * Readiness of each instance: web answers the health path over HTTP; another process passes its own
 * check (a fresh heartbeat file or a command), else accepts TCP on its port, else stays up a moment.
 */
async function gate(run: Run, release: ReleaseRecord, instances: InstanceRecord[], options: { warm: boolean; exits: Map<string, string> }): Promise<void> {
  const { ctx } = run;
  const health = release.manifest.health;
  for (const instance of instances) {
    const info = await ctx.driver.inspect(instance.id);
    if (info.state !== 'running') options.exits.set(instance.id, `is ${info.state}: ${describeExit(info.lastExit)}`);
  }
  await Promise.all(
    instances.map(async (instance) => {
      const label = `${instance.process}.${instance.ordinal}`;
      const gone = () => {
        const reason = options.exits.get(instance.id);
        return reason ? `${label} ${reason}` : undefined;
      };
      const report = (result: ProbeResult, consecutive: number, needed: number) =>
        emit(ctx, where(run), {
          type: 'health.probe',
          message: `${label} ${result.ok ? 'ok' : result.error} (${consecutive}/${needed})`,
          data: { instance: instance.id, ok: result.ok, status: result.status, error: result.error, consecutive },
        });
      const asked = instanceProbe(ctx, release, instance);
      if (instance.process === 'web' && !asked) throw fail('START_FAILED', { reason: `${label} has no address` });
      if (asked) {
        // web needs healthy_after successes in a row (1 for a warm instance); a check or a port, one.
        const needed = asked.kind === 'http' && !options.warm ? health.healthyAfter : 1;
        const intervalMs = asked.kind === 'http' ? (options.warm ? 200 : asked.intervalMs) : Math.min(asked.intervalMs, asked.kind === 'check' ? 1000 : 500);
        return waitHealthy({
          probe: asked.probe,
          clock: ctx.clock,
          intervalMs,
          healthyAfter: needed,
          deadlineMs: asked.kind === 'http' && options.warm ? Math.min(health.deadlineMs, 10_000) : health.deadlineMs,
          signal: run.signal,
          gone,
          onProbe: (result, consecutive) => report(result, consecutive, needed),
        });
      }
      // Nothing to ask: it must at least stay up for a moment.
      await ctx.clock.sleep(Math.min(2000, health.intervalMs * health.healthyAfter), run.signal);
      const reason = gone();
      if (reason) throw fail('START_FAILED', { reason });
    }),
  );
}

/** The services the release needs, up and healthy (created, or recreated when their spec changed). */
export async function servicesStep(run: Run, release: ReleaseRecord): Promise<void> {
  const services = Object.entries(release.manifest.services ?? {});
  if (services.length === 0) return;
  const { ctx } = run;
  const runtime = ctx.driver.services;
  if (!runtime) throw fail('RUNTIME_UNSUPPORTED', { feature: `services (${services.map(([n]) => n).join(', ')})`, runtime: `${ctx.driver.name} processes` });
  const waitMs = Math.max(release.manifest.health.deadlineMs, 30_000);
  const deadline = ctx.clock.now() + waitMs;
  // What the serving release runs: a failed deploy puts each service it changed back as that was.
  const current = ctx.store.apps.get(release.app)?.currentRelease;
  const serving = current && current !== release.id ? ctx.store.releases.get(current) : undefined;
  const before = serving?.manifest.services ?? {};
  for (const [name, spec] of services) {
    // Registered before ensure(), which replaces a changed service's container before it creates the new
    // one: a create that fails half-way is undone too. ensure() of an unchanged spec does nothing.
    const previous = before[name];
    if (previous) run.undo.push(`put service ${name} back as the serving release has it`, async () => void (await runtime.ensure(accessorySpec(release.app, name, previous, serviceImage(serving!, name)))));
    else run.undo.push(`remove service ${name}, new in this release`, () => runtime.remove(release.app, name));
    // A service's image missing on this machine is pulled first, its progress in the deployment's events.
    // A service that follows its tag runs the digest its release pinned (./service-images.ts).
    const { changed } = await runtime.ensure({ ...accessorySpec(release.app, name, spec, serviceImage(release, name)), onPull: pullReporter(ctx, where(run), spec.image) });
    emit(ctx, where(run), { type: 'service.ensured', message: `service ${name} ${changed ? 'started' : 'already running'}`, data: { service: name, changed } });
  }
  for (const [name, spec] of services) {
    for (;;) {
      run.signal.throwIfAborted();
      const state = await runtime.state(release.app, name);
      if (state === 'healthy' || (state === 'running' && !spec.health)) break;
      if (state === 'exited' || state === 'missing' || state === 'unhealthy') throw fail('SERVICE_FAILED', { service: name, reason: `it is ${state}` });
      if (ctx.clock.now() > deadline) throw fail('SERVICE_FAILED', { service: name, reason: `still ${state} after ${Math.round(waitMs / 1000)} s` });
      await ctx.clock.sleep(250, run.signal);
    }
    emit(ctx, where(run), { type: 'service.ready', message: `service ${name} is ready`, data: { service: name } });
  }
}

/** The release command (migrations and the like), once, in a one-off instance of the new release. */
export async function releaseCommandStep(run: Run, release: ReleaseRecord): Promise<void> {
  const command = release.manifest.release;
  if (!command) return;
  const { ctx } = run;
  const build = ctx.store.builds.get(release.buildId)!;
  const result = await ctx.driver.runOnce(
    oneOffSpecFor({
      id: newId('run'),
      release,
      build,
      command: command.command,
      vars: releaseVars(ctx, release),
      timeoutMs: command.timeoutMs,
      signal: run.signal,
      onLine: ({ line }) => {
        run.tail.push(line);
        emit(ctx, where(run), { type: 'release.log', message: line });
      },
    }),
  );
  if (result.timedOut) throw fail('RELEASE_FAILED', { command: command.command, reason: `it did not finish within ${Math.round(command.timeoutMs / 1000)} s and was stopped` });
  if (result.exitCode !== 0) throw fail('RELEASE_FAILED', { command: command.command, reason: `it exited with code ${result.exitCode}` });
  emit(ctx, where(run), { type: 'release.done', message: `\`${command.command}\` exited 0` });
}

/** services + release command, under one state: what must be true before any new instance starts. */
export async function prepareStep(run: Run, release: ReleaseRecord, runReleaseCommand: boolean): Promise<void> {
  const hasServices = Object.keys(release.manifest.services ?? {}).length > 0;
  if (!hasServices && !(runReleaseCommand && release.manifest.release)) return;
  moveTo(run, 'releasing');
  await servicesStep(run, release);
  if (runReleaseCommand) await releaseCommandStep(run, release);
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
    checkDomains(ctx, release.app, release.manifest);
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
    const urls = urlsFor(release.app, release.manifest, ctx.settings.baseDomain, ctx.settings.http, httpsUrls(ctx.settings.https, store.certificates.list(), now));
    emit(ctx, where(run), { type: 'deploy.switched', message: `v${release.version} is live at ${urls[0] ?? '(no web process)'}`, data: { release: release.id, version: release.version, urls } });
    emit(ctx, where(run), { type: 'deploy.state', message: 'draining', data: { state: 'draining' } });
  });
  try {
    await run.routing.publish();
  } catch (error) {
    // The store is the truth: the proxy watchdog republishes once the proxy answers again.
    ctx.log.error('proxy did not take the new routes yet', { app: release.app, error: error as Error });
  }
}

function accessorySpec(app: string, name: string, spec: ServiceSpec, image: string): AccessorySpec {
  return {
    app,
    name,
    image,
    ...(spec.command ? { command: spec.command } : {}),
    env: { ...spec.env },
    volumes: { ...spec.volumes },
    ...(spec.health ? { health: { ...spec.health } } : {}),
  };
}
