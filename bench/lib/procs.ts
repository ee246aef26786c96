/**
 * Starting, watching and stopping the processes a benchmark needs. Every child gets its own process
 * group (detached), so stopping it also stops whatever it forked (nginx workers), and nothing the
 * benchmark started outlives it.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { signalGroup } from '../../src/lib/proc.ts';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface Child {
  name: string;
  pid: number;
  /** Set once the process has exited. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the leader has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr go here (appended), so a failed start can be explained. */
  logFile: string;
}

export function spawnGroup(name: string, command: string, args: string[], options: SpawnOptions): Child {
  const out = openSync(options.logFile, 'a');
  const proc = spawn(command, args, { detached: true, stdio: ['ignore', out, out], env: options.env ?? process.env, cwd: options.cwd });
  closeSync(out);
  if (proc.pid === undefined) throw new Error(`could not start ${name} (${command}); is it installed?`);
  const pid = proc.pid;
  let exited!: () => void;
  const done = new Promise<void>((resolve) => (exited = resolve));
  const child: Child = {
    name,
    pid,
    exit: null,
    async stop(graceMs = 3000) {
      if (child.exit) return;
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      await done;
      clearTimeout(timer);
      // The leader is gone; make sure no straggler of its group is (nginx workers finish on their own).
      signalGroup(pid, 'SIGKILL');
    },
  };
  proc.once('error', () => {
    child.exit ??= { code: null, signal: null };
    exited();
  });
  proc.once('exit', (code, signal) => {
    child.exit = { code, signal };
    exited();
  });
  return child;
}

/** Polls `check` until it returns a value, the deadline passes, or `gaveUp` says the wait is hopeless. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, gaveUp?: () => string | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    const reason = gaveUp?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    if (Date.now() > deadline) throw new Error(`${what}: still not ready after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** A TCP port nobody listens on right now (the kernel picks it; the race until reuse is acceptable here). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits until `child` accepts connections on `port`, failing early (with its log) if it exits. */
export async function waitForPort(child: Child, port: number, logFile: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(`${child.name} on port ${port}`, async () => ((await canConnect(port)) ? true : undefined), timeoutMs, () =>
    child.exit ? `exited (${child.exit.signal ?? child.exit.code}); its log says:\n${tail(logFile)}` : undefined,
  );
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// ---- /proc -------------------------------------------------------------------------------------

/** Fields of /proc/<pid>/stat after the command name, which may itself contain spaces and parentheses. */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** `pid` and all its descendants, found through the parent pid of every process. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (!fields) continue;
    const ppid = Number(fields[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const next = queue.shift()!;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/**
 * CPU time (utime + stime) in clock ticks per pid. /proc/<pid>/stat of a process is the sum over all
 * of its threads (libuv's pool, V8's GC threads, Go's runtime threads), which is what we want to count.
 */
export function cpuTicks(pids: number[]): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const pid of pids) {
    const fields = statFields(pid);
    if (fields) ticks.set(pid, Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

/** Ticks spent between two snapshots, over the pids present in both. */
export function ticksBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, end] of after) {
    const start = before.get(pid);
    if (start !== undefined) sum += end - start;
  }
  return sum;
}

/** RSS and PSS in kB, from /proc/<pid>/smaps_rollup. */
export function memoryOf(pid: number): { rssKb: number; pssKb: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKb: field('Rss'), pssKb: field('Pss') };
}

export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** Pids whose command line contains `needle` (used to find what a daemon started in our temp dir). */
export function pidsWithCmdline(needle: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== process.pid)
    .map(Number)
    .filter((pid) => cmdlineOf(pid).includes(needle));
}

/** TCP connections this machine has initiated since boot (Tcp ActiveOpens in /proc/net/snmp). */
export function tcpActiveOpens(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Tcp:'));
  const names = lines[0].split(/\s+/);
  return Number(lines[1].split(/\s+/)[names.indexOf('ActiveOpens')]);
}
