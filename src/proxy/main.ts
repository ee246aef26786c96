/**
 * The data-plane process: `node src/proxy/main.ts --listen HOST:PORT --socket PATH --state PATH`.
 * It runs apart from the control plane so that restarting or upgrading the berth daemon never drops
 * app traffic: it keeps serving its last route table, and reloads it from disk if it restarts itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { emptyRouteTable, type RouteTable } from '../dataplane/route-table.ts';
import { routeTableProblems } from '../dataplane/validate-table.ts';
import { writeFileAtomicAsync } from '../lib/atomic-file.ts';
import { parseHostPort } from '../lib/host-port.ts';
import { createLogger } from '../lib/log.ts';
import { startAdmin } from './admin.ts';
import { startProxyServer } from './server.ts';

export async function runProxyProcess(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string' },
      socket: { type: 'string' },
      state: { type: 'string' },
      version: { type: 'string', default: '0' },
      'drain-grace': { type: 'string', default: '10000' },
    },
  });
  const log = createLogger({ fields: { component: 'proxy', pid: process.pid } });
  const listen = values.listen ? parseHostPort(values.listen) : undefined;
  if (!listen || !values.socket || !values.state) {
    log.error('usage: main.ts --listen HOST:PORT --socket PATH --state PATH');
    process.exit(2);
  }
  const statePath = values.state;
  const table = loadTable(statePath, (m) => log.warn(m));

  const proxy = await startProxyServer({ host: listen.host, port: listen.port, reusePort: true, version: values.version });
  proxy.apply(table);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log.info('stopping: draining connections');
    admin.close();
    await proxy.close(Number(values['drain-grace']));
    await saver.saved();
    log.info('stopped');
    process.exit(0);
  };
  const saver = tableSaver(statePath, (m) => log.warn(m));
  const admin = await startAdmin({
    socketPath: values.socket,
    proxy,
    onApply: (t) => saver.save(t),
    onStop: () => void stop(),
  });
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  log.info('proxy ready', { address: proxy.address, generation: table.generation, apps: Object.keys(table.apps).length });
}

/**
 * Saves the table the proxy serves, for its own restart, without stalling traffic on the disk: one
 * write at a time, and of the tables that arrive meanwhile only the newest is written next.
 */
function tableSaver(path: string, warn: (message: string) => void) {
  let next: RouteTable | null = null;
  let writing: Promise<void> | null = null;
  const drain = async () => {
    while (next !== null) {
      const table = next;
      next = null;
      await writeFileAtomicAsync(path, JSON.stringify(table)).catch((error) => warn(`route table not saved to ${path}: ${(error as Error).message}`));
    }
    writing = null;
  };
  return {
    save(table: RouteTable): void {
      next = table;
      writing ??= drain();
    },
    saved: (): Promise<void> => writing ?? Promise.resolve(),
  };
}

function loadTable(path: string, warn: (message: string) => void): RouteTable {
  if (!existsSync(path)) return emptyRouteTable();
  try {
    const table = JSON.parse(readFileSync(path, 'utf8'));
    const problems = routeTableProblems(table);
    if (problems.length === 0) return table;
    warn(`ignoring saved route table ${path}: ${problems.join('; ')}`);
  } catch (error) {
    warn(`ignoring unreadable route table ${path}: ${(error as Error).message}`);
  }
  return emptyRouteTable();
}

if (import.meta.main) {
  runProxyProcess(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`proxy failed to start: ${(error as Error).stack}\n`);
    process.exit(1);
  });
}
