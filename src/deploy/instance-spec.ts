import { fail } from '../errors/catalogue.ts';
import type { InstanceSpec, OneOffSpec } from '../runtime/driver.ts';
import type { BuildRecord, ReleaseRecord } from '../model/records.ts';
import { serviceEnv, serviceSecrets } from './service-env.ts';

/**
 * The environment of every process of a release: the manifest's plain defaults, the services'
 * connection settings, then what `berth env set` stored (explicit values win). Only the stored values
 * and service passwords are secrets (masked in logs; the masker skips values too short to matter).
 */
export function releaseEnv(release: Pick<ReleaseRecord, 'manifest'>, vars: Record<string, string>): { env: Record<string, string>; secrets: string[] } {
  return { env: { ...release.manifest.env, ...serviceEnv(release.manifest), ...vars }, secrets: [...Object.values(vars), ...serviceSecrets(release.manifest)] };
}

/** How one instance of a release runs: pure, so recovery can rebuild the exact spec a deploy used. */
export function instanceSpecFor(input: {
  id: string;
  release: ReleaseRecord;
  build: BuildRecord;
  process: string;
  vars: Record<string, string>;
}): InstanceSpec {
  const { release, build, process } = input;
  const manifest = release.manifest;
  const proc = manifest.processes[process];
  const staticRoot = process === 'web' && manifest.static && !proc?.command ? manifest.static : undefined;
  // '' means "the image's own command" (an app with its own Dockerfile); undefined means nothing to run.
  const command = proc?.command ?? (process === 'web' ? (build.inferredCommand ?? undefined) : undefined);
  if (command === undefined && !staticRoot) {
    throw fail('START_FAILED', {
      reason: `no command for process "${process}": add \`processes.${process}.command\` to berth.yaml, or a "start" script to package.json`,
    });
  }
  const { env, secrets } = releaseEnv(release, input.vars);
  return {
    id: input.id,
    app: release.app,
    release: `v${release.version}`,
    process,
    artifact: build.artifact,
    command: command ?? '',
    env,
    // web always listens; other processes when the manifest gives them a port (an internal API).
    port: process === 'web' || proc?.port !== undefined,
    ...(proc?.port !== undefined ? { containerPort: proc.port } : {}),
    ...(proc?.resources ? { resources: { ...(proc.resources.memoryBytes ? { memoryBytes: proc.resources.memoryBytes } : {}), ...(proc.resources.cpus ? { cpus: proc.resources.cpus } : {}) } } : {}),
    ...(staticRoot ? { staticRoot } : {}),
    ...(proc?.readOnly ? { readOnlyRoot: true } : {}),
    // Releases recorded before per-process restart policies existed fall back to the app's.
    restart: proc?.restart ?? manifest.restart,
    stopTimeoutMs: manifest.deploy.stopTimeoutMs,
    secrets,
  };
}

/**
 * A one-off run (the release command, `berth run`, a check) in a release's environment. A `build` check
 * runs before its release is recorded: it passes the build's app and manifest without a version, and the
 * run is labelled `unreleased`.
 */
export function oneOffSpecFor(input: {
  id: string;
  release: Pick<ReleaseRecord, 'app' | 'manifest'> & { version: number | null };
  build: BuildRecord;
  command: string;
  vars: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal;
  onLine: OneOffSpec['onLine'];
}): OneOffSpec {
  const { env, secrets } = releaseEnv(input.release, input.vars);
  return {
    id: input.id,
    app: input.release.app,
    release: input.release.version === null ? 'unreleased' : `v${input.release.version}`,
    artifact: input.build.artifact,
    command: input.command,
    env,
    secrets,
    timeoutMs: input.timeoutMs,
    signal: input.signal,
    onLine: input.onLine,
  };
}
