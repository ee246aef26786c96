import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RouteTable, Target } from '../dataplane/route-table.ts';
import { acceptWebSocket } from '../../test/fixtures/apps/versioned/ws.js';

/** A real upstream app for proxy tests: records what reached it and answers as the handler says. */
export interface TestUpstream {
  server: Server;
  port: number;
  address: string;
  /** TCP connections the upstream accepted (to prove keep-alive reuse). */
  connections: number;
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

export async function startUpstream(
  name: string,
  handler?: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<TestUpstream> {
  const sockets = new Set<Socket>();
  const up: TestUpstream = {
    server: undefined as unknown as Server,
    port: 0,
    address: '',
    connections: 0,
    requests: [],
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => up.server.close(() => r()));
    },
  };
  up.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      up.requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (handler) return handler(req, res, body);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name, url: req.url, received: body.length }));
    });
  });
  up.server.on('connection', (s: Socket) => {
    up.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  up.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    sockets.add(socket);
    acceptWebSocket(req, socket, head, (ws) => {
      ws.on('message', (text) => ws.send(`${name}:${text}`));
    });
  });
  await new Promise<void>((r) => up.server.listen(0, '127.0.0.1', () => r()));
  up.port = (up.server.address() as { port: number }).port;
  up.address = `127.0.0.1:${up.port}`;
  return up;
}

let generation = 0;

/** A route table for one app from a list of upstreams. */
export function tableFor(app: string, hosts: string[], targets: Partial<Target>[], drainTimeoutMs = 2000): RouteTable {
  return {
    generation: ++generation,
    apps: {
      [app]: {
        hosts,
        drainTimeoutMs,
        targets: targets.map((t, i) => ({ id: t.id ?? `t${i}`, release: t.release ?? 'v1', address: t.address!, weight: t.weight ?? 1, state: t.state ?? 'active' })),
      },
    },
  };
}
