/**
 * Runs one build step with `sh -c` in its own process group, streaming its output line by line. The
 * group is what gets killed, on abort and after the step ends, so `npm` and whatever it started
 * (postinstall scripts, compilers) never outlive the build.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { asUser, type Identity } from './owned-tree.ts';
import { ownedGroups } from './owned.ts';
import { signalGroup } from '../../lib/proc.ts';

export interface StepExit {
  code: number | null;
  signal: string | null;
}

export interface RunStepOptions {
  command: string;
  cwd: string;
  /** Must contain BERTH_OWNER and BERTH_BUILD: they are how leftovers of this step are found. */
  env: Record<string, string>;
  ownerId: string;
  buildId: string;
  signal: AbortSignal;
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  maxLineLength?: number;
  /** The app's user to run as (a root daemon); the daemon's own user when absent. */
  user?: Identity | null;
}

const STREAMS_CLOSE_MS = 2_000;

export function runStep(options: RunStepOptions): Promise<StepExit> {
  const { signal, ownerId, buildId } = options;
  const max = options.maxLineLength ?? 16 * 1024;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const child = spawn('sh', ['-c', options.command], { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...asUser(options.user) });
    const pid = child.pid;
    // Kills every group holding a process of this build (found by its env marker, so a recycled group id
    // is never hit), plus the step's own group while its leader is known to be alive.
    const killAll = (leaderAlive: boolean) => {
      if (pid && leaderAlive) signalGroup(pid, 'SIGKILL');
      for (const group of ownedGroups(ownerId, { build: buildId })) signalGroup(group, 'SIGKILL');
    };
    let exited = false;
    const onAbort = () => killAll(!exited);
    signal.addEventListener('abort', onAbort, { once: true });

    const pump = (stream: Readable, name: 'stdout' | 'stderr') =>
      new Promise<void>((done) => {
        const lines = createInterface({ input: stream, crlfDelay: Infinity });
        lines.on('line', (line) => options.onLine(line.length > max ? `${line.slice(0, max)} [truncated]` : line, name));
        lines.on('close', () => done());
      });
    const pumped = Promise.all([pump(child.stdout!, 'stdout'), pump(child.stderr!, 'stderr')]);

    child.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(error);
    });
    child.once('exit', (code, exitSignal) => {
      exited = true;
      // Whatever the step left running would hold our pipes open and outlive the build.
      killAll(false);
      const streamsClosed = new Promise<void>((done) => {
        const timer = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          done();
        }, STREAMS_CLOSE_MS);
        void pumped.then(() => {
          clearTimeout(timer);
          done();
        });
      });
      void streamsClosed.then(() => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) reject(signal.reason);
        else resolve({ code, signal: exitSignal });
      });
    });
  });
}
