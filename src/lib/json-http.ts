import type { IncomingMessage, ServerResponse } from 'node:http';

export type JsonBodyProblem = 'too-large' | 'not-json' | 'not-utf8' | 'timeout' | 'client-gone';

const STATUS: Record<JsonBodyProblem, number> = { 'too-large': 413, 'not-json': 400, 'not-utf8': 400, timeout: 408, 'client-gone': 400 };

/** Why a JSON body could not be read, with the HTTP status that fits; the caller picks the answer. */
export class JsonBodyError extends Error {
  readonly problem: JsonBodyProblem;
  readonly status: number;

  constructor(problem: JsonBodyProblem, message: string) {
    super(message);
    this.name = 'JsonBodyError';
    this.problem = problem;
    this.status = STATUS[problem];
  }
}

/**
 * Reads a JSON request body of at most `limit` bytes (undefined when empty) that arrives within
 * `timeoutMs`, when given. Rejects with a JsonBodyError. On refusal the request is left paused and
 * undestroyed, so the caller can still answer and drain the rest (a client that is still sending reads
 * the answer only then); it never touches the socket.
 */
export function readJson(req: IncomingMessage, limit: number, timeoutMs?: number): Promise<unknown> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.reject(new JsonBodyError('too-large', `body larger than ${limit} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (error: JsonBodyError | undefined, value?: unknown) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onGone).off('close', onGone);
      req.pause();
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) stop(new JsonBodyError('too-large', `body larger than ${limit} bytes`));
      else chunks.push(chunk);
    };
    const onEnd = () => {
      if (size === 0) return stop(undefined, undefined);
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
      } catch {
        return stop(new JsonBodyError('not-utf8', 'body is not valid UTF-8'));
      }
      try {
        stop(undefined, JSON.parse(text));
      } catch {
        stop(new JsonBodyError('not-json', 'body is not valid JSON'));
      }
    };
    // An error or a close before the end: the client went away mid-body.
    const onGone = () => stop(new JsonBodyError('client-gone', 'the client closed the connection before the end of the body'));
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => stop(new JsonBodyError('timeout', `body did not arrive within ${timeoutMs} ms`)), timeoutMs);
    timer?.unref();
    req.on('data', onData).on('end', onEnd).on('error', onGone).on('close', onGone);
    req.resume();
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}
