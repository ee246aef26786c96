/**
 * The policy worker as a child process of the daemon (./worker.ts), with an IPC channel. A process, not a
 * worker thread: a terminated worker thread leaves most of its memory in the daemon (measured with Node
 * 24: about 20 MB of anonymous memory stays mapped after the thread that loaded CEL is gone, more than CEL
 * costs in the daemon's own heap), while a process that exits hands back every page. Its heap is capped
 * (`--max-old-space-size`); past the cap V8 ends it and says so on stderr, which is how an expression
 * that needs too much memory is told from a crash. It ends itself when the daemon goes (the channel
 * closes), so it never outlives it.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Reply, Request } from './protocol.ts';

const ENTRY = fileURLToPath(new URL('./worker.ts', import.meta.url));
const OUT_OF_MEMORY = /heap out of memory|Reached heap limit/i;

export interface PolicyChild {
  readonly pid: number;
  send(request: Request): void;
  /** SIGKILL: a judgement over its budget, the idle time, the daemon closing. */
  kill(): void;
  /** Busy: the child keeps the daemon's event loop alive until it answers; idle: it does not. */
  hold(busy: boolean): void;
}

export interface ChildEvents {
  reply(reply: Reply): void;
  /** It went away on its own: out of memory, or failed. Called once, never after `kill()`'s exit matters. */
  gone(why: { kind: 'memory' | 'failed'; why: string }): void;
  /** Its process has ended, for whatever reason (tests count these). */
  exited(): void;
}

/** Starts the child and resolves once it has loaded CEL and said it is ready. */
export function startChild(o: { heapMb: number; bootTimeoutMs: number }, on: ChildEvents): Promise<PolicyChild> {
  return new Promise((resolve, reject) => {
    const proc = fork(ENTRY, [], {
      // None of the daemon's flags (a preload, its own heap settings) and none of its environment.
      execArgv: [`--max-old-space-size=${o.heapMb}`, '--max-semi-space-size=2'],
      env: { BERTH_COMPONENT: 'policy' },
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    proc.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4096)));
    let ready = false;
    const lastLine = () => stderr.trim().split('\n').at(-1)?.slice(0, 300) ?? '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`it did not load within ${o.bootTimeoutMs} ms`));
    }, o.bootTimeoutMs);
    const child: PolicyChild = {
      pid: proc.pid ?? 0,
      send: (request) =>
        proc.send(request, (error) => {
          if (error) on.gone({ kind: 'failed', why: `the policy engine's process did not take the request: ${error.message}` });
        }),
      kill: () => void proc.kill('SIGKILL'),
      hold: (busy) => {
        for (const handle of [proc, proc.channel, proc.stderr] as ({ ref(): void; unref(): void } | null | undefined)[]) {
          if (busy) handle?.ref();
          else handle?.unref();
        }
      },
    };
    proc.on('message', (reply: Reply) => {
      if (ready) return on.reply(reply);
      if (!('ready' in reply)) return;
      ready = true;
      clearTimeout(timer);
      resolve(child);
    });
    proc.once('error', (error) => {
      clearTimeout(timer);
      if (!ready) reject(error);
      else on.gone({ kind: 'failed', why: `the policy engine's process failed: ${error.message}` });
    });
    // `close`, not `exit`: by then stderr is complete, and V8's last words say whether the heap ran out.
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      on.exited();
      const how = signal ?? `code ${code}`;
      if (!ready) return reject(new Error(`its process exited (${how}) before it was ready${lastLine() ? `: ${lastLine()}` : ''}`));
      if (OUT_OF_MEMORY.test(stderr)) on.gone({ kind: 'memory', why: `${o.heapMb} MB` });
      else on.gone({ kind: 'failed', why: `the policy engine's process exited (${how})${lastLine() ? `: ${lastLine()}` : ''}` });
    });
  });
}
