import { fail } from '../errors/catalogue.ts';
import type { InstanceSpec } from '../runtime/driver.ts';
import type { BuildRecord, ReleaseRecord } from '../store/records.ts';
import { composeEnv } from './env.ts';

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
  const command = proc?.command ?? (process === 'web' ? (build.inferredCommand ?? undefined) : undefined);
  if (!command) {
    throw fail('START_FAILED', {
      reason: `no command for process "${process}": add \`processes.${process}.command\` to berth.yaml, or a "start" script to package.json`,
    });
  }
  const { env, secrets } = composeEnv(manifest, input.vars);
  return {
    id: input.id,
    app: release.app,
    release: `v${release.version}`,
    process,
    artifact: build.artifact,
    command,
    env,
    port: process === 'web',
    restart: manifest.restart,
    stopTimeoutMs: manifest.deploy.stopTimeoutMs,
    secrets,
  };
}
