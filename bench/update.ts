/**
 * `npm run bench:update`: how long from pushing a new image under a followed tag to all traffic on it, for
 * an image app with `update: { interval: 5s }` on the docker runtime and a real local registry; median of
 * 5 rounds on a cached layer set. Results in BENCHMARKS.md. A benchmark, not a test: it reports numbers and
 * PASS/MISS against the target (interval + 3 s).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDockerEngine } from '../src/runtime/docker/engine-http.ts';
import { ensureNodeImage } from '../test/support/docker-images.ts';
import { registrySuite } from '../test/support/registry.ts';
import { Cleanup } from './lib/cleanup.ts';
import { machineInfo } from './lib/machine.ts';
import { writeSection } from './lib/markdown.ts';
import { measureUpdates } from './update/measure.ts';
import { renderUpdateReport } from './update/report.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const log = (line: string) => process.stderr.write(`[bench:update] ${line}\n`);

async function main(): Promise<void> {
  const startedAt = new Date();
  const t0 = performance.now();
  const built = spawnSync(process.execPath, ['--no-warnings', join(ROOT, 'scripts/build.ts')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stderr}`);
  const version = await createDockerEngine().version().catch(() => undefined);
  if (!version) throw new Error('bench:update measures the docker runtime and found no Docker Engine at /var/run/docker.sock: start dockerd (see .ci/run)');
  const registry = await registrySuite('none');
  if (registry.skip) throw new Error(`bench:update needs a local registry: ${registry.skip}`);
  // No registry on the internet is reachable here: the app's image builds on a Node 24 image made locally.
  const nodeImage = await ensureNodeImage();
  const cleanup = new Cleanup();
  process.once('SIGINT', () => void cleanup.run(log).then(() => process.exit(130)));
  let result;
  try {
    result = await measureUpdates({ root: ROOT, nodeImage, cleanup, log, rounds: 5 });
  } finally {
    await cleanup.run(log);
  }
  const report = renderUpdateReport({
    command: process.env.npm_lifecycle_event === 'bench:update' ? 'npm run bench:update' : 'node bench/update.ts',
    startedAt,
    durationS: (performance.now() - t0) / 1000,
    machine: machineInfo(version.Version),
    nodeImage,
    result,
  });
  writeSection(join(ROOT, 'BENCHMARKS.md'), 'update', report);
  log(`wrote BENCHMARKS.md in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((error) => {
  log(`failed: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
});
