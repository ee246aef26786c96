/**
 * Idle memory of a real berth installation: the daemon started as a user starts it, left alone for a
 * few seconds, then every berth process measured from /proc and the whole thing shut down through the API.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unixRequest } from '../../src/lib/unix-http.ts';
import type { Cleanup } from '../lib/cleanup.ts';
import { httpRequest } from '../lib/http.ts';
import { cmdlineOf, environOf, isAlive, memoryOf, pidsWithCmdline, processTree, sleep, spawnGroup, tail, waitFor, type Child } from '../lib/procs.ts';

export interface IdleProcess {
  role: string;
  pid: number;
  command: string;
  rssKb: number;
  pssKb: number;
}

export interface IdleMemory {
  /** The command that started the daemon, as the report shows it. */
  command: string;
  /** Why the CLI was not used, when it was not. */
  fallbackReason?: string;
  processes: IdleProcess[];
  /** Problems on the way down (processes that had to be killed). */
  problems: string[];
}

interface Options {
  idleWaitMs: number;
  node: string;
  root: string;
  dir: string;
  cleanup: Cleanup;
  log(line: string): void;
}

interface Started {
  child: Child;
  command: string;
  api: { url: string; pid: number };
}

export async function measureIdleMemory(options: Options): Promise<IdleMemory> {
  const data = join(options.dir, 'berth-data');
  mkdirSync(data, { recursive: true });
  // Whatever berth starts carries the data directory on its command line (the proxy's --socket): that
  // is how stragglers are found even if the daemon died before telling us about them.
  options.cleanup.add('kill berth processes left in the data directory', () => {
    for (const pid of pidsWithCmdline(data)) process.kill(pid, 'SIGKILL');
  });
  const flags = ['--data', data, '--api', '127.0.0.1:0', '--http', '127.0.0.1:0'];
  let fallbackReason: string | undefined;
  let started: Started;
  try {
    started = await startDaemon(options, data, 'cli', [join(options.root, 'src/cli/main.ts'), 'server', ...flags], `node src/cli/main.ts server ${flags.join(' ')}`);
  } catch (error) {
    fallbackReason = (error as Error).message.split('\n')[0];
    options.log(`berth server via the CLI failed (${fallbackReason}); falling back to src/server/start.ts`);
    const script = [
      `const { resolveServerConfig } = await import(${JSON.stringify(join(options.root, 'src/server/config.ts'))});`,
      `const { startServer } = await import(${JSON.stringify(join(options.root, 'src/server/start.ts'))});`,
      `const server = await startServer(resolveServerConfig({ data: ${JSON.stringify(data)}, api: '127.0.0.1:0', http: '127.0.0.1:0' }));`,
      'await server.stopped; process.exit(0);',
    ].join(' ');
    started = await startDaemon(options, data, 'start.ts', ['--input-type=module', '-e', script], `node -e "import('./src/server/start.ts') … startServer(resolveServerConfig({ data, api: '127.0.0.1:0', http: '127.0.0.1:0' }))"`);
  }

  await sleep(options.idleWaitMs);
  const proxyPid = (await unixRequest<{ pid: number }>(join(data, 'run', 'proxy.sock'), 'GET', '/info', undefined, 2000)).body.pid;
  if (environOf(proxyPid).BERTH_COMPONENT !== 'proxy') throw new Error(`pid ${proxyPid} from the proxy's /info is not marked BERTH_COMPONENT=proxy`);
  const pids = new Set([...processTree(started.child.pid), started.api.pid, proxyPid, ...pidsWithCmdline(data)]);
  const processes: IdleProcess[] = [...pids].map((pid) => ({
    role: pid === started.api.pid ? 'daemon' : pid === proxyPid ? 'proxy' : 'other',
    pid,
    command: cmdlineOf(pid).replaceAll(options.root + '/', '').replaceAll(data, '<data>'),
    ...memoryOf(pid),
  }));

  const problems = await shutdown(started, data, [...pids]);
  return { command: started.command, fallbackReason, processes, problems };
}

async function startDaemon(options: Options, data: string, name: string, args: string[], command: string): Promise<Started> {
  const logFile = join(options.dir, `berth-daemon-${name}.log`);
  const child = spawnGroup(`berth daemon (${name})`, options.node, args, { cwd: options.root, logFile });
  options.cleanup.add(`stop berth daemon (${name})`, () => child.stop(5000));
  const apiFile = join(data, 'run', 'api.json');
  try {
    const api = await waitFor('berth daemon', () => (existsSync(apiFile) ? (JSON.parse(readFileSync(apiFile, 'utf8')) as Started['api']) : undefined), 30_000, () =>
      child.exit ? `exited (${child.exit.signal ?? child.exit.code}): ${tail(logFile, 5)}` : undefined,
    );
    return { child, command, api };
  } catch (error) {
    await child.stop();
    for (const pid of pidsWithCmdline(data)) process.kill(pid, 'SIGKILL');
    throw error;
  }
}

/** `POST /v1/system/shutdown` with `stopApps`, then every process must be gone; stragglers are killed and reported. */
async function shutdown(started: Started, data: string, pids: number[]): Promise<string[]> {
  const problems: string[] = [];
  const token = readFileSync(join(data, 'admin-token'), 'utf8').trim();
  const reply = await httpRequest(`${started.api.url}/v1/system/shutdown`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ stopApps: true }),
  });
  if (reply.status >= 300) problems.push(`shutdown answered ${reply.status}: ${reply.body.slice(0, 200)}`);
  try {
    await waitFor('berth shutdown', () => (pids.some(isAlive) ? undefined : true), 15_000);
  } catch {
    for (const pid of pids.filter(isAlive)) {
      problems.push(`pid ${pid} (${cmdlineOf(pid)}) was still running 15 s after the shutdown request; killed`);
      process.kill(pid, 'SIGKILL');
    }
  }
  await started.child.stop();
  const left = pidsWithCmdline(data);
  if (left.length) problems.push(`still running after shutdown: ${left.join(', ')}`);
  return problems;
}
