import type { ExitInfo } from './driver.ts';

/** `exited with code 7`, `killed by SIGKILL`, `killed: out of memory`. */
export function describeExit(exit: ExitInfo | undefined): string {
  if (!exit) return 'exited';
  if (exit.oom) return 'killed: out of memory';
  if (exit.signal) return `killed by ${exit.signal}`;
  if (exit.code === null) return 'exited (code unknown: it ended while berth was not watching)';
  return `exited with code ${exit.code}`;
}
