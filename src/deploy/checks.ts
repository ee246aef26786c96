/**
 * The check pipeline (berth.yaml `checks:`): named commands run as one-off runs of the new build with the
 * app's environment, in order, fail-fast. `build` checks run after the build and before the release is
 * recorded (so before the policy gate, services, the release command or any instance); `switch` checks run
 * once the new instances are healthy and before traffic moves to them, with their addresses. Only a
 * `deploy` runs checks: a rollback, an env change, a scale or an auto-update reuse a build that passed them
 * (a rollback's policy facts read the list its release recorded). Each check's output streams as
 * `check.log` events (masked by the runtime and again by emit), its result and duration as
 * `check.passed`/`check.failed`; a failure fails the deployment with CHECK_FAILED naming the check.
 */
import { fail, isBerthError } from '../errors/catalogue.ts';
import { newId } from '../lib/ids.ts';
import type { Manifest } from '../manifest/schema.ts';
import type { CheckSpec } from '../manifest/sections/checks.ts';
import type { BuildRecord, InstanceRecord, ReleaseRecord } from '../model/records.ts';
import type { DeployOptions } from './deploy-options.ts';
import { emit } from './emit.ts';
import { oneOffSpecFor } from './instance-spec.ts';
import { currentVars, releaseVars } from './releases.ts';
import { moveTo, startInputs, type Run } from './steps.ts';

export type CheckWhen = CheckSpec['when'];
/** What a release records of its checks (ReleaseRecord['checks']). */
export type ChecksRecord = NonNullable<ReleaseRecord['checks']>;

/**
 * The most `check.log` events one check writes: a test suite printing without end must not fill the event
 * log (every line still reaches the failure report's tail); one line at the end says how many were left out.
 */
export const MAX_LOG_EVENTS_PER_CHECK = 5000;

const NONE: ChecksRecord = { passed: [], skipped: false };
const where = (run: Run) => ({ app: run.deployment.app, deploymentId: run.deployment.id });

/** The checks of one moment, in berth.yaml's order. */
export const checksOf = (manifest: Manifest, when: CheckWhen): CheckSpec[] => (manifest.checks ?? []).filter((check) => check.when === when);

/**
 * The `build` checks of a deploy's new build, before its release is recorded: what the release then
 * records (the names it passed, or that they were skipped). With `--skip-checks` none runs, and one
 * `checks.skipped` event lists every check berth.yaml has (the audit report shows it); an app without
 * checks writes nothing.
 */
export async function runBuildChecks(run: Run, input: { manifest: Manifest; build: BuildRecord; options?: DeployOptions }): Promise<ChecksRecord> {
  const all = input.manifest.checks ?? [];
  if (run.deployment.kind !== 'deploy' || all.length === 0) return NONE;
  if (input.options?.skipChecks) {
    const names = all.map((check) => check.name);
    emit(run.ctx, where(run), { type: 'checks.skipped', message: `checks skipped (--skip-checks): ${names.join(', ')}`, data: { checks: names } });
    return { passed: [], skipped: true };
  }
  const checks = checksOf(input.manifest, 'build');
  if (checks.length === 0) return NONE;
  moveTo(run, 'checking');
  // The env the release is about to seal (createRelease takes the same vars right after).
  const release = { app: run.deployment.app, manifest: input.manifest, version: null };
  const passed = await runInOrder(run, checks, { release, build: input.build, vars: currentVars(run.ctx, run.deployment.app), env: {} });
  return { passed, skipped: false };
}

/**
 * The `switch` checks of a deploy, once its new instances are healthy and before any traffic moves to
 * them; the deployment is `checking` meanwhile. Each gets BERTH_TARGET_URL (`http://` + the first new web
 * instance's address) and BERTH_TARGET_ADDRESSES (every new web instance's `host:port`, comma-separated;
 * container addresses on the app's network under Docker, where the check runs too). Returns every check the
 * release passed, the `build` ones first, and records them on the release. Nothing runs for a deployment
 * that is not a `deploy`, or whose checks were skipped: the blue-green runbook calls this before its
 * switch, and the rolling and canary strategies before their first traffic move.
 */
