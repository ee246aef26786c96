import { rmSync } from 'node:fs';
import { isBerthError } from '../errors/catalogue.ts';
import type { Manifest } from '../manifest/schema.ts';
import type { Masker } from '../runtime/mask-secrets.ts';
import type { BuildRecord, DeploymentError, DeploymentRecord, ReleaseRecord } from '../model/records.ts';
import { emit } from './emit.ts';
import { buildStep, envReleaseStep, prepareStep, startAndVerify, switchStep, type Run } from './steps.ts';
import { prune } from './prune.ts';
import { Tail, UndoStack } from './undo.ts';
import { imageStep, updateStep } from './image-step.ts';
import { policyStep } from './policy-step.ts';
import type { DeployOptions } from './deploy-options.ts';
import { runBuildChecks, runSwitchChecks } from './checks.ts';
import { rollingStep } from './rolling.ts';
import { deploymentStrategy } from './strategy.ts';
import { canaryStep } from './canary/canary.ts';

/** Services the now-current release no longer lists stop (their volumes stay, as data should). */
async function retireServices(ctx: Run['ctx'], release: ReleaseRecord): Promise<void> {
  const runtime = ctx.driver.services;
  if (!runtime) return;
  const wanted = new Set(Object.keys(release.manifest.services ?? {}));
  for (const service of await runtime.list(release.app)) {
    if (!wanted.has(service.name)) await runtime.remove(release.app, service.name);
  }
}

/** What a deploy starts from: an unpacked upload and its manifest, or a manifest alone whose `image:` says what runs. */
export interface DeploySource {
  manifest: Manifest;
  dir?: string;
  gitSha?: string;
}

function folderOf(source: DeploySource): { dir: string; manifest: Manifest; gitSha?: string } {
  if (source.dir === undefined) throw new Error('a deploy without `image:` needs the uploaded folder');
  return { dir: source.dir, manifest: source.manifest, ...(source.gitSha ? { gitSha: source.gitSha } : {}) };
}

/** An auto-update (kind `update`, ./image-updater.ts): which image of the serving release moves to which digest. */
export interface UpdateOrder {
  /** The service whose image it is; null for the app's own `image`. */
  service: string | null;
  /** The new digest, pinned (`ghcr.io/acme/web@sha256:...`): pulled as it is, the tag is not asked again. */
  pinned: string;
}

export interface JobInput {
  /** deploy: the validated manifest, and the unpacked upload (none for an image deployed by reference). */
  source?: DeploySource;
  /** update: the image and digest the updater found. */
  update?: UpdateOrder;
  /** rollback: the release to go back to. */
  target?: ReleaseRecord;
  description: string;
  /** `berth deploy --strategy`, `--skip-checks` (./deploy-options.ts). */
  options?: DeployOptions;
}

/**
 * A deployment, as a runbook:
 *   receive (done by the API) -> build -> build checks -> services + release command -> start -> verify
 *   (health gate) -> switch checks -> switch -> drain (the reconciler)
 * Each step undoes only its own work when a later one fails; the release serving before keeps serving
 * throughout, and the deployment ends failed with the reason and the last lines of output.
 */
