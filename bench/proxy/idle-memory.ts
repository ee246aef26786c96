/**
 * Idle memory of a real berth installation: the daemon started as a user starts it, left alone for a
 * few seconds, then every berth process measured from /proc and the whole thing shut down through the API.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LONG_RUNNING_NODE_FLAGS } from '../../src/lib/node-flags.ts';
import { unixRequest } from '../../src/lib/unix-http.ts';
import type { Cleanup } from '../lib/cleanup.ts';
import { httpRequest } from '../lib/http.ts';
import { isDead, readEnviron, readStat } from '../../src/lib/proc.ts';
import { cmdlineOf, memoryOf, pidsWithCmdline, processTree, sleep, spawnGroup, tail, waitFor, type Child } from '../lib/procs.ts';

const isAlive = (pid: number) => !isDead(readStat(pid));

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
  /** Plain Node processes measured the same way, for scale; not berth's. */
  references: IdleProcess[];
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
  data: string;
  child: Child;
  command: string;
  api: { url: string; pid: number };
}

export async function measureIdleMemory(options: Options): Promise<IdleMemory> {
  const dataRoot = join(options.dir, 'berth-data');
  // Whatever berth starts carries its data directory on its command line (the proxy's --socket): that
  // is how stragglers are found even if the daemon died before telling us about them.
  options.cleanup.add('kill berth processes left in the data directory', () => {
    for (const pid of pidsWithCmdline(dataRoot)) process.kill(pid, 'SIGKILL');
  });
  const flags = (data: string) => ['--data', data, '--api', '127.0.0.1:0', '--http', '127.0.0.1:0', '--https', '127.0.0.1:0'];
  let fallbackReason: string | undefined;
  let started: Started;
  try {
    const data = `${dataRoot}-cli`;
    // dist/ is what bin/berth runs after `npm ci`: the same code with its types stripped ahead of time.
    // As bin/berth starts it: with berth's flags for long-running processes (src/lib/node-flags.ts).
    started = await startDaemon(options, data, 'cli', [...LONG_RUNNING_NODE_FLAGS, join(options.root, 'dist/cli/main.js'), 'server', ...flags(data)], `node ${LONG_RUNNING_NODE_FLAGS.join(' ')} dist/cli/main.js server ${flags('<tmp>').join(' ')}`);
  } catch (error) {
    fallbackReason = (error as Error).message.split('\n')[0];
    options.log(`berth server via the CLI failed (${fallbackReason}); falling back to src/server/start.ts`);
    // A fresh data directory: the failed attempt may have left a lock or half-written state behind.
    const data = `${dataRoot}-start`;
    const script = [
      `const { resolveServerConfig } = await import(${JSON.stringify(join(options.root, 'src/server/config.ts'))});`,
      `const { startServer } = await import(${JSON.stringify(join(options.root, 'src/server/start.ts'))});`,
      `const server = await startServer(resolveServerConfig({ data: ${JSON.stringify(data)}, api: '127.0.0.1:0', http: '127.0.0.1:0' }));`,
      'await server.stopped; process.exit(0);',
    ].join(' ');
    started = await startDaemon(options, data, 'start.ts', ['--input-type=module', '-e', script], `node -e "import('./src/server/start.ts') … startServer(resolveServerConfig({ data, api: '127.0.0.1:0', http: '127.0.0.1:0' }))"`);
  }
  const { data } = started;

  await sleep(options.idleWaitMs);
  const proxyPid = (await unixRequest<{ pid: number }>(join(data, 'run', 'proxy.sock'), 'GET', '/info', undefined, 2000)).body.pid;
  if (readEnviron(proxyPid)?.BERTH_COMPONENT !== 'proxy') throw new Error(`pid ${proxyPid} from the proxy's /info is not marked BERTH_COMPONENT=proxy`);
  const pids = new Set([...processTree(started.child.pid), started.api.pid, proxyPid, ...pidsWithCmdline(data)]);
  const processes: IdleProcess[] = [...pids].map((pid) => ({
    role: pid === started.api.pid ? 'daemon' : pid === proxyPid ? 'proxy' : 'other',
    pid,
    command: shortCommand(cmdlineOf(pid), options, data),
    ...memoryOf(pid),
  }));

  const problems = await shutdown(started, data, [...pids]);
  const references = await nodeBaselines(options);
  return { command: started.command, fallbackReason, processes, references, problems };
}

/**
 * What any Node 24 process costs before berth's code: an empty script, and an empty script run through
 * type stripping (what berth's processes would cost run from src/ instead of dist/). Measured after berth is down and side by side, so that,
 * like berth's two processes, they share the Node binary's pages with each other and this benchmark.
 */
async function nodeBaselines(options: Options): Promise<IdleProcess[]> {
  const tsFile = join(options.dir, 'idle.ts');
  writeFileSync(tsFile, 'const forever: number = 1 << 30;\nsetInterval(() => {}, forever);\n');
  const variants = [
    { role: 'reference: empty Node process', args: ['-e', 'setInterval(() => {}, 1 << 30)'], command: 'node -e "setInterval(() => {}, 1 << 30)"' },
    { role: 'reference: empty .ts file', args: [tsFile], command: 'node idle.ts (2 lines of TypeScript)' },
  ];
  const children = variants.map((v) => {
    const child = spawnGroup(v.role, options.node, v.args, { logFile: join(options.dir, 'baseline.log') });
    options.cleanup.add(`stop ${v.role}`, () => child.stop());
    return child;
  });
  try {
    await sleep(options.idleWaitMs);
    return variants.map((v, i) => ({ role: v.role, pid: children[i].pid, command: v.command, ...memoryOf(children[i].pid) }));
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}

/** A command line as the report shows it: `node src/…`, with the temp data directory as <data>. */
function shortCommand(cmdline: string, options: Options, data: string): string {
  const root = options.root.endsWith('/') ? options.root : `${options.root}/`;
  return cmdline.replace(options.node, 'node').replaceAll(data, '<data>').replaceAll(root, '');
}

async function startDaemon(options: Options, data: string, name: string, args: string[], command: string): Promise<Started> {
  mkdirSync(data, { recursive: true });
  const logFile = join(options.dir, `berth-daemon-${name}.log`);
  const child = spawnGroup(`berth daemon (${name})`, options.node, args, { cwd: options.root, logFile });
  options.cleanup.add(`stop berth daemon (${name})`, () => child.stop(5000));
  const apiFile = join(data, 'run', 'api.json');
  try {
    const api = await waitFor('berth daemon', () => (existsSync(apiFile) ? (JSON.parse(readFileSync(apiFile, 'utf8')) as Started['api']) : undefined), 30_000, () =>
      child.exit ? `exited (${child.exit.signal ?? child.exit.code}): ${tail(logFile, 5)}` : undefined,
    );
    return { data, child, command, api };
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
