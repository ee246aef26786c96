/**
 * Every HTTP exchange acme-client makes for one issuance, bounded and watched. acme-client talks through
 * one shared axios instance and throws plain `Error(detail)`, which loses what berth must tell apart (a
 * rate limit and its Retry-After, a refusal and the CA's problem document). Interceptors on that instance,
 * scoped with AsyncLocalStorage to the issuance that made the request, give each request the issuance's
 * signal, deadline, size cap and trusted CAs, and record the problem documents the CA answers with.
 * Requests made outside an issuance are left as they are.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';

/** An RFC 7807 problem document the CA answered with (RFC 8555 section 6.7). */
export interface AcmeProblem {
  status: number;
  /** `urn:ietf:params:acme:error:rateLimited`, ... */
  type: string;
  detail: string | null;
  /** Retry-After in milliseconds, when the answer carried one. */
  retryAfterMs: number | null;
}

export interface ExchangeScope {
  signal: AbortSignal;
  requestTimeoutMs: number;
  /** The issuance's own connections (trusting `--acme-ca` beside the system's CAs), destroyed after it. */
  agent: WatchedAgent;
  problems: AcmeProblem[];
  /**
   * The last connection failure (refused, unknown host, untrusted certificate) and whether a request ran
   * out of time. acme-client turns both into a TypeError once its retries are spent; these keep what it was.
   */
  networkError: NodeJS.ErrnoException | null;
  timedOut: boolean;
}

/** Connections of one issuance: each failure is kept for the error berth reports. */
export class WatchedAgent extends Agent {
  lastError: NodeJS.ErrnoException | null = null;

  constructor(ca: string | null) {
    super({ keepAlive: true, maxSockets: 4, ...(ca ? { ca: [...rootCertificates, ca] } : {}) });
  }

  override createConnection(...args: Parameters<Agent['createConnection']>): ReturnType<Agent['createConnection']> {
    const socket = super.createConnection(...args);
    socket?.once('error', (error: NodeJS.ErrnoException) => (this.lastError = error));
    return socket;
  }
}

/** Largest answer taken from the CA: directories, orders and certificate chains are a few KiB. */
const MAX_ANSWER_BYTES = 1024 * 1024;

const scopes = new AsyncLocalStorage<ExchangeScope>();
const installed = new WeakSet<object>();
/** Requests answered, so a request's timer going off later is not taken for a timeout. */
const answered = new WeakSet<object>();

/** The slice of acme-client's axios instance the interceptors use. */
interface AxiosLike {
  defaults: { acmeSettings?: { retryMaxAttempts: number } };
  interceptors: {
    request: { use(onFulfilled: (config: any) => any): unknown };
    response: { use(onFulfilled: (response: any) => any): unknown };
  };
}

/**
 * Installs the interceptors once per axios instance. acme-client's own retry of 429 and 5xx answers (it
 * sleeps out a Retry-After, which can be hours, where nothing can cut it short) is turned off: a failed
 * issuance is retried by the manager's back-off, which honours Retry-After without holding anything.
 */
export function watchExchanges(axios: AxiosLike): void {
  if (installed.has(axios)) return;
  installed.add(axios);
  if (axios.defaults.acmeSettings) axios.defaults.acmeSettings.retryMaxAttempts = 0;
  axios.interceptors.request.use((config) => {
    const scope = scopes.getStore();
    if (!scope) return config;
    const timer = AbortSignal.timeout(scope.requestTimeoutMs);
    timer.addEventListener('abort', () => {
      if (!answered.has(config)) scope.timedOut = true;
    }, { once: true });
    config.signal = AbortSignal.any([scope.signal, timer]);
    config.maxContentLength = MAX_ANSWER_BYTES;
    config.maxBodyLength = MAX_ANSWER_BYTES;
    config.httpsAgent = scope.agent;
    return config;
  });
  axios.interceptors.response.use((response) => {
    const scope = scopes.getStore();
    if (response?.config) answered.add(response.config);
    const problem = scope && problemOf(response);
    if (problem) scope.problems.push(problem);
    return response;
  });
}

/** Runs `fn` with its exchanges bound to `scope`. */
export function withinScope<T>(scope: ExchangeScope, fn: () => Promise<T>): Promise<T> {
  return scopes.run(scope, fn);
}

function problemOf(response: { status: number; data?: unknown; headers?: Record<string, unknown> }): AcmeProblem | undefined {
  if (response.status < 400 || typeof response.data !== 'object' || response.data === null) return undefined;
  const data = response.data as { type?: unknown; detail?: unknown };
  if (typeof data.type !== 'string' || !data.type.startsWith('urn:ietf:params:acme:error:')) return undefined;
  return {
    status: response.status,
    type: data.type.slice(0, 200),
    detail: typeof data.detail === 'string' ? data.detail.replace(/\s+/g, ' ').slice(0, 500) : null,
    retryAfterMs: retryAfterMs(response.headers?.['retry-after'], Date.now()),
  };
}

/** Retry-After as seconds or an HTTP date (RFC 9110 section 10.2.3), in milliseconds from `now`; null when absent or unreadable. */
export function retryAfterMs(header: unknown, now: number): number | null {
  if (typeof header !== 'string' || header.length > 100) return null;
  const text = header.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  // An HTTP date (IMF-fixdate): `Thu, 01 Jan 2026 01:00:00 GMT`.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
