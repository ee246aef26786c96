/** The machine a benchmark ran on, as its report prints it. */
import { readFileSync } from 'node:fs';
import { availableParallelism, release, totalmem } from 'node:os';

export interface MachineInfo {
  nproc: number;
  cpu: string;
  kernel: string;
  memory: string;
  node: string;
  docker: string;
}

export function machineInfo(dockerVersion: string): MachineInfo {
  return {
    nproc: availableParallelism(),
    cpu: /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU',
    kernel: release(),
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    docker: dockerVersion,
  };
}
