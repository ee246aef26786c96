/**
 * The thin client of the control API (docs/api.md): fetch with the bearer token, API error JSON turned
 * back into BerthError (code, message, hint, details), and connection failures into DAEMON_UNREACHABLE
 * naming the URL, so every command reports failures the same way.
 */
import { BerthError, fail, type ErrorCode } from '../errors/catalogue.ts';
import { isAbort } from './errors.ts';
import { readSse, type SseMessage } from './sse.ts';

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Give up on a server that accepted the connection but does not answer. Default 60 s; 0 for none. */
  timeoutMs?: number;
}

export interface UploadOptions {
  query?: Query;
  headers?: Record<string, string>;
  contentType?: string;
  signal?: AbortSignal;
  /** Called with the running total of body bytes handed to the connection. */
  onProgress?: (bytesSent: number) => void;
}

export interface ClientOptions {
  url: string;
  token?: string;
  fetch?: typeof fetch;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** `/v1/apps/hello/logs` + `{ tail: 5, follow: true }` -> `/v1/apps/hello/logs?tail=5&follow=1`; undefined and false are left out. */
export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === false) continue;
    params.set(key, value === true ? '1' : String(value));
  }
  const text = params.toString();
  return text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path;
}

export function appPath(app: string, rest = ''): string {
  return `/v1/apps/${encodeURIComponent(app)}${rest}`;
}

/** An API error answer back into the error the server raised; answers that are not berth's JSON still become one. */
export function errorFromResponse(status: number, text: string, request: { method: string; path: string; hadToken: boolean }): BerthError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown; hint?: unknown; details?: unknown } } | undefined)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new BerthError(
      error.code as ErrorCode,
      error.message,
      typeof error.hint === 'string' ? error.hint : undefined,
      error.details && typeof error.details === 'object' ? (error.details as Record<string, unknown>) : undefined,
    );
  }
  // Not berth's JSON: a proxy in front of the server, or something else listening on the port.
  if (status === 401) return request.hadToken ? fail('AUTH_INVALID') : fail('AUTH_REQUIRED');
  if (status === 404) return fail('ROUTE_NOT_FOUND', { method: request.method, path: request.path.replace(/\?.*/, '') });
  if (status === 413) return new BerthError('BODY_TOO_LARGE', 'the upload is larger than the server (or a proxy in front of it) accepts', 'exclude large files with .berthignore, or raise --max-upload on the server');
  const snippet = text.trim().slice(0, 200);
  return fail('INTERNAL', { reason: `HTTP ${status} from ${request.method} ${request.path}${snippet ? `: ${snippet}` : ''}` });
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (no server is listening there)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (temporary DNS failure)',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the server closed the connection',
  EPIPE: 'the server closed the connection',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
};

/** fetch's `TypeError: fetch failed` says nothing; its cause chain has the system error code. */
export function unreachableError(url: string, error: unknown): BerthError {
  let cause: unknown = error;
  let reason: string | undefined;
  for (let depth = 0; cause && depth < 5 && !reason; depth++) {
    const code = (cause as { code?: string }).code;
    if (code && REASONS[code]) reason = REASONS[code];
    else if ((cause as { name?: string }).name === 'TimeoutError') reason = 'no answer in time';
    cause = (cause as { cause?: unknown }).cause;
  }
  reason ??= ((error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message ?? 'unknown error').toString();
  return fail('DAEMON_UNREACHABLE', { url, reason });
}

export class ApiClient {
  readonly url: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: ClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#token = options.token;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  get hasToken(): boolean {
    return this.#token !== undefined;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const signals = [options.signal, timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined].filter((s): s is AbortSignal => s !== undefined);
    const headers: Record<string, string> = { accept: 'application/json' };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const fullPath = withQuery(path, options.query);
    const response = await this.#send(method, fullPath, { headers, body, signal: signals.length ? AbortSignal.any(signals) : undefined });
    const text = await response.text().catch((error) => this.#unreachable(error));
    if (!response.ok) throw errorFromResponse(response.status, text, { method, path: fullPath, hadToken: this.hasToken });
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw fail('INTERNAL', { reason: `${method} ${fullPath} answered ${response.status} with a body that is not JSON` });
    }
  }

  get<T>(path: string, options: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('GET', path, options);
  }

  /** Streams `body` as the request body (chunked); no timeout, since big folders take as long as they take. */
  async upload<T>(path: string, body: AsyncIterable<Uint8Array>, options: UploadOptions = {}): Promise<T> {
    const onProgress = options.onProgress;
    let sent = 0;
    let bodyError: unknown;
    const counted = async function* () {
      try {
        for await (const chunk of body) {
          sent += chunk.byteLength;
          yield chunk;
          onProgress?.(sent);
        }
      } catch (error) {
        bodyError = error;
        throw error;
      }
    };
    const fullPath = withQuery(path, options.query);
    let response: Response;
    try {
      response = await this.#send('POST', fullPath, {
        headers: { accept: 'application/json', 'content-type': options.contentType ?? 'application/gzip', ...options.headers },
        body: counted(),
        signal: options.signal,
        duplex: 'half',
      });
    } catch (error) {
      // A file that changed while it was being packed is the folder's problem, not the connection's.
      throw bodyError ?? error;
    }
    const text = await response.text().catch((error) => this.#unreachable(error));
    if (!response.ok) throw errorFromResponse(response.status, text, { method: 'POST', path: fullPath, hadToken: this.hasToken });
    return JSON.parse(text) as T;
  }

  /**
   * The messages of an event-stream endpoint until the server ends it; abort `signal` to stop early.
   * `onOpen` is called once the server has accepted the stream: a DAEMON_UNREACHABLE after it means the
   * connection dropped mid-stream.
   */
  async *events(path: string, options: { query?: Query; signal?: AbortSignal; method?: string; body?: unknown; onOpen?: () => void } = {}): AsyncGenerator<SseMessage> {
    const fullPath = withQuery(path, options.query);
    const method = options.method ?? 'GET';
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.#send(method, fullPath, {
      headers,
      signal: options.signal,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    if (!response.ok) throw errorFromResponse(response.status, await response.text(), { method, path: fullPath, hadToken: this.hasToken });
    options.onOpen?.();
    if (!response.body) return;
    try {
      yield* readSse(response.body, options.signal);
    } catch (error) {
      this.#unreachable(error);
    }
  }

  /**
   * A failed connect, or a body read that fails (`TypeError: terminated` when the server drops the connection),
   * means the server is not there (any more); the caller's own abort (Ctrl-C) stays an abort.
   */
  #unreachable(error: unknown): never {
    throw isAbort(error) ? error : unreachableError(this.url, error);
  }

  async #send(method: string, path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#token !== undefined) headers.set('authorization', `Bearer ${this.#token}`);
    try {
      return await this.#fetch(this.url + path, { ...init, method, headers });
    } catch (error) {
      this.#unreachable(error);
    }
  }
}
