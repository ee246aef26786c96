/**
 * The other side of the differential: an upstream app built on Node's own HTTP parser (llhttp, not
 * berth's), which records every request it reads in full, per connection, and answers each with a small
 * JSON body naming what it read. A request berth did not parse as one (a smuggled head inside a body, a
 * body cut short) shows up here as an extra, missing or different record.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';

export interface Recorded {
  connection: number;
  method: string;
  url: string;
  headers: IncomingMessage['rawHeaders'];
  body: Buffer;
  upgrade: boolean;
}

export interface Recorder {
  readonly port: number;
  readonly requests: Recorded[];
  /** Requests llhttp refused (it answered 400 and closed): each is a framing disagreement. */
  readonly parseErrors: string[];
  close(): Promise<void>;
}

export async function startRecorder(): Promise<Recorder> {
  const requests: Recorded[] = [];
  const parseErrors: string[] = [];
  const sockets = new Set<Socket>();
  const ids = new WeakMap<Socket, number>();
  let connections = 0;
  const server: Server = createServer({ requireHostHeader: false }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ connection: ids.get(req.socket) ?? -1, method: req.method!, url: req.url!, headers: req.rawHeaders, body, upgrade: false });
      const text = JSON.stringify({ method: req.method, url: req.url, length: body.length });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  server.on('connection', (socket: Socket) => {
    ids.set(socket, ++connections);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
    if (error.code !== 'ECONNRESET') parseErrors.push(`${error.code ?? ''} ${error.message}`);
    socket.destroy();
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    requests.push({ connection: ids.get(socket) ?? -1, method: req.method!, url: req.url!, headers: req.rawHeaders, body: Buffer.alloc(0), upgrade: true });
    socket.end(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade}\r\n\r\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    requests,
    parseErrors,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
