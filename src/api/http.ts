import type { IncomingMessage, ServerResponse } from 'node:http';
import { fail, isBerthError, type BerthError } from '../errors/catalogue.ts';
import { JsonBodyError, readJson, sendJson } from '../lib/json-http.ts';
import { errorStatus } from './error-status.ts';
import { redactDeep } from './redact-paths.ts';
import { currentRequest } from './request-scope.ts';

export { sendJson };

/** How long the rest of a refused body may take to arrive (and be dropped) before the connection is cut. */
const DRAIN_MS = 10_000;
/** A refusal waits this long, or for this much of the rest of the body, before it is sent (see drainRequest). */
const ANSWER_WAIT_MS = 250;
const ANSWER_WAIT_BYTES = 1024 * 1024;
/** A JSON body must arrive within this: a stalled client does not hold a handler open forever. */
export const JSON_BODY_TIMEOUT_MS = 30_000;
export const JSON_BODY_LIMIT = 1024 * 1024;

/**
 * Writes a catalogue error. Anything else, and INTERNAL errors, are logged in full ("request failed",
 * with the stack) and answered with a plain INTERNAL: their text may name server paths or state. Server
 * paths are replaced in every answer.
 * When the request body was not read (a refusal half-way), the rest of it is read and dropped before the
 * connection may close: closing on a client that is still sending makes its kernel discard our answer
 * and report a reset instead (the "lingering close" of nginx). Past `drainLimit` bytes or 10 s the
 * connection is cut anyway.
 */
export function sendError(res: ServerResponse, error: unknown, req?: IncomingMessage, drainLimit = 1024 ** 3): void {
  const scope = currentRequest();
  if (!isBerthError(error) || error.code === 'INTERNAL') {
    scope?.log.error('request failed', { method: scope.method, path: scope.path, error: error as Error, stack: (error as Error)?.stack });
  }
  const berth: BerthError = isBerthError(error) && error.code !== 'INTERNAL' ? error : fail('INTERNAL', { reason: 'unexpected error' });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (berth.code === 'AUTH_REQUIRED' || berth.code === 'AUTH_INVALID') res.setHeader('www-authenticate', 'Bearer realm="berth"');
  const body = { error: berth.toJSON() };
  const answer = () => {
    if (!res.headersSent && !res.destroyed) sendJson(res, errorStatus[berth.code], scope ? redactDeep(body, scope.redact) : body);
  };
  if (req && !req.complete && !req.destroyed) drainRequest(req, drainLimit, answer);
  else answer();
}

/**
 * Reads and drops the rest of a body. Only the request is destroyed at the limit or the deadline (which
 * closes its connection): by then the socket may be gone or serve another request, so it is never touched.
 */
function drainRequest(req: IncomingMessage, drainLimit: number, answer: () => void): void {
  let dropped = 0;
  // The answer waits for a short rest of the body (most refusals): once the client has sent it all, closing
  // after the answer resets nothing. A long one is answered after a moment and goes on being dropped.
  let answered = false;
  const answerOnce = () => {
    if (answered) return;
    answered = true;
    clearTimeout(soon);
    answer();
  };
  const soon = setTimeout(answerOnce, ANSWER_WAIT_MS);
  const cut = setTimeout(() => req.destroy(), DRAIN_MS);
  cut.unref();
  const done = () => {
    clearTimeout(cut);
    answerOnce();
  };
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > ANSWER_WAIT_BYTES) answerOnce();
    if (dropped > drainLimit) {
      answerOnce();
      req.destroy();
    }
  });
  req.once('end', done).once('close', done).once('error', done);
  req.resume();
}

/** The client went away before its request was whole: nobody is left to answer. */
export class ClientGoneError extends Error {}

/** Reads a JSON body of at most `limit` bytes: BODY_TOO_LARGE, BODY_INVALID, BODY_TIMEOUT, or ClientGoneError. */
export async function readJsonBody(req: IncomingMessage, limit = JSON_BODY_LIMIT, timeoutMs = JSON_BODY_TIMEOUT_MS): Promise<unknown> {
  try {
    return (await readJson(req, limit, timeoutMs)) ?? {};
  } catch (error) {
    if (!(error instanceof JsonBodyError)) throw error;
    switch (error.problem) {
      case 'too-large':
        throw fail('BODY_TOO_LARGE', { limit, json: true });
      case 'not-json':
        throw fail('BODY_INVALID', { reason: 'it is not valid JSON' });
      case 'not-utf8':
        throw fail('BODY_INVALID', { reason: 'it is not valid UTF-8 text' });
      case 'timeout':
        throw fail('BODY_TIMEOUT', { seconds: timeoutMs / 1000 });
      case 'client-gone':
        throw new ClientGoneError(error.message);
    }
  }
}