export async function runSwitchChecks(run: Run, release: ReleaseRecord, instances: readonly InstanceRecord[]): Promise<readonly string[]> {
  const before = release.checks ?? NONE;
  const checks = checksOf(release.manifest, 'switch');
  if (run.deployment.kind !== 'deploy' || before.skipped || checks.length === 0) return before.passed;
  const { build, vars } = startInputs(run, release);
  moveTo(run, 'checking');
  const passed = [...before.passed, ...(await runInOrder(run, checks, { release, build, vars, env: targetEnv(instances) }))];
  run.ctx.store.releases.setChecksPassed(release.id, passed);
  return passed;
}

/** BERTH_TARGET_URL and BERTH_TARGET_ADDRESSES from the new web instances (none without a web process). */
export function targetEnv(instances: readonly Pick<InstanceRecord, 'process' | 'address'>[]): Record<string, string> {
  const addresses = instances.filter((i) => i.process === 'web' && i.address).map((i) => i.address!);
  if (addresses.length === 0) return {};
  return { BERTH_TARGET_URL: `http://${addresses[0]}`, BERTH_TARGET_ADDRESSES: addresses.join(',') };
}

interface Subject {
  release: Parameters<typeof oneOffSpecFor>[0]['release'];
  build: BuildRecord;
  vars: Record<string, string>;
  /** Set on top of the release's env (the switch checks' targets). */
  env: Record<string, string>;
}

async function runInOrder(run: Run, checks: readonly CheckSpec[], subject: Subject): Promise<string[]> {
  const passed: string[] = [];
  for (const check of checks) {
    run.signal.throwIfAborted();
    await runCheck(run, check, subject);
    passed.push(check.name);
  }
  return passed;
}

/** One check as a one-off run: its events, and CHECK_FAILED when it exits non-zero, times out or cannot run. */
async function runCheck(run: Run, check: CheckSpec, subject: Subject): Promise<void> {
  const { ctx } = run;
  const at = where(run);
  const name = check.name;
  emit(ctx, at, { type: 'check.started', message: `check ${name}: \`${check.run}\``, data: { check: name, when: check.when, command: check.run } });
  let logged = 0;
  const startedAt = ctx.clock.now();
  const spec = oneOffSpecFor({
    id: newId('run'),
    release: subject.release,
    build: subject.build,
    command: check.run,
    vars: subject.vars,
    timeoutMs: check.timeoutMs,
    signal: run.signal,
    onLine: ({ stream, line }) => {
      run.tail.push(line);
      if (++logged <= MAX_LOG_EVENTS_PER_CHECK) emit(ctx, at, { type: 'check.log', message: line, data: { check: name, stream } });
    },
  });
  const failed = (exitCode: number | null, reason: string, timedOut: boolean) => {
    emit(ctx, at, { type: 'check.failed', message: `check ${name} failed: ${reason}`, data: { check: name, when: check.when, durationMs: ctx.clock.now() - startedAt, exitCode, reason } });
    return fail('CHECK_FAILED', { check: name, command: check.run, reason, when: check.when, timedOut });
  };
  // Once the run is over, before its result: how many lines the events left out.
  const leftOut = () => {
    if (logged > MAX_LOG_EVENTS_PER_CHECK) emit(ctx, at, { type: 'check.log', message: `(${logged - MAX_LOG_EVENTS_PER_CHECK} more lines of ${name} left out of the events)`, data: { check: name, stream: 'stdout' } });
  };
  let result;
  try {
    result = await ctx.driver.runOnce({ ...spec, env: { ...spec.env, ...subject.env } });
  } catch (error) {
    leftOut();
    if (run.signal.aborted) throw error;
    const failure = failed(null, `it could not run: ${(error as Error).message}`, false);
    throw isBerthError(error) ? error : failure.because(error);
  }
  leftOut();
  if (result.timedOut) throw failed(null, `it did not finish within ${formatSeconds(check.timeoutMs)} and was stopped`, true);
  if (result.exitCode !== 0) throw failed(result.exitCode, `exited with code ${result.exitCode}`, false);
  const durationMs = ctx.clock.now() - startedAt;
  emit(ctx, at, { type: 'check.passed', message: `check ${name} passed in ${formatSeconds(durationMs)}`, data: { check: name, when: check.when, durationMs, exitCode: 0 } });
}

/** `1.2 s`, `45 s`: durations as a deploy's output shows them. */
function formatSeconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}