export async function runDeployment(run: Omit<Run, 'undo' | 'tail'>, input: JobInput): Promise<void> {
  const full: Run = { ...run, undo: new UndoStack(), tail: new Tail() };
  const { ctx, deployment } = full;
  const log = ctx.log.child({ app: deployment.app, deployment: deployment.id });
  try {
    let release: ReleaseRecord;
    // An image app pulls its image by digest instead of building (./image-step.ts).
    // A deploy's `build` checks run on the new build before its release is recorded (./checks.ts).
    const checks = (build: BuildRecord) => runBuildChecks(full, { manifest: input.source!.manifest, build, ...(input.options ? { options: input.options } : {}) });
    if (deployment.kind === 'deploy') release = input.source!.manifest.image ? await imageStep(full, input.source!.manifest, input.description, undefined, checks) : await buildStep(full, folderOf(input.source!), input.description, checks);
    // An env change or a scale: the current build and manifest, with today's env and formation.
    else if (deployment.kind === 'env' || deployment.kind === 'scale') release = envReleaseStep(full, input.description);
    // An auto-update: the serving release again, one image on the digest the updater found.
    else if (deployment.kind === 'update') release = await updateStep(full, input.update!, input.description);
    else release = input.target!;

    // The policy gates, with the release's facts, before anything that serves changes (./policy-step.ts).
    await policyStep(full, release);
    // Services up and the release command run before any new instance starts (migrations first).
    await prepareStep(full, release, deployment.kind === 'deploy' || deployment.kind === 'env' || deployment.kind === 'update');
    // A rollback to a release kept warm reuses its running instances: the switch is then immediate.
    const warm = deployment.kind === 'rollback' ? ctx.store.instances.byRelease(release.id).filter((i) => i.state === 'standby' || i.state === 'draining') : [];
    // How traffic moves: chosen once here (./strategy.ts).
    const strategy = deploymentStrategy(ctx, deployment, release, input.options, warm);
    if (strategy === 'rolling') {
      // Batch by batch, the switch checks before the final switch; a failure rolls back (./rolling.ts).
      await rollingStep(full, release, { beforeSwitch: (instances) => runSwitchChecks(full, release, instances) });
    } else {
      const instances = await startAndVerify(full, release, warm);
      // A deploy's `switch` checks, against the new instances, before traffic moves to them.
      await runSwitchChecks(full, release, instances);
      // canary: a growing share of traffic, judged step by step, then the same switch (./canary/canary.ts).
      // A rollback is the way back: never judged as a canary.
      if (strategy === 'canary' && deployment.kind !== 'rollback') await canaryStep(full, release, instances);
      else await switchStep(full, release, instances);
    }
    await retireServices(ctx, release).catch((error) => log.error('removing services the release no longer has failed', { error: error as Error }));
    log.info('switched', { release: `v${release.version}` });
    await prune(ctx, deployment.app).catch((error) => log.error('pruning old releases failed', { error: error as Error }));
  } catch (error) {
    await full.undo.run(log);
    const interrupted = run.signal.aborted;
    // Error messages can echo a secret (a driver or engine error quoting the env, an app's own error in
    // the output tail): the report is masked before it is stored, shown or logged.
    const mask = ctx.secrets.masker({ app: deployment.app, deploymentId: deployment.id });
    const report = maskReport(
      isBerthError(error)
        ? { code: error.code, message: error.message, hint: withSavedChange(deployment, error.hint), logTail: full.tail.lines() }
        : interrupted
          ? { code: 'DEPLOY_INTERRUPTED', message: String((run.signal.reason as Error)?.message ?? 'interrupted'), logTail: full.tail.lines() }
          : { code: 'INTERNAL', message: `internal error: ${(error as Error).message}`, hint: 'this is a bug in berth; the server log has details', logTail: full.tail.lines() },
      mask,
    );
    if (!isBerthError(error) && !interrupted) log.error('deployment crashed', { error: report.message, stack: mask(String((error as Error).stack)) });
    const state = interrupted ? 'interrupted' : 'failed';
    ctx.store.transaction(() => {
      ctx.store.deployments.move(deployment.id, state, ctx.clock.now(), { error: report });
      emit(ctx, { app: deployment.app, deploymentId: deployment.id }, { type: `deploy.${state}`, message: report.message, data: { ...report } });
    });
    log.warn(`deployment ${state}`, { code: report.code });
  } finally {
    if (input.source?.dir) rmSync(input.source.dir, { recursive: true, force: true });
  }
}

function maskReport(report: DeploymentError, mask: Masker): DeploymentError {
  return {
    code: report.code,
    message: mask(report.message),
    ...(report.hint !== undefined ? { hint: mask(report.hint) } : {}),
    logTail: report.logTail.map(mask),
  };
}

/**
 * An env change or a scale is saved before its rollout (it is what the app should run with, as in every
 * platform berth is compared with); when the rollout fails, the hint says so and how to take it back.
 */
function withSavedChange(deployment: DeploymentRecord, hint: string | undefined): string | undefined {
  const app = deployment.app;
  const saved =
    deployment.kind === 'env'
      ? `the env change stays saved, so the next deploy runs with it too: \`berth env list ${app}\` shows what the serving release lacks; set it back or \`berth env unset ${app} NAME\``
      : deployment.kind === 'scale'
        ? `the new replica count stays saved for later deploys: scale back, or \`berth scale ${app} --reset\` for berth.yaml's numbers`
        : undefined;
  return [hint, saved].filter(Boolean).join('; ') || undefined;
}
