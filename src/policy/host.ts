/** The host's facts as `host.*` holds them: the data directory's filesystem, load, memory, cores. */
import { statfsSync } from 'node:fs';
import { availableParallelism, freemem, loadavg, totalmem } from 'node:os';
import type { HostFacts } from './facts.ts';

/** Free bytes for an unprivileged writer (`bavail`, not `bfree`: root's reserve is not berth's). */
export function hostFacts(dataDir: string): HostFacts {
  const fs = statfsSync(dataDir);
  return {
    diskFreeBytes: fs.bavail * fs.bsize,
    load1: loadavg()[0] ?? 0,
    memoryFreeBytes: freemem(),
    memoryTotalBytes: totalmem(),
    cores: availableParallelism(),
  };
}
