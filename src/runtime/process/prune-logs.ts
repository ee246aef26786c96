/**
 * The process driver's part of retention (../log-retention.ts): its stores are pruned like every store;
 * then the raw files an app wrote (<process>.<id>.stdout/.stderr) and the collector's position (.pos) go
 * too, once the instance's store is gone, nothing was written to them since the cutoff, and the instance
 * no longer exists (a running app still holds them open: removing them would lose its next lines). The raw
 * files go last because they are how logs of a stopped instance are found (./layout.ts: findLogFiles).
 */
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LogPruneResult } from '../driver.ts';
import { pruneLogTree } from '../log-retention.ts';

export function pruneProcessLogs(logsRoot: string, cutoff: number, exists: (id: string) => boolean): LogPruneResult {
  return pruneLogTree(logsRoot, cutoff, (dir, names) => {
    let removed = 0;
    const present = new Set(names);
    for (const name of names) {
      if (!name.endsWith('.stdout')) continue;
      const base = name.slice(0, -'.stdout'.length);
      const id = base.slice(base.lastIndexOf('.') + 1);
      if (present.has(`${base}.jsonl`) || present.has(`${base}.jsonl.1`) || exists(id)) continue;
      const raw = [`${base}.stdout`, `${base}.stderr`].map((n) => join(dir, n));
      if (!raw.every((path) => olderThan(path, cutoff))) continue;
      for (const path of [...raw, join(dir, `${base}.pos`)]) {
        if (present.has(path.slice(dir.length + 1))) removed++;
        rmSync(path, { force: true });
      }
    }
    return removed;
  });
}

function olderThan(path: string, cutoff: number): boolean {
  try {
    return statSync(path).mtimeMs < cutoff;
  } catch {
    return true; // already gone
  }
}
