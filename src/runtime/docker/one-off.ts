/**
 * One-off runs of the docker runtime (the release command, `berth run`): a container of the release's
 * image on the app's network, its output followed (masked) while it runs, killed at the timeout, and
 * removed whatever happens. A daemon that dies meanwhile leaves it behind; the next adopt() removes it
 * (label `berth.kind=one-off`).
 */
import type { OneOffResult, OneOffSpec } from '../driver.ts';
import { createMasker } from '../mask-secrets.ts';
import { oneOffContainer } from './container-spec.ts';
import type { DockerEngine } from './engine.ts';
import { containerName, fromGeneratedDockerfile } from './names.ts';

export async function runOneOffContainer(options: { engine: DockerEngine; ownerId: string; network: string; spec: OneOffSpec }): Promise<OneOffResult> {
  const { engine, ownerId, network, spec } = options;
  const name = containerName(spec.id);
  const mask = createMasker(spec.secrets);
  const timeout = AbortSignal.timeout(spec.timeoutMs);
  const signal = AbortSignal.any([spec.signal, timeout]);
  try {
    const generatedImage = fromGeneratedDockerfile((await engine.inspectImage(spec.artifact))?.Labels);
    const id = await engine.createContainer(name, oneOffContainer(spec, { ownerId, network, generatedImage }));
    await engine.startContainer(id);
    const following = (async () => {
      for await (const entry of engine.containerLogs(id, { follow: true, signal })) spec.onLine({ stream: entry.stream, line: mask(entry.line) });
    })().catch(() => {});
    try {
      const exitCode = await engine.waitContainer(id, signal);
      await following;
      return { exitCode, timedOut: false };
    } catch (error) {
      if (!timeout.aborted || spec.signal.aborted) throw error;
      await engine.killContainer(id).catch(() => {});
      return { exitCode: null, timedOut: true };
    }
  } finally {
    await engine.removeContainer(name, { force: true }).catch(() => {});
  }
}
