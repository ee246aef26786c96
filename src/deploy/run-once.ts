import { fail } from '../errors/catalogue.ts';
import { newId } from '../lib/ids.ts';
import type { BuildRecord, ReleaseRecord } from '../model/records.ts';
import type { OneOffResult, OneOffSpec } from '../runtime/driver.ts';
import { createMasker } from '../runtime/mask-secrets.ts';
import { requireApp } from './apps.ts';
import type { DeployContext } from './context.ts';
import { emit } from './emit.ts';
import { oneOffSpecFor } from './instance-spec.ts';
import { releaseVars, requireCurrentRelease } from './releases.ts';

const DEFAULT_TIMEOUT_S = 30 * 60;

/** A `berth run` that passed every check: what it runs, and in which release. */
export interface OneOffRun {
  readonly app: string;
  readonly command: string;
  readonly release: ReleaseRecord;
  readonly build: BuildRecord;
  readonly vars: Record<string, string>;
  readonly timeoutMs: number;
}

/** How a run ended: the command's exit, or why it could not run or was stopped (`error`, secrets masked). */
export type OneOffOutcome = OneOffResult | { exitCode: null; timedOut: false; error: string };

/**
 * The checks of `berth run <app> -- <command>`, apart from running it, so a caller can refuse before it
 * starts streaming: the app exists, it serves a release (APP_HAS_NO_RELEASE before its first deploy), the
 * command is more than spaces. The timeout defaults to 30 minutes.
 */
export function planRun(ctx: DeployContext, input: { app: string; command: string; timeoutSeconds?: number }): OneOffRun {
  const { app, command } = input;
  requireApp(ctx, app);
  const release = requireCurrentRelease(ctx, app);
  if (!command.trim()) throw fail('REQUEST_INVALID', { issues: [{ path: 'command', message: 'must be a command line, not only spaces', fix: '{"command": "node scripts/seed.js"}' }] });
  return {
    app,
    command,
    release,
    build: ctx.store.builds.get(release.buildId)!,
    vars: releaseVars(ctx, release),
    timeoutMs: (input.timeoutSeconds ?? DEFAULT_TIMEOUT_S) * 1000,
  };
}

/**
 * Runs the command once in a fresh instance of the release, with its env (a one-off container on the
 * docker runtime, on the app's network), passing each output line to `onLine`. Aborting `signal` stops
 * it: the caller's reader went away. The app's events record the start (the command, secrets masked)
 * and how it ended; a run that could not start or was stopped resolves with `error` saying why, as it
 * is an answer to give, not a failure of the caller.
 */
export async function runOneOff(ctx: DeployContext, run: OneOffRun, io: { signal: AbortSignal; onLine: OneOffSpec['onLine'] }): Promise<OneOffOutcome> {
  const where = { app: run.app, deploymentId: null };
  const id = newId('run');
  const spec = oneOffSpecFor({ id, release: run.release, build: run.build, command: run.command, vars: run.vars, timeoutMs: run.timeoutMs, signal: io.signal, onLine: io.onLine });
  // The audit trail names the command, with any secret in it masked.
  const mask = createMasker(spec.secrets);
  const masked = mask(run.command);
  emit(ctx, where, { type: 'run.started', message: `run: ${masked}`, data: { run: id, release: `v${run.release.version}` } });
  try {
    const result = await ctx.driver.runOnce(spec);
    emit(ctx, where, { type: 'run.finished', message: `run ${result.timedOut ? 'timed out' : `exited with code ${result.exitCode}`}: ${masked}`, data: { run: id, ...result } });
    return result;
  } catch (error) {
    // Stopped because the reader went away (Ctrl-C), or it could not run at all: the trail says which.
    const reason = io.signal.aborted ? 'the client went away' : mask((error as Error).message);
    const outcome = { exitCode: null, timedOut: false as const, error: reason };
    emit(ctx, where, { type: 'run.finished', message: `run stopped (${reason}): ${masked}`, data: { run: id, ...outcome } });
    return outcome;
  }
}
