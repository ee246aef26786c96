/**
 * `npm run bench:deploy`: how long a deploy and a rollback take, from typing the command to 100 % of
 * traffic on the new release, for examples/hello with a warm build cache; and the idle memory of berth's
 * own processes with 10 apps deployed. Both runtimes, in one run; results in BENCHMARKS.md.
 * A benchmark, not a test: it reports numbers and PASS/MISS against the targets.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDockerEngine } from '../src/runtime/docker/engine-http.ts';
import { ensureNodeImage } from '../test/support/docker-images.ts';
import { Cleanup } from './lib/cleanup.ts';
import { machineInfo } from './lib/machine.ts';
import { writeSection } from './lib/markdown.ts';
import { measureRuntime, type RuntimeResult } from './deploy/measure.ts';
import { renderDeployReport } from './deploy/report.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const log = (line: string) => process.stderr.write(`[bench:deploy] ${line}\n`);

async function main(): Promise<void> {
  const startedAt = new Date();
  const t0 = performance.now();
  const built = spawnSync(process.execPath, ['--no-warnings', join(ROOT, 'scripts/build.ts')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stderr}`);
  const engine = createDockerEngine();
  const version = await engine.version().catch(() => undefined);
  if (!version) throw new Error('bench:deploy measures the docker runtime and found no Docker Engine at /var/run/docker.sock: start dockerd (see .ci/run)');
  // No registry is reachable here: the generated Dockerfile builds on a Node 24 image made locally.
  const nodeImage = await ensureNodeImage();
  const cleanup = new Cleanup();
  process.once('SIGINT', () => void cleanup.run(log).then(() => process.exit(130)));
  const results: RuntimeResult[] = [];
  // `--memory-only`: the docker runtime's run only, its memory rows printed as JSON and BENCHMARKS.md left
  // alone, to compare the daemon's memory across two states of the tree on the same day.
  const memoryOnly = process.argv.includes('--memory-only');
  try {
    for (const runtime of memoryOnly ? (['docker'] as const) : (['docker', 'process'] as const)) {
      log(`${runtime} runtime`);
      results.push(await measureRuntime({ root: ROOT, runtime, nodeImage, cleanup, log, deploys: 5, apps: 10 }));
    }
  } finally {
    await cleanup.run(log);
  }
  if (memoryOnly) {
    process.stdout.write(`${JSON.stringify(results.map((r) => ({ runtime: r.runtime, memory: r.memory, memoryLater: r.memoryLater, problems: r.problems })), null, 2)}\n`);
    return;
  }
  const report = renderDeployReport({
    command: process.env.npm_lifecycle_event === 'bench:deploy' ? 'npm run bench:deploy' : 'node bench/deploy.ts',
    startedAt,
    durationS: (performance.now() - t0) / 1000,
    machine: machineInfo(version.Version),
    nodeImage,
    results,
  });
  writeSection(join(ROOT, 'BENCHMARKS.md'), 'deploy', report);
  log(`wrote BENCHMARKS.md in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

main().catch((error) => {
  log(`failed: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
});
