/**
 * A webhook receiver for tests: a real HTTP server on 127.0.0.1 that verifies every request's signature
 * as a real receiver would (./signature.ts verifyWebhook) and answers as the test tells it: a status, a
 * hang (never answers), or a huge answer. It can go down and come back on the same port. Test-only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { verifyWebhook } from './signature.ts';

export interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  json: any;
  /** The signature check's verdict (with the receiver's secret; 'unsigned' without one). */
  verified: 'ok' | 'unsigned' | string;
}

export type Behaviour = (request: Received, index: number) => number | 'hang' | 'huge';

export class Receiver {
  readonly received: Received[] = [];
  behaviour: Behaviour = () => 200;
  secret: string | null = null;
  /** A clock for the timestamp check (the controller may run on a manual one). */
  now: () => number = () => Date.now();
  #server: Server | null = null;
  #sockets = new Set<Socket>();
  port = 0;

  async listen(port = this.port): Promise<void> {
    const server = createServer((req, res) => void this.#handle(req, res));
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/T0001/B0002/s3cr3tPathToken`;
  }

  /** Down: the port closes (connections refused) until `listen()` again. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
    let verified = 'unsigned';
    if (this.secret) {
      const verdict = verifyWebhook({ secret: this.secret, body, timestamp: header('x-berth-timestamp'), signature: header('x-berth-signature'), nowMs: this.now() });
      verified = verdict.ok ? 'ok' : verdict.reason;
    }
    let json: unknown = null;
    try {
      json = JSON.parse(body);
    } catch {}
    const received: Received = { headers: req.headers, body, json, verified };
    this.received.push(received);
    const answer = this.behaviour(received, this.received.length - 1);
    if (answer === 'hang') return; // never answers; the client's deadline cuts it
    if (answer === 'huge') {
      res.writeHead(500, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = () => {
        while (sent < 64 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      return pump();
    }
    res.writeHead(answer, { 'content-type': 'text/plain' });
    res.end(answer >= 400 ? `no route for ${req.url}` : 'ok');
  }
}

/** Polls `check` (real time) until true; fails after `ms`. */
export async function until(check: () => boolean, ms = 5000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
