/**
 * One runtime's numbers: a real berth daemon (dist/, as `npm ci` builds it) on a temp data dir, the CLI
 * as a user runs it, and a probe that asks the app through berth's proxy every 10 ms which release
 * answers. "100 % of traffic" is the first answer from the new release: the proxy switches its whole
 * table at once, and the probe checks no later answer came from the old one.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LONG_RUNNING_NODE_FLAGS } from '../../src/lib/node-flags.ts';
import { removeDockerResources } from '../../test/support/berth.ts';
import type { Cleanup } from '../lib/cleanup.ts';
import { httpRequest } from '../lib/http.ts';
import { median } from '../lib/markdown.ts';
import { readEnviron } from '../../src/lib/proc.ts';
import { memoryOf, pidsWithCmdline, sleep, waitFor } from '../lib/procs.ts';

export interface Timing {
  /** Command typed -> first answer from the new release. */
  toTrafficS: number;
  /** Command typed -> the CLI returned. */
  commandS: number;
}

export interface RuntimeResult {
  runtime: 'docker' | 'process';
  firstDeployS: number;
  deploys: Timing[];
  warmRollback: Timing;
  coldRollback: Timing;
  /** `anonKb`: the process's own memory (heaps, stacks), without the file pages PSS shares out by how many processes map them. */
  memory?: { apps: number; processes: { role: string; pid: number; rssKb: number; pssKb: number; anonKb?: number }[] };
  /** The same, LATER_SAMPLE_S after the last deploy: past the policy worker's idle time (src/policy/engine.ts). */
  memoryLater?: RuntimeResult['memory'];
  problems: string[];
}

/** The second memory sample, in seconds after the last deploy: the policy worker (30 s idle) has exited by then. */
const LATER_SAMPLE_S = 45;

