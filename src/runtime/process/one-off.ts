/**
 * One-off commands and health checks of the process runtime. A one-off runs like a build step (its own
 * process group, tagged BERTH_BUILD=<run id> so a daemon restart kills a leftover) in the release's
 * directory with the release's environment, as the app's user when there is one (and so does a check
 * command); the timeout kills the whole group.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { HealthCheck, HealthResult, InstanceSpec, OneOffResult, OneOffSpec } from '../driver.ts';
import { createMasker } from '../mask-secrets.ts';
import type { AppUser } from './app-users.ts';
import { asUser } from './owned-tree.ts';
import { signalGroup } from '../../lib/proc.ts';
import { runStep } from './run-step.ts';
import { instanceEnvironment } from './spawn-instance.ts';

export async function runOneOff(options: { spec: OneOffSpec; ownerId: string; binPath: string[]; user?: AppUser | null }): Promise<OneOffResult> {
  const { spec, ownerId, binPath, user } = options;
  const mask = createMasker(spec.secrets);
  const timeout = AbortSignal.timeout(spec.timeoutMs);
  const env = {
    ...instanceEnvironment({ spec: { ...spec, process: 'one-off' }, port: null, ownerId, binPath, daemonEnv: process.env, user }),
    BERTH_BUILD: spec.id,
  };
  try {
    const exit = await runStep({
      command: spec.command,
      cwd: spec.artifact,
      env,
      ownerId,
      buildId: spec.id,
      signal: AbortSignal.any([spec.signal, timeout]),
      user,
      onLine: (line, stream) => spec.onLine({ stream, line: mask(line) }),
    });
    return { exitCode: exit.code, timedOut: false };
  } catch (error) {
    if (timeout.aborted && !spec.signal.aborted) return { exitCode: null, timedOut: true };
    throw error;
  }
}

/** A heartbeat is fresh enough, or the check command exits 0 within its time. */
export async function checkInstanceHealth(options: { spec: InstanceSpec; port: number | null; ownerId: string; binPath: string[]; user?: AppUser | null }, check: HealthCheck, now: number): Promise<HealthResult> {
  const { spec } = options;
  if (check.heartbeat) {
    const file = isAbsolute(check.heartbeat.file) ? check.heartbeat.file : join(spec.artifact, check.heartbeat.file);
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat) return { ok: false, detail: `heartbeat ${check.heartbeat.file} does not exist yet` };
    const age = now - stat.mtimeMs;
    return age <= check.heartbeat.maxAgeMs
      ? { ok: true, detail: `heartbeat ${Math.round(age)} ms old` }
      : { ok: false, detail: `heartbeat is ${Math.round(age / 1000)} s old (limit ${Math.round(check.heartbeat.maxAgeMs / 1000)} s)` };
  }
  // The check runs as the instance does: its env, berth's Node and the app's node_modules/.bin on PATH.
  if (check.command) return runCheckCommand(spec.artifact, instanceEnvironment({ ...options, daemonEnv: process.env }), check.command, check.timeoutMs, options.user);
  return { ok: false, detail: 'no heartbeat or command to check' };
}

function runCheckCommand(cwd: string, env: Record<string, string>, command: string, timeoutMs: number, user?: AppUser | null): Promise<HealthResult> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { cwd, env, detached: true, stdio: 'ignore', ...asUser(user) });
    const timer = setTimeout(() => {
      if (child.pid) signalGroup(child.pid, 'SIGKILL');
      resolve({ ok: false, detail: `\`${command}\` did not finish within ${timeoutMs} ms` });
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: `\`${command}\` could not run: ${error.message}` });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? { ok: true, detail: `\`${command}\` exited 0` } : { ok: false, detail: `\`${command}\` exited with code ${code}` });
    });
  });
}
