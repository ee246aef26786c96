import { createServer, type Server } from 'node:http';
import { chmodSync, rmSync } from 'node:fs';
import type { RouteTable } from '../dataplane/route-table.ts';
import { routeTableProblems } from '../dataplane/validate-table.ts';
import { readJson, sendJson } from '../lib/json-http.ts';
import type { ProxyServer } from './server.ts';

export interface AdminOptions {
  socketPath: string;
  proxy: ProxyServer;
  /** Called after a table is applied, to persist it. */
  onApply(table: RouteTable): void;
  onStop(): void;
}

/**
 * The proxy's control socket: a Unix socket (mode 0600) only the berth daemon talks to. The daemon
 * pushes whole route tables and reads live stats; nothing here is reachable from the network.
 */
export async function startAdmin(options: AdminOptions): Promise<Server> {
  const { proxy } = options;
  const server = createServer(async (req, res) => {
    try {
      const route = `${req.method} ${req.url}`;
      switch (route) {
        case 'GET /info':
          return sendJson(res, 200, proxy.info());
        case 'GET /stats':
          return sendJson(res, 200, proxy.stats());
        case 'GET /routes':
          return sendJson(res, 200, proxy.table());
        case 'PUT /routes': {
          const table = await readJson(req, 16 * 1024 * 1024);
          const problems = routeTableProblems(table);
          if (problems.length) return sendJson(res, 400, { error: { code: 'ROUTES_INVALID', message: problems.join('; ') } });
          const next = table as RouteTable;
          // An older table must never overwrite a newer one (two daemons racing during a restart).
          if (!proxy.apply(next)) {
            const current = proxy.table().generation;
            return sendJson(res, 409, { error: { code: 'ROUTES_STALE', message: `generation ${next.generation} < ${current}` }, generation: current });
          }
          options.onApply(next);
          return sendJson(res, 200, { generation: next.generation });
        }
        case 'POST /stop':
          sendJson(res, 202, { stopping: true });
          return options.onStop();
        default:
          return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: route } });
      }
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500;
      sendJson(res, status, { error: { code: 'ADMIN_ERROR', message: (error as Error).message } });
    }
  });
  rmSync(options.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => resolve());
  });
  chmodSync(options.socketPath, 0o600);
  return server;
}