export async function measureRuntime(options: {
  root: string;
  runtime: 'docker' | 'process';
  nodeImage: string;
  cleanup: Cleanup;
  log: (line: string) => void;
  deploys: number;
  apps: number;
}): Promise<RuntimeResult> {
  const { root, runtime, log } = options;
  const data = mkdtempSync(join(tmpdir(), `berth-bench-deploy-${runtime}-`));
  const cli = join(root, 'dist', 'cli', 'main.js');
  const daemon = spawn(process.execPath, [...LONG_RUNNING_NODE_FLAGS, cli, 'server', '--data', data, '--api', '127.0.0.1:0', '--http', '127.0.0.1:0', '--https', '127.0.0.1:0', '--runtime', runtime, '--node-image', options.nodeImage], {
    stdio: ['ignore', 'ignore', 'ignore'],
    detached: true,
  });
  const problems: string[] = [];
  const stop = async () => {
    const info = readApi(data);
    if (info) await httpRequest(`${info.url}/v1/system/shutdown`, { method: 'POST', headers: { authorization: `Bearer ${token(data)}`, 'content-type': 'application/json' }, body: '{"stopApps":true}' }).catch(() => undefined);
    await waitFor('the daemon to stop', () => (daemon.exitCode !== null ? true : undefined), 30_000).catch(() => daemon.kill('SIGKILL'));
    for (const pid of pidsWithCmdline(data)) process.kill(pid, 'SIGKILL');
    if (runtime === 'docker') await removeOwned(data);
    rmSync(data, { recursive: true, force: true });
  };
  options.cleanup.add(`stop the ${runtime} daemon`, stop);
  const api = await waitFor('the daemon to answer', () => readApi(data), 30_000);
  const env = { ...process.env, BERTH_URL: api.url, BERTH_TOKEN: token(data), NO_COLOR: '1' };
  const app = mkdtempSync(join(tmpdir(), 'berth-bench-hello-'));
  cpSync(join(root, 'examples', 'hello'), app, { recursive: true });
  options.cleanup.add('remove the app copy', () => rmSync(app, { recursive: true, force: true }));
  const proxyPort = api.http.port;

  const timed = async (args: string[], release: number): Promise<Timing> => {
    const started = performance.now();
    const command = runCli(cli, args, env);
    let firstNew: number | undefined;
    let stale = 0;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const seen = await whichRelease(proxyPort);
      if (seen === release) firstNew ??= performance.now();
      else if (firstNew !== undefined && seen !== undefined) stale++;
      if (firstNew !== undefined && command.done) break;
      await sleep(10);
    }
    const exit = await command.exited;
    if (exit !== 0) problems.push(`\`berth ${args.join(' ')}\` exited with ${exit}`);
    if (stale) problems.push(`${stale} answers from an older release after v${release} took traffic (${args[0]})`);
    if (firstNew === undefined) throw new Error(`v${release} never answered after \`berth ${args.join(' ')}\``);
    return { toTrafficS: (firstNew - started) / 1000, commandS: (command.endedAt! - started) / 1000 };
  };

  log('first deploy (fills the build cache)');
  const first = await timed(['deploy', app], 1);
  const deploys: Timing[] = [];
  for (let i = 0; i < options.deploys; i++) {
    deploys.push(await timed(['deploy', app], i + 2));
    log(`deploy v${i + 2}: ${deploys.at(-1)!.toTrafficS.toFixed(2)} s to traffic`);
  }
  const last = options.deploys + 1;
  await sleep(12_000); // the replaced release drains (10 s) into standby: a warm rollback target
  const warmRollback = await timed(['rollback', 'hello'], last - 1);
  log(`warm rollback: ${warmRollback.toTrafficS.toFixed(2)} s`);
  const coldRollback = await timed(['rollback', 'hello', `v${last - 3}`], last - 3);
  log(`cold rollback: ${coldRollback.toTrafficS.toFixed(2)} s`);

  let memory: RuntimeResult['memory'];
  let memoryLater: RuntimeResult['memory'];
  if (runtime === 'docker') {
    for (let i = 2; i <= options.apps; i++) {
      const code = await runCli(cli, ['deploy', app, '--app', `hello-${i}`], env).exited;
      if (code !== 0) problems.push(`deploying hello-${i} exited with ${code}`);
    }
    log(`${options.apps} apps deployed; waiting for the daemon to settle`);
    await sleep(15_000);
    const proxyPid = pidsWithCmdline(join(data, 'run', 'proxy.sock')).find((pid) => readEnviron(pid)?.BERTH_COMPONENT === 'proxy');
    // The policy worker (src/policy/child.ts) while it is up: a child of the daemon, counted as berth's.
    const policyPid = () => pidsWithCmdline('policy/worker.').find((pid) => readEnviron(pid)?.BERTH_COMPONENT === 'policy' && parentOf(pid) === daemon.pid);
    const sample = () => [
      { role: 'daemon', pid: daemon.pid! },
      ...(proxyPid ? [{ role: 'proxy', pid: proxyPid }] : []),
      ...[policyPid()].filter((pid) => pid !== undefined).map((pid) => ({ role: 'policy worker', pid })),
    ].map((p) => ({ ...p, ...memoryOf(p.pid), anonKb: anonymousKb(p.pid) }));
    memory = { apps: options.apps, processes: sample() };
    await sleep((LATER_SAMPLE_S - 15) * 1000);
    memoryLater = { apps: options.apps, processes: sample() };
  }
  return { runtime, firstDeployS: first.toTrafficS, deploys, warmRollback, coldRollback, ...(memory ? { memory } : {}), ...(memoryLater ? { memoryLater } : {}), problems };
}

function runCli(cli: string, args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const state: { done: boolean; endedAt?: number; exited: Promise<number | null> } = {
    done: false,
    exited: new Promise((resolve) =>
      child.once('exit', (code) => {
        state.done = true;
        state.endedAt = performance.now();
        resolve(code);
      }),
    ),
  };
  return state;
}

async function whichRelease(port: number): Promise<number | undefined> {
  const reply = await httpRequest(`http://127.0.0.1:${port}/`, { headers: { host: 'hello.localhost' }, timeoutMs: 2000 }).catch(() => undefined);
  const match = reply ? /release v(\d+)/.exec(reply.body) : null;
  return match ? Number(match[1]) : undefined;
}

function readApi(data: string): { url: string; pid: number; http: { port: number } } | undefined {
  const file = join(data, 'run', 'api.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/** The parent's pid, from /proc/<pid>/stat (after the command's closing parenthesis: state, then ppid). */
function parentOf(pid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** `Anonymous:` of /proc/<pid>/smaps_rollup, in kB. */
function anonymousKb(pid: number): number {
  return Number(/^Anonymous:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN);
}

const token = (data: string) => readFileSync(join(data, 'admin-token'), 'utf8').trim();

/** Everything labelled with this daemon's owner id (read from its store before the data dir goes). */
async function removeOwned(data: string): Promise<void> {
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(join(data, 'berth.db'), { readOnly: true });
  const owner = (db.prepare("SELECT value FROM settings WHERE key = 'owner_id'").get() as { value: string } | undefined)?.value;
  db.close();
  if (owner) await removeDockerResources(owner);
}

export const medianOf = (timings: Timing[], key: keyof Timing) => median(timings.map((t) => t[key]));
