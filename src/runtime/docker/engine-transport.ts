/**
 * HTTP to the Docker Engine over its Unix socket, with node:http only. Two shapes of call:
 * `call` (request/response JSON on the engine's keep-alive agent) and `open` (a streaming response on a
 * connection of its own, so a long-lived stream never holds, or poisons, a pooled socket).
 *
 * Every path carries the API version negotiated with the engine (./engine-version.ts): asked once, on the
 * first call, with an unversioned GET /version, and kept for the transport's life.
 */
import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import { chooseApiVersion, OLDEST_API_VERSION, type EngineApiRange } from './engine-version.ts';

/**
 * An answer the engine gave (`status` is its HTTP status, `message` its `{message}`), or no answer at all:
 * `status` 0 means the socket could not be reached, the call timed out or the connection dropped.
 */
export class EngineError extends Error {
  readonly status: number;

  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
    this.status = status;
  }
}

/**
 * The engine speaks no API version berth works with. Status 400 is what an engine answers a client
 * version it does not support.
 */
export class EngineTooOldError extends EngineError {
  /** The newest API version the engine speaks. */
  readonly apiVersion: string;

  constructor(apiVersion: string) {
    super(400, `Docker Engine API ${apiVersion} is older than the ${OLDEST_API_VERSION} berth needs: upgrade Docker`);
    this.name = 'EngineTooOldError';
    this.apiVersion = apiVersion;
  }
}

export type Query = Record<string, string | number | boolean | string[] | undefined>;

export interface CallOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Statuses at or above 300 the caller handles itself (such as 304 and 404) instead of an EngineError. */
  accept?: number[];
  timeoutMs?: number;
  /** Send the path without a version and without negotiating first: `/_ping` answers on every version. */
  unversioned?: boolean;
}

export interface OpenOptions {
  query?: Query;
  /** A stream is sent as is (with `contentType`), anything else as JSON. */
  body?: Readable | unknown;
  contentType?: string;
  /** More request headers, such as X-Registry-Auth (never logged: the value may hold credentials). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface EngineTransport {
  readonly socketPath: string;
  /** The API version every versioned path carries (`1.47`): negotiated on the first call, then kept. */
  apiVersion(): Promise<string>;
  call<T = unknown>(method: string, path: string, options?: CallOptions): Promise<{ status: number; body: T }>;
  /** Resolves with the response once its headers arrive with a status below 400; the caller reads the body. */
  open(method: string, path: string, options?: OpenOptions): Promise<IncomingMessage>;
}

