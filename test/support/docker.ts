/**
 * Whether tests that need a Docker engine run, skip or fail. On a developer machine without an engine
 * they skip with a message saying so; in CI (.ci/run sets BERTH_REQUIRE_DOCKER=1) a missing engine fails
 * them, so a broken CI setup can never pass by skipping.
 *
 *   const docker = await dockerSuite();
 *   describe('docker engine', { skip: docker.skip }, () => { ... });
 *
 * or, inside one test: `if (!(await requireDocker(t))) return;`
 */
import type { TestContext } from 'node:test';
import { createDockerEngine, defaultSocketPath } from '../../src/runtime/docker/engine-http.ts';

export interface DockerSuite {
  available: boolean;
  /** `false` when the engine answers, else the reason to give `{ skip }`. */
  skip: string | false;
}

export function dockerRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.BERTH_REQUIRE_DOCKER === '1';
}

export function skipReason(socketPath = defaultSocketPath()): string {
  return `no Docker engine at ${socketPath} (set BERTH_REQUIRE_DOCKER=1 to fail instead)`;
}

/** True when the engine answers GET /_ping within a few seconds. */
export function dockerAvailable(socketPath = defaultSocketPath()): Promise<boolean> {
  return createDockerEngine({ socketPath, timeoutMs: 3_000 }).ping();
}

/** Asks the engine once; throws when it does not answer and BERTH_REQUIRE_DOCKER=1. */
export async function dockerSuite(options: { socketPath?: string; env?: NodeJS.ProcessEnv } = {}): Promise<DockerSuite> {
  const socketPath = options.socketPath ?? defaultSocketPath(options.env);
  if (await dockerAvailable(socketPath)) return { available: true, skip: false };
  if (dockerRequired(options.env)) {
    throw new Error(`BERTH_REQUIRE_DOCKER=1 but no Docker engine answers at ${socketPath}: start dockerd (see .ci/run and ../shared/docs/environment.md)`);
  }
  return { available: false, skip: skipReason(socketPath) };
}

/** For one test: skips it (visibly) and returns false when there is no engine, or throws in CI mode. */
export async function requireDocker(t?: TestContext, options: { socketPath?: string; env?: NodeJS.ProcessEnv } = {}): Promise<boolean> {
  const suite = await dockerSuite(options);
  if (suite.skip) t?.skip(suite.skip);
  return suite.available;
}
