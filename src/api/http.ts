import type { IncomingMessage, ServerResponse } from 'node:http';
import { fail, isBerthError, type BerthError } from '../errors/catalogue.ts';
import { errorStatus } from './error-status.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * Writes a catalogue error; anything else becomes INTERNAL (its message stays in the server log).
 * When the request body was not read (an upload refused half-way), the rest of it is read and dropped
 * before the connection may close: closing on a client that is still sending makes its kernel discard
 * our answer and report a reset instead (the "lingering close" of nginx). Past `drainLimit` bytes or
 * 10 s the connection is cut anyway.
 */
export function sendError(res: ServerResponse, error: unknown, req?: IncomingMessage, drainLimit = 1024 ** 3): void {
  const berth: BerthError = isBerthError(error) ? error : fail('INTERNAL', { reason: 'unexpected error' });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (berth.code === 'AUTH_REQUIRED' || berth.code === 'AUTH_INVALID') res.setHeader('www-authenticate', 'Bearer realm="berth"');
  if (req && !req.complete) {
    let dropped = 0;
    const cut = setTimeout(() => req.socket.destroy(), 10_000);
    cut.unref();
    req.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (dropped > drainLimit) req.socket.destroy();
    });
    req.once('end', () => clearTimeout(cut));
    req.resume();
  }
  sendJson(res, errorStatus[berth.code], { error: berth.toJSON() });
}

/** Reads a JSON body of at most `limit` bytes. */
export async function readJsonBody(req: IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw fail('BODY_TOO_LARGE', { limit });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw fail('BODY_TOO_LARGE', { limit });
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw fail('BODY_INVALID', { reason: 'it is not valid JSON' });
  }
}