export function createTransport(options: { socketPath: string; timeoutMs: number }): EngineTransport {
  const { socketPath } = options;
  // Idle pooled sockets are unref'd by the agent, so an engine never keeps a process alive.
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });

  const unreachable = (error: unknown, what: string) =>
    error instanceof EngineError ? error : new EngineError(0, `${what}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });

  // Negotiated once and shared by concurrent first calls. A failure is not kept: the engine may be
  // started, or upgraded, by the time of the next call.
  let negotiated: Promise<string> | undefined;
  const negotiate = async () => {
    const { body } = await send<EngineApiRange | string | undefined>('GET', '/version', undefined, {}, false);
    const choice = chooseApiVersion(typeof body === 'object' && body !== null ? body : {});
    if ('tooOld' in choice) throw new EngineTooOldError(choice.tooOld);
    return choice.version;
  };
  const apiVersion = (): Promise<string> => {
    if (negotiated) return negotiated;
    const attempt: Promise<string> = negotiate().catch((error: unknown) => {
      if (negotiated === attempt) negotiated = undefined;
      throw error;
    });
    return (negotiated = attempt);
  };
  // Docker upgraded (or downgraded) under a running berth refuses the kept version; the next call asks again.
  const refused = (error: EngineError) => {
    if (error.status === 400 && /client version \S+ is too (old|new)/i.test(error.message)) negotiated = undefined;
    return error;
  };

  const send = <T>(method: string, path: string, version: string | undefined, callOptions: CallOptions, retried: boolean): Promise<{ status: number; body: T }> =>
    new Promise((resolve, reject) => {
      const timeoutMs = callOptions.timeoutMs ?? options.timeoutMs;
      const payload = callOptions.body === undefined ? undefined : JSON.stringify(callOptions.body);
      let answered = false;
      const req = request(
        {
          socketPath,
          agent,
          method,
          path: apiPath(version, path, callOptions.query),
          timeout: timeoutMs,
          headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          answered = true;
          readAll(res).then((text) => {
            const status = res.statusCode ?? 0;
            if (status >= 300 && !callOptions.accept?.includes(status)) return reject(refused(answerError(status, text, `${method} ${path}`)));
            try {
              resolve({ status, body: (text && isJson(res) ? JSON.parse(text) : text || undefined) as T });
            } catch (error) {
              reject(new EngineError(0, `${method} ${path}: the engine sent invalid JSON`, { cause: error }));
            }
          }, (error) => reject(unreachable(error, `${method} ${path}: the connection dropped`)));
        },
      );
      req.on('timeout', () => req.destroy(new EngineError(0, `${method} ${path}: no answer from the Docker engine within ${timeoutMs} ms`)));
      req.on('error', (error: NodeJS.ErrnoException) => {
        // The engine may close a pooled socket while it idles; the request never reached it, so once more is safe.
        if (!retried && !answered && req.reusedSocket && error.code === 'ECONNRESET') return send<T>(method, path, version, callOptions, true).then(resolve, reject);
        reject(unreachable(error, `cannot reach the Docker engine at ${socketPath}`));
      });
      req.end(payload);
    });

  return {
    socketPath,
    apiVersion,
    call: async (method, path, callOptions = {}) => send(method, path, callOptions.unversioned ? undefined : await apiVersion(), callOptions, false),
    open: async (method, path, openOptions = {}) => {
      const { signal } = openOptions;
      if (signal?.aborted) throw signal.reason;
      let version: string;
      try {
        version = await apiVersion();
      } catch (error) {
        // The stream body was never read: release what it holds (a file, a tar being written).
        if (isReadable(openOptions.body)) openOptions.body.destroy();
        throw signal?.aborted ? signal.reason : error;
      }
      return new Promise<IncomingMessage>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const streamBody = isReadable(openOptions.body) ? openOptions.body : undefined;
        const payload = streamBody || openOptions.body === undefined ? undefined : JSON.stringify(openOptions.body);
        const headers: Record<string, string | number> = { ...openOptions.headers };
        if (streamBody) headers['content-type'] = openOptions.contentType ?? 'application/octet-stream';
        if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });

        let req: ClientRequest | undefined = undefined;
        const onAbort = () => req?.destroy(signal!.reason as Error);
        req = request({ socketPath, agent: false, method, path: apiPath(version, path, openOptions.query), headers }, (res) => {
          const status = res.statusCode ?? 0;
          if (status < 400) {
            res.once('close', () => signal?.removeEventListener('abort', onAbort));
            return resolve(res);
          }
          signal?.removeEventListener('abort', onAbort);
          readAll(res).then((text) => reject(refused(answerError(status, text, `${method} ${path}`))), reject);
        });
        req.on('error', (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(signal?.aborted ? signal.reason : unreachable(error, `cannot reach the Docker engine at ${socketPath}`));
        });
        signal?.addEventListener('abort', onAbort, { once: true });
        if (streamBody) {
          // A failing source (a context that could not be read) ends the request with its own error.
          pipeline(streamBody, req, (error) => {
            if (error) req!.destroy(error);
          });
        } else {
          req.end(payload);
        }
      });
    },
  };
}

/**
 * `/v1.41/containers/json?all=1&filters=...` (no version prefix when `version` is undefined): arrays repeat
 * their key, booleans are 1/0, undefined is left out.
 */
export function apiPath(version: string | undefined, path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.append(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  }
  const search = params.toString();
  return `${version === undefined ? '' : `/v${version}`}${path}${search ? `?${search}` : ''}`;
}

/** A path segment for a name or id. Image references keep `/` and `:`, which the engine's routes expect raw. */
export function segment(value: string): string {
  return encodeURIComponent(value).replace(/%2F/gi, '/').replace(/%3A/gi, ':');
}

export function answerError(status: number, text: string, what: string): EngineError {
  let message = text.trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed?.message === 'string') message = parsed.message;
  } catch {
    // Not JSON (a proxy in between, or an old engine): the text itself is the best message.
  }
  return new EngineError(status, message || `${what} answered ${status}`);
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('the response was cut short')));
  });
}

function isJson(res: IncomingMessage): boolean {
  return /json/i.test(String(res.headers['content-type'] ?? ''));
}

function isReadable(value: unknown): value is Readable {
  return typeof value === 'object' && value !== null && typeof (value as Readable).pipe === 'function' && typeof (value as Readable).on === 'function';
}
