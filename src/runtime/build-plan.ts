/**
 * How a source tree is built, decided from its package.json and top-level files. Shared by every driver
 * that builds Node apps (process, docker, fake) so they agree on which commands run and what start command
 * is inferred; the drivers only differ in how they run the steps (docker's in the Dockerfile it generates).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../errors/catalogue.ts';

export interface PackageJson {
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export interface BuildStep {
  kind: 'install' | 'build' | 'prune';
  /** Shell command line, run with `sh -c` in the source directory. Also names the step in errors. */
  command: string;
}

export interface BuildPlan {
  steps: BuildStep[];
  inferredCommand?: string;
}

const count = (deps: Record<string, string> | undefined) => Object.keys(deps ?? {}).length;

/**
 * Install dependencies (`npm ci` with a lockfile, else `npm install`) when there are any, run the build
 * command (the manifest's, else the `build` script), and drop dev dependencies afterwards. The start
 * command is the `start` script's own text, not `npm start`: an npm process per instance costs ~50 MB.
 */
export function planBuild(options: { packageJson: PackageJson | null; files: ReadonlySet<string>; command?: string }): BuildPlan {
  const { packageJson, files, command } = options;
  const steps: BuildStep[] = [];
  const hasDeps = packageJson !== null && count(packageJson.dependencies) + count(packageJson.devDependencies) > 0;
  if (hasDeps) {
    const install = files.has('package-lock.json') ? 'npm ci' : 'npm install';
    steps.push({ kind: 'install', command: `${install} --no-audit --no-fund` });
  }
  if (command && command.trim()) steps.push({ kind: 'build', command });
  else if (packageJson?.scripts?.build) steps.push({ kind: 'build', command: 'npm run build' });
  if (hasDeps && count(packageJson?.devDependencies) > 0) {
    steps.push({ kind: 'prune', command: 'npm prune --omit=dev --no-audit --no-fund' });
  }
  return { steps, inferredCommand: inferStartCommand({ packageJson, files }) };
}

export function inferStartCommand(options: { packageJson: PackageJson | null; files: ReadonlySet<string> }): string | undefined {
  const start = options.packageJson?.scripts?.start;
  if (start && start.trim()) return start.trim();
  if (options.files.has('server.js')) return 'node server.js';
  if (options.files.has('index.js')) return 'node index.js';
  return undefined;
}

/** The failure reason for a step, naming the command: "`npm ci --no-audit --no-fund` exited with code 1". */
export function stepFailure(step: BuildStep, exit: { code: number | null; signal: string | null }): string {
  return exit.signal ? `\`${step.command}\` was killed by ${exit.signal}` : `\`${step.command}\` exited with code ${exit.code}`;
}

/** Reads what planBuild needs from a directory; a broken package.json is the user's build failure. */
export function readSource(dir: string): { packageJson: PackageJson | null; files: Set<string> } {
  const files = new Set(readdirSync(dir));
  const path = join(dir, 'package.json');
  if (!existsSync(path)) return { packageJson: null, files };
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return { packageJson: parsed as PackageJson, files };
  } catch (error) {
    throw fail('BUILD_FAILED', { reason: `package.json is not valid JSON (${(error as Error).message})` }).because(error);
  }
}
