/**
 * RuntimeDriver.usage() for containers: one stats sample per running instance container, read from the
 * engine (GET /containers/{id}/stats, one shot), all at once, each bounded by a short timeout so one slow
 * container never holds up a scrape. Memory is counted as `docker stats` counts it: the cgroup's usage
 * less its inactive page cache (file pages the kernel takes back first under pressure), else a container
 * that once read a large file would look like it holds that memory.
 */
import type { InstanceUsage } from '../driver.ts';
import type { ContainerInspect, ContainerStats, DockerEngine } from './engine.ts';
import { containerName } from './names.ts';

/** Bound of each stats call: the engine answers a one-shot sample in milliseconds; a hung one is left out. */
export const USAGE_CALL_TIMEOUT_MS = 2_000;

/** CPU seconds and memory bytes from one stats sample; undefined when the sample is empty (not running). */
export function usageFromStats(stats: ContainerStats): { cpuSeconds: number; memoryBytes: number } | undefined {
  const cpuNs = stats.cpu_stats?.cpu_usage?.total_usage;
  const usage = stats.memory_stats?.usage;
  if (!isCount(cpuNs) || !isCount(usage) || usage === 0) return undefined;
  const counters = stats.memory_stats?.stats ?? {};
  // cgroup v2: inactive_file; v1: total_inactive_file, or cache on engines that report only that.
  const inactive = pick(counters, 'inactive_file') ?? pick(counters, 'total_inactive_file') ?? pick(counters, 'cache') ?? 0;
  const memoryBytes = inactive < usage ? usage - inactive : usage;
  return { cpuSeconds: cpuNs / 1e9, memoryBytes };
}

/** The usage of each running container among `ids`; unknown, stopped or unreadable ones are left out. */
export async function containersUsage(engine: DockerEngine, ids: readonly string[], timeoutMs = USAGE_CALL_TIMEOUT_MS): Promise<InstanceUsage[]> {
  const read = async (id: string): Promise<InstanceUsage | undefined> => {
    const name = containerName(id);
    const [info, stats] = await Promise.all([engine.inspectContainer(name), engine.containerStats(name, { timeoutMs })]);
    if (!info?.State.Running || !stats) return undefined;
    const sample = usageFromStats(stats);
    return sample && { id, ...sample, memoryLimitBytes: limitOf(info) };
  };
  const settled = await Promise.allSettled([...new Set(ids)].map(read));
  return settled.flatMap((s) => (s.status === 'fulfilled' && s.value ? [s.value] : []));
}

/** The limit berth set (HostConfig.Memory); 0 means none. stats' own `limit` is the host's memory then, not a limit. */
function limitOf(info: ContainerInspect): number | null {
  const memory = info.HostConfig?.Memory;
  return isCount(memory) && memory > 0 ? memory : null;
}

function pick(counters: Record<string, number>, key: string): number | undefined {
  const value = Object.hasOwn(counters, key) ? counters[key] : undefined;
  return isCount(value) ? value : undefined;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
