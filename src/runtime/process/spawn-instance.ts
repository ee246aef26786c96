/**
 * Starts one instance process so that it outlives the daemon: its own session (detached), output going
 * straight to files opened O_APPEND (a pipe would break, and block the app, once the daemon is gone),
 * and everything berth needs to find it again in its environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fchownSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail } from '../../errors/catalogue.ts';
import type { InstanceSpec } from '../driver.ts';
import { commandArgv } from '../command.ts';
import { berthVariables } from '../instance-env.ts';
import { userVariables, type AppUser } from './app-users.ts';
import type { LogFiles } from './layout.ts';
import { asUser, type Identity } from './owned-tree.ts';
import { ownedGroups } from './owned.ts';
import { readStat, signalGroup } from '../../lib/proc.ts';

/** The environment of an instance, and of what runs next to it (a one-off run, a check command). */
export function instanceEnvironment(options: {
  spec: Pick<InstanceSpec, 'id' | 'app' | 'release' | 'process' | 'artifact' | 'env'>;
  port: number | null;
  ownerId: string;
  binPath: string[];
  daemonEnv: NodeJS.ProcessEnv;
  /** The app's user: its HOME replaces the daemon's, which it could not use. */
  user?: AppUser | null;
}): Record<string, string> {
  const { spec, port, ownerId, binPath, daemonEnv, user } = options;
  const path = [...binPath, join(spec.artifact, 'node_modules', '.bin'), daemonEnv.PATH ?? ''].filter(Boolean).join(':');
  return {
    PATH: path,
    ...(user ? userVariables(user) : daemonEnv.HOME ? { HOME: daemonEnv.HOME } : {}),
    // Apps that honour HOST listen on loopback only: the proxy is their way in.
    HOST: '127.0.0.1',
    ...spec.env,
    ...(port !== null ? { PORT: String(port) } : {}),
    ...berthVariables(spec),
    BERTH_OWNER: ownerId,
  };
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  startTime: number | null;
}

/**
 * Resolves once the process runs. `onExit` is attached before anything can await, so even an instant
 * exit is seen. Throws START_FAILED when the command cannot be executed at all.
 */
export async function spawnInstance(options: {
  spec: InstanceSpec;
  env: Record<string, string>;
  files: LogFiles;
  user?: Identity | null;
  onExit: (child: ChildProcess, exit: { code: number | null; signal: string | null }) => void;
}): Promise<Spawned> {
  const { spec, files } = options;
  mkdirSync(dirname(files.stdout), { recursive: true });
  const out = openSync(files.stdout, 'a', 0o600);
  const err = openSync(files.stderr, 'a', 0o600);
  let child: ChildProcess;
  try {
    // The app's user may reopen its own output (/dev/stdout is /proc/self/fd/1, checked against the file's
    // owner); the folder around the files stays root's, so no other app reaches them.
    if (options.user) for (const fd of [out, err]) fchownSync(fd, options.user.uid, options.user.gid);
    const [file, ...args] = commandArgv(spec.command);
    child = spawn(file, args, { cwd: spec.artifact, env: options.env, detached: true, stdio: ['ignore', out, err], ...asUser(options.user) });
  } finally {
    // The child has its own copies; the daemon must not keep the files open.
    closeSync(out);
    closeSync(err);
  }
  child.on('exit', (code, signal) => options.onExit(child, { code, signal }));
  child.unref();
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  } catch (error) {
    throw fail('START_FAILED', { reason: `cannot run \`${spec.command}\`: ${(error as Error).message}` }).because(error);
  }
  // Later errors (a failed kill()) are not fatal to the daemon.
  child.on('error', () => {});
  // An exit event always comes after this, in a later turn; should one ever come first (before the
  // caller could record the child and so recognise it), report it again once the caller has.
  if (child.exitCode !== null || child.signalCode !== null) {
    setImmediate(() => options.onExit(child, { code: child.exitCode, signal: child.signalCode }));
  }
  const pid = child.pid!;
  return { child, pid, startTime: readStat(pid)?.startTime ?? null };
}

/**
 * Starts (or restarts) an instance: kills any stray still carrying its id (at most one generation of an
 * instance runs; a stray is what a daemon leaves that died between spawning and recording a restart),
 * builds its environment and spawns it. `onExit` gets the child, so a caller can ignore stale exits.
 */
export async function launchInstance(options: {
  spec: InstanceSpec;
  port: number | null;
  ownerId: string;
  binPath: string[];
  files: LogFiles;
  user?: AppUser | null;
  /** The caller already killed every process carrying this id since the last one exited: skip the /proc scan. */
  straysKilled?: boolean;
  onExit: (child: ChildProcess, exit: { code: number | null; signal: string | null }) => void;
}): Promise<Spawned> {
  const { spec, port, ownerId } = options;
  if (!options.straysKilled) for (const group of ownedGroups(ownerId, { instance: spec.id })) signalGroup(group, 'SIGKILL');
  const env = instanceEnvironment({ spec, port, ownerId, binPath: options.binPath, daemonEnv: process.env, user: options.user });
  return spawnInstance({ spec, env, files: options.files, user: options.user, onExit: options.onExit });
}
