import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { chmodSync, rmSync } from 'node:fs';
import { InvalidCertificateSetError, type CertificateSet, type RouteTable } from '../dataplane/route-table.ts';
import { challengeProblems } from '../dataplane/validate-challenges.ts';
import { routeTableProblems } from '../dataplane/validate-table.ts';
import { readJson, sendJson } from '../lib/json-http.ts';
import type { ProxyServer } from './server.ts';

export interface AdminOptions {
  socketPath: string;
  proxy: ProxyServer;
  /** Called after a table is applied, to persist it. */
  onApply(table: RouteTable): void;
  /** Called after a certificate set is applied, to persist it (sealed). */
  onCertificates(set: CertificateSet): void;
  onStop(): void;
}

/** A whole set: a few thousand chains and keys of a few KiB each. */
const CERTIFICATES_BODY_LIMIT = 64 * 1024 * 1024;
const CHALLENGES_BODY_LIMIT = 1024 * 1024;

/**
 * The proxy's control socket: a Unix socket (mode 0600) only the berth daemon talks to. The daemon
 * pushes whole route tables, certificate sets and challenge answers, and reads live stats; nothing here
 * is reachable from the network, and no answer carries a private key.
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
        case 'GET /certificates':
          return sendJson(res, 200, proxy.certificates());
        case 'PUT /certificates':
          return await putCertificates(req, res, options);
        case 'PUT /challenges': {
          const challenges = await readJson(req, CHALLENGES_BODY_LIMIT);
          const problems = challengeProblems(challenges);
          if (problems.length) return sendJson(res, 400, { error: { code: 'CHALLENGES_INVALID', message: problems.join('; ') } });
          proxy.setChallenges(challenges as Record<string, string>);
          return sendJson(res, 200, { tokens: Object.keys(challenges as object).length });
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

/** `PUT /certificates`: 400 with every problem for an invalid set, 409 for an older one; the answer never echoes a key. */
async function putCertificates(req: IncomingMessage, res: ServerResponse, options: AdminOptions): Promise<void> {
  const set = (await readJson(req, CERTIFICATES_BODY_LIMIT)) as CertificateSet;
  let taken: boolean;
  try {
    taken = options.proxy.applyCertificates(set);
  } catch (error) {
    if (!(error instanceof InvalidCertificateSetError)) throw error;
    return sendJson(res, 400, { error: { code: 'CERTIFICATES_INVALID', message: error.message, problems: error.problems } });
  }
  if (!taken) {
    const current = options.proxy.certificates().generation;
    return sendJson(res, 409, { error: { code: 'CERTIFICATES_STALE', message: `generation ${set.generation} < ${current}` }, generation: current });
  }
  options.onCertificates(set);
  sendJson(res, 200, { generation: set.generation });
}
