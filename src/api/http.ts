import type { IncomingMessage, ServerResponse } from 'node:http';
import { fail, isBerthError, type BerthError } from '../errors/catalogue.ts';
import { readJson, sendJson } from '../lib/json-http.ts';
import { errorStatus } from './error-status.ts';

export { sendJson };

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
  try {
    return (await readJson(req, limit)) ?? {};
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 413) throw fail('BODY_TOO_LARGE', { limit, json: true });
    if (status === 400) throw fail('BODY_INVALID', { reason: 'it is not valid JSON' });
    throw error;
  }
}
