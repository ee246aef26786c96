/**
 * Which runtime berth uses, decided once at start-up: docker when an engine answers (as every platform
 * berth competes with does), else host processes; `--runtime` forces one. The reason is kept for
 * `berth doctor`, so "why are my apps not in containers?" has an answer.
 */
import { fail } from '../errors/catalogue.ts';
import type { DockerEngine, EngineVersion } from './docker/engine.ts';
import { EngineTooOldError } from './docker/engine-transport.ts';

export type RuntimeMode = 'auto' | 'docker' | 'process';

export interface RuntimeChoice {
  driver: 'docker' | 'process';
  reason: string;
  engine?: EngineVersion;
  /** The Engine API version berth speaks with that engine: the newest both know (./docker/engine-version.ts). */
  engineApiVersion?: string;
}

export async function chooseRuntime(mode: RuntimeMode, engine: DockerEngine, socket: string, ignoredDockerHost?: string): Promise<RuntimeChoice> {
  const choice = await choose(mode, engine, socket);
  // A remote engine set in DOCKER_HOST is not silently replaced by the local socket: the reason says so.
  return ignoredDockerHost ? { ...choice, reason: `${choice.reason} (DOCKER_HOST=${ignoredDockerHost} is not used: berth reaches a local engine over its Unix socket)` } : choice;
}

async function choose(mode: RuntimeMode, engine: DockerEngine, socket: string): Promise<RuntimeChoice> {
  if (mode === 'process') return { driver: 'process', reason: 'chosen with --runtime process' };
  // The first call negotiates the API version; apiVersion() then answers from what was negotiated.
  const answer = await engine.version().then(async (version) => ({ version, api: await engine.apiVersion() }), (error: Error) => error);
  if (!(answer instanceof Error)) {
    const reason = mode === 'docker' ? 'chosen with --runtime docker' : `a Docker Engine answers at ${socket}`;
    return { driver: 'docker', reason, engine: answer.version, engineApiVersion: answer.api };
  }
  if (answer instanceof EngineTooOldError) {
    if (mode === 'docker') {
      const issue = { path: '--runtime', message: `docker, but ${answer.message}`, fix: 'install a current Docker Engine, or run apps as host processes with --runtime process' };
      throw fail('CONFIG_INVALID', { issues: [issue] });
    }
    return { driver: 'process', reason: `the Docker Engine at ${socket} is too old (${answer.message}); apps run as host processes` };
  }
  if (mode === 'docker') throw new Error(`--runtime docker, but no Docker Engine answers at ${socket} (${answer.message}); start dockerd or use --runtime process`);
  return { driver: 'process', reason: `no Docker Engine answers at ${socket} (${answer.message}); apps run as host processes` };
}
