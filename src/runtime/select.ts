/**
 * Which runtime berth uses, decided once at start-up: docker when an engine answers (as every platform
 * berth competes with does), else host processes; `--runtime` forces one. The reason is kept for
 * `berth doctor`, so "why are my apps not in containers?" has an answer.
 */
import type { DockerEngine, EngineVersion } from './docker/engine.ts';

export type RuntimeMode = 'auto' | 'docker' | 'process';

export interface RuntimeChoice {
  driver: 'docker' | 'process';
  reason: string;
  engine?: EngineVersion;
}

export async function chooseRuntime(mode: RuntimeMode, engine: DockerEngine, socket: string): Promise<RuntimeChoice> {
  if (mode === 'process') return { driver: 'process', reason: 'chosen with --runtime process' };
  const version = await engine.version().catch((error: Error) => error);
  if (!(version instanceof Error)) {
    return { driver: 'docker', reason: mode === 'docker' ? 'chosen with --runtime docker' : `a Docker Engine answers at ${socket}`, engine: version };
  }
  if (mode === 'docker') throw new Error(`--runtime docker, but no Docker Engine answers at ${socket} (${version.message}); start dockerd or use --runtime process`);
  return { driver: 'process', reason: `no Docker Engine answers at ${socket} (${version.message}); apps run as host processes` };
}
