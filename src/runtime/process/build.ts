/**
 * build() of the process driver: the source becomes builds/<buildId>.partial, the planned steps run
 * there, and only a complete build is renamed to builds/<buildId> (with a marker naming its start
 * command), so a crash mid-build never leaves something that looks like an artifact. With app users, the
 * source is read and planned while only root can enter it, then handed to the app's user, who runs the
 * steps; from then on root treats the tree as the app's (./owned-tree.ts).
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../lib/clock.ts';
import { fail } from '../../errors/catalogue.ts';
import { fsyncDir } from '../../lib/atomic-file.ts';
import type { Logger } from '../../lib/log.ts';
import { planBuild, readSource, stepFailure } from '../build-plan.ts';
import type { BuildRequest, BuildResult } from '../driver.ts';
import { userVariables, type AppUser } from './app-users.ts';
import { assertSafeName, BUILD_MARKER, buildDir, PARTIAL_SUFFIX, partialDir, type Layout } from './layout.ts';
import { chownTree, removeTree, writeNewFile } from './owned-tree.ts';
import { findOwnedProcesses } from './owned.ts';
import { runStep } from './run-step.ts';
import { terminateGroups } from './terminate.ts';

export interface BuildContext {
  layout: Layout;
  ownerId: string;
  binPath: string[];
  log: Logger;
  now: () => number;
  /** The user the app's builds run as; null: the daemon's own. */
  userFor: (app: string) => Promise<AppUser | null>;
}

// What a build inherits from the daemon: enough to find tools and reach a registry, never berth's own secrets.
const PASS_THROUGH = /^(PATH|HOME|USER|LANG|LC_[A-Z]+|TZ|TMPDIR|HTTPS?_PROXY|NO_PROXY|https?_proxy|no_proxy|npm_config_[a-z_]+|NODE_EXTRA_CA_CERTS|SSL_CERT_FILE)$/;

export function buildEnvironment(options: {
  context: Pick<BuildContext, 'ownerId' | 'binPath'>;
  request: BuildRequest;
  cwd: string;
  daemonEnv: NodeJS.ProcessEnv;
  user?: AppUser | null;
}): Record<string, string> {
  const { context, request, cwd, daemonEnv, user } = options;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(daemonEnv)) if (value !== undefined && PASS_THROUGH.test(key)) env[key] = value;
  const path = [...context.binPath, join(cwd, 'node_modules', '.bin'), daemonEnv.PATH ?? ''].filter(Boolean).join(':');
  return {
    ...env,
    // The app's user cannot use root's HOME, npm cache or ~/.npmrc (nor should it: the .npmrc may hold root's registry tokens).
    ...(user ? { ...userVariables(user), npm_config_cache: join(user.home, '.npm'), npm_config_userconfig: join(user.home, '.npmrc') } : {}),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...request.env,
    PATH: request.env?.PATH ?? path,
    BERTH_OWNER: context.ownerId,
    BERTH_BUILD: request.buildId,
  };
}

export async function buildArtifact(context: BuildContext, request: BuildRequest): Promise<BuildResult> {
  const { layout } = context;
  assertSafeName('build id', request.buildId, 'BUILD_FAILED');
  request.signal.throwIfAborted();
  const partial = partialDir(layout, request.buildId);
  const final = buildDir(layout, request.buildId);
  if (existsSync(final)) throw fail('BUILD_FAILED', { reason: `build ${request.buildId} already exists` });
  mkdirSync(layout.builds, { recursive: true });
  await removeTree(partial);
  moveDir(request.sourceDir, partial);
  try {
    // Nobody but root enters it until it is handed over; the upload may have come with any mode.
    chmodSync(partial, 0o700);
    const source = readSource(partial);
    const plan = planBuild({ packageJson: source.packageJson, files: source.files, command: request.command });
    const user = await context.userFor(request.app);
    if (user) chownTree(partial, user);
    const env = buildEnvironment({ context, request, cwd: partial, daemonEnv: process.env, user });
    for (const step of plan.steps) {
      request.log(`$ ${step.command}`);
      const exit = await runStep({
        command: step.command,
        cwd: partial,
        env,
        ownerId: context.ownerId,
        buildId: request.buildId,
        signal: request.signal,
        onLine: (line) => request.log(line),
        user,
      });
      if (exit.code !== 0) throw fail('BUILD_FAILED', { reason: stepFailure(step, exit) });
    }
    const marker = { buildId: request.buildId, app: request.app, inferredCommand: plan.inferredCommand ?? null, builtAt: context.now() };
    writeNewFile(join(partial, BUILD_MARKER), JSON.stringify(marker, null, 2) + '\n');
    renameSync(partial, final);
    fsyncDir(layout.builds);
    context.log.info('build finished', { app: request.app, build: request.buildId });
    return { artifact: final, ...(plan.inferredCommand ? { inferredCommand: plan.inferredCommand } : {}) };
  } catch (error) {
    await removeTree(partial).catch((removal) => context.log.warn('could not remove a failed build', { dir: partial, error: removal as Error }));
    throw error;
  }
}

/**
 * After a daemon restart: kills the process groups of builds no build() of this driver is running (found
 * by BERTH_BUILD in their environment) and removes their `.partial` directories.
 */
export async function cleanInterruptedBuilds(options: {
  layout: Layout;
  ownerId: string;
  activeBuilds: ReadonlySet<string>;
  clock: Clock;
  log: Logger;
}): Promise<void> {
  const { layout, activeBuilds, log } = options;
  const groups = new Set<number>();
  for (const p of findOwnedProcesses(options.ownerId)) if (p.build && !activeBuilds.has(p.build)) groups.add(p.pgrp);
  if (groups.size > 0) {
    log.warn('killing leftover build processes', { groups: groups.size });
    await terminateGroups({ groups: [...groups], timeoutMs: 0, clock: options.clock });
  }
  let names: string[] = [];
  try {
    names = readdirSync(layout.builds);
  } catch {
    // no builds yet
  }
  for (const name of names) {
    if (!name.endsWith(PARTIAL_SUFFIX) || activeBuilds.has(name.slice(0, -PARTIAL_SUFFIX.length))) continue;
    await removeTree(join(layout.builds, name));
    log.info('removed interrupted build', { dir: name });
  }
}

/** rename(2), or copy-then-delete when the source lives on another file system. */
function moveDir(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') {
      throw fail('BUILD_FAILED', { reason: `cannot move the source into place: ${(error as Error).message}` }).because(error);
    }
    cpSync(from, to, { recursive: true, verbatimSymlinks: true });
    rmSync(from, { recursive: true, force: true });
  }
}
