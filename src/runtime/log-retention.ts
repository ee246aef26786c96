/**
 * Retention by age for the app logs berth keeps on the host (`--log-retention`, default 14 days): the
 * process driver's collected stores and the docker driver's archive, both JSON-lines stores in the tree
 * <root>/<app>/<release>/ (./log-tree.ts, ./log-store.ts). A store file whose last write is older than
 * the cutoff goes whole; one that starts with older lines is rewritten (atomically) from its first line
 * at or after the cutoff: lines are appended in time order. Every step is synchronous, so it never
 * interleaves with the collector or the archive, which append synchronously in the same process.
 * Size stays bounded as before (rotation in ./log-store.ts); live container logs are the engine's (json-file,
 * max-size and max-file set by ../docker/container-spec.ts), which have no age limit of their own.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../lib/clock.ts';
import { writeFileAtomic } from '../lib/atomic-file.ts';
import type { Logger } from '../lib/log.ts';
import type { LogPruneResult, RuntimeDriver } from './driver.ts';

export const DEFAULT_LOG_RETENTION_MS = 14 * 24 * 60 * 60_000;
/** How often the sweep runs. */
export const RETENTION_SWEEP_MS = 60 * 60_000;

const HEAD_BYTES = 64 * 1024;

/** Drops the lines of one store file older than `cutoff` (epoch ms); the file goes when none is left. */
export function pruneStoreFile(path: string, cutoff: number): LogPruneResult {
  let mtime: number;
  try {
    mtime = statSync(path).mtimeMs;
  } catch {
    return { files: 0, lines: 0 };
  }
  if (mtime < cutoff) {
    const lines = countLines(readFileSync(path));
    rmSync(path, { force: true });
    return { files: 1, lines };
  }
  const first = firstTs(path);
  if (first !== undefined && first >= cutoff) return { files: 0, lines: 0 };
  // Some lines are older: the file is bounded by the store's rotation size, so it is read whole.
  const data = readFileSync(path);
  let start = 0;
  let dropped = 0;
  while (start < data.length) {
    const end = data.indexOf(0x0a, start);
    const stop = end < 0 ? data.length : end;
    const ts = lineTs(data.toString('utf8', start, stop));
    if (ts !== undefined && ts >= cutoff) break;
    dropped++;
    start = stop + 1;
  }
  if (start >= data.length) {
    rmSync(path, { force: true });
    return { files: 1, lines: dropped };
  }
  writeFileAtomic(path, data.subarray(start), 0o600);
  return { files: 0, lines: dropped };
}

/**
 * Prunes every store (`*.jsonl`, `*.jsonl.1`) under <root>/<app>/<release>/. `afterStores` is told each
 * release folder once its stores are pruned, so a driver can remove files of its own that belong to them.
 */
export function pruneLogTree(root: string, cutoff: number, afterStores: (dir: string, names: string[]) => number = () => 0): LogPruneResult {
  const total = { files: 0, lines: 0 };
  for (const app of list(root)) {
    for (const release of list(join(root, app))) {
      const dir = join(root, app, release);
      for (const name of list(dir)) {
        if (!name.endsWith('.jsonl') && !name.endsWith('.jsonl.1')) continue;
        const result = pruneStoreFile(join(dir, name), cutoff);
        total.files += result.files;
        total.lines += result.lines;
      }
      total.files += afterStores(dir, list(dir));
    }
  }
  return total;
}

/** Runs `driver.pruneLogs` now and every `everyMs` (unref'd); returns the stop function. */
export function startLogRetention(driver: RuntimeDriver, options: { retentionMs: number; clock: Clock; log: Logger; everyMs?: number }): () => void {
  const { retentionMs, clock, log } = options;
  const sweep = async () => {
    try {
      const result = await driver.pruneLogs(clock.now() - retentionMs);
      if (result.files > 0 || result.lines > 0) log.info('old app log lines deleted', { ...result, retentionMs });
    } catch (error) {
      log.warn('app log retention sweep failed', { error: error as Error });
    }
  };
  void sweep();
  const timer = setInterval(() => void sweep(), options.everyMs ?? RETENTION_SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}

function firstTs(path: string): number | undefined {
  const buf = Buffer.alloc(HEAD_BYTES);
  const fd = openSync(path, 'r');
  try {
    const n = readSync(fd, buf, 0, HEAD_BYTES, 0);
    const end = buf.subarray(0, n).indexOf(0x0a);
    return lineTs(buf.toString('utf8', 0, end < 0 ? n : end));
  } finally {
    closeSync(fd);
  }
}

/** A stored line's `ts`; undefined for a damaged line (it goes with the old lines around it). */
function lineTs(line: string): number | undefined {
  const match = /^\{"ts":(\d{1,16})[,}]/.exec(line);
  return match ? Number(match[1]) : undefined;
}

function countLines(data: Buffer): number {
  let n = 0;
  for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, i + 1)) n++;
  return n;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
