/** `berth down`: stops the berth server (and, unless --keep-apps, every app) and waits until it is gone. */
import { resolve } from 'node:path';
import { isBerthError } from '../../errors/catalogue.ts';
import { systemClock } from '../../lib/clock.ts';
import { isDead, readStat } from '../../lib/proc.ts';
import { dataFiles, defaultDataDir } from '../../server/config.ts';
import { parseCommandArgs, type CommandSpec, type Globals } from '../args.ts';
import { ApiClient } from '../client.ts';
import type { Context } from '../context.ts';
import { localUrl, readLocalServer, type Target } from '../config.ts';
import { CliError } from '../errors.ts';

export const spec: CommandSpec = {
  name: 'down',
  usage: 'berth down [--keep-apps] [--data DIR]',
  summary: 'Stop the berth server and its apps.',
  details: [
    'Stops the server berth talks to (see --url); with --data, the local server of that data directory. Waits until the server process has exited. --json prints `{ url, stopped, stopApps }`.',
    'Stopping the apps stops their instances and their services (Redis, Postgres); service volumes are kept, and the next `berth server` starts every app again as it was.',
  ],
  flags: {
    'keep-apps': { type: 'boolean', doc: 'leave the proxy, app instances and services running; the next `berth server` takes them over' },
    data: { type: 'string', value: 'DIR', doc: 'stop the local server of this data directory' },
  },
  args: [],
};

export interface DownArgs {
  globals: Globals;
  keepApps: boolean;
  data?: string;
}

export function parse(argv: string[]): DownArgs {
  const { flags, globals } = parseCommandArgs(spec, argv);
  const args: DownArgs = { globals, keepApps: flags['keep-apps'] === true };
  if (typeof flags.data === 'string') args.data = flags.data;
  return args;
}

const STOP_TIMEOUT_MS = 60_000;
const POLL_MS = 200;

/** Still running. kill(pid, 0) also finds a zombie (exited, not reaped yet): /proc tells them apart where there is one. */
export function processAlive(pid: number): boolean {
  const stat = readStat(pid);
  if (stat) return !isDead(stat);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const unreachable = (error: unknown) => isBerthError(error) && error.code === 'DAEMON_UNREACHABLE';

export async function run(args: DownArgs, ctx: Context): Promise<number> {
  const dataDir = args.data ? resolve(ctx.io.cwd, args.data) : defaultDataDir(ctx.io.env);
  const local = await readLocalServer(dataDir);
  const target: Target = args.data ? { url: localUrl(local), token: local.adminToken, source: 'local' } : await ctx.target();
  const client = new ApiClient({ url: target.url, token: target.token });
  const stopApps = !args.keepApps;
  const report = (stopped: boolean, text: string) => {
    ctx.io.stdout.write(ctx.globals.json ? JSON.stringify({ url: target.url, stopped, stopApps }) + '\n' : text);
    return 0;
  };
  try {
    await client.request('POST', '/v1/system/shutdown', { body: { stopApps } });
  } catch (error) {
    if (unreachable(error)) return report(false, `no berth server is running at ${target.url}; nothing to stop\n`);
    throw error;
  }
  // The pid is only ours to watch when the server is the local one whose api.json we read.
  const pid = local.apiInfo?.pid !== undefined && localUrl(local) === target.url ? local.apiInfo.pid : undefined;
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  for (;;) {
    const gone = pid !== undefined ? !processAlive(pid) : await client.get('/v1/info', { timeoutMs: 2000 }).then(() => false, (error) => unreachable(error));
    if (gone) break;
    if (Date.now() > deadline) {
      throw new CliError(`the berth server at ${target.url} is still running ${STOP_TIMEOUT_MS / 1000}s after it was asked to stop`, `its log may say why: ${dataFiles(dataDir).daemonLog}`);
    }
    await systemClock.sleep(POLL_MS);
  }
  return report(true, `stopped the berth server at ${target.url}${stopApps ? ' and every app' : '; apps keep running'}\n`);
}
