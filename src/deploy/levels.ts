import type { Manifest } from '../manifest/schema.ts';

/**
 * Start order of a release's processes (pure): each level only depends on services and earlier levels,
 * so a process starts once what it `depends_on` is ready. Cycles were refused when the manifest was read.
 */
export function processLevels(manifest: Manifest): string[][] {
  const processes = Object.entries(manifest.processes);
  const names = new Set(processes.map(([name]) => name));
  const placed = new Set<string>();
  const levels: string[][] = [];
  while (placed.size < processes.length) {
    const level = processes
      .filter(([name, spec]) => !placed.has(name) && (spec.dependsOn ?? []).every((dep) => !names.has(dep) || placed.has(dep)))
      .map(([name]) => name);
    if (level.length === 0) return [...levels, processes.map(([name]) => name).filter((n) => !placed.has(n))];
    for (const name of level) placed.add(name);
    levels.push(level);
  }
  return levels.length ? levels : [[]];
}
