import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { frame, readFrame } from '../fixtures/apps/versioned/ws.js';

export interface TestWsClient {
  send(text: string): void;
  messages: string[];
  /** Resolves when the server's close frame arrives (code 1006 when the TCP connection just ends). */
  closed: Promise<{ code: number; at: number }>;
  end(): void;
}

/**
 * A minimal WebSocket client over a raw socket, so tests can set the Host header (the platform
 * WebSocket cannot) and see exactly which close frame the proxy sends.
 */
export function openWs(options: { port: number; host: string; path?: string; timeoutMs?: number }): Promise<TestWsClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(options.port, '127.0.0.1');
    const key = randomBytes(16).toString('base64');
    const messages: string[] = [];
    let buf = Buffer.alloc(0);
    let open = false;
    let closeCode: number | undefined;
    let resolveClosed!: (v: { code: number; at: number }) => void;
    const closed = new Promise<{ code: number; at: number }>((r) => (resolveClosed = r));
    const timer = setTimeout(() => reject(new Error('websocket handshake timed out')), options.timeoutMs ?? 5000);
    socket.on('error', (error) => (open ? undefined : reject(error)));
    socket.on('close', () => resolveClosed({ code: closeCode ?? 1006, at: Date.now() }));
    socket.write(
      `GET ${options.path ?? '/ws'} HTTP/1.1\r\nHost: ${options.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const client: TestWsClient = {
      messages,
      closed,
      send(text) {
        socket.write(frame(0x1, Buffer.from(text), randomBytes(4)));
      },
      end() {
        socket.destroy();
      },
    };
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!open) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.subarray(0, end).toString();
        if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`no upgrade: ${head.split('\r\n')[0]}`));
        open = true;
        clearTimeout(timer);
        buf = buf.subarray(end + 4);
        resolve(client);
      }
      for (let next = readFrame(buf); next; next = readFrame(buf)) {
        const { opcode, payload } = next;
        buf = buf.subarray(next.size);
        if (opcode === 0x1) messages.push(payload.toString());
        if (opcode === 0x8) {
          closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          socket.end(frame(0x8, payload.subarray(0, 2), randomBytes(4)));
        }
      }
    });
  });
}
