/** What every benchmark does before it measures: dist/ built fresh, a temp dir, cleanup on a signal, a watchdog. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cleanup } from './cleanup.ts';

export function prepareBenchRun(options: { root: string; name: string; watchdogMs: number; log: (line: string) => void }): { cleanup: Cleanup; dir: string; watchdog: NodeJS.Timeout } {
  const { root, name, watchdogMs, log } = options;
  // Measure what users run: dist/, built from src/ now so it cannot be stale.
  const built = spawnSync(process.execPath, ['--no-warnings', join(root, 'scripts/build.ts')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stderr}`);
  log(built.stdout.trim());
  const cleanup = new Cleanup();
  const dir = mkdtempSync(join(tmpdir(), `berth-bench-${name}-`));
  cleanup.add('remove the temp directory', () => rmSync(dir, { recursive: true, force: true }));
  const interrupted = (signal: string) => {
    log(`${signal}: stopping everything the benchmark started`);
    void cleanup.run(log).then(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  // Every step has its own time limit; this one catches whatever slips through them all.
  const watchdog = setTimeout(() => {
    log(`still running after ${watchdogMs / 60_000} min: giving up`);
    void cleanup.run(log).then(() => process.exit(1));
  }, watchdogMs);
  watchdog.unref();
  return { cleanup, dir, watchdog };
}
