/**
 * One HTTP exchange with a registry or its token service: node:http(s) with keep-alive, a deadline on the
 * whole exchange (connect, headers and body), a cap on the body read, no redirects followed. HTTPS trusts
 * Node's bundled CAs, the system store and NODE_EXTRA_CA_CERTS. Failures are `HttpFailure`s saying what
 * kind of failure it was; the client turns them into catalogue errors naming the registry and image.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { getCACertificates } from 'node:tls';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** Empty for HEAD, and when `maxBody` is 0. */
  body: Buffer;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD';
  url: URL;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Bytes of body read at most; a longer body fails with kind `too-large`. 0: the body is drained, not kept. */
  maxBody: number;
  signal?: AbortSignal;
}

/** `tls`: the handshake or certificate failed; `protocol`: the peer does not speak HTTP; `too-large`: body over the cap. */
export type FailureKind = 'refused' | 'dns' | 'timeout' | 'reset' | 'unreachable' | 'tls' | 'protocol' | 'too-large';

export class HttpFailure extends Error {
  readonly kind: FailureKind;
  constructor(kind: FailureKind, message: string) {
    super(message);
    this.name = 'HttpFailure';
    this.kind = kind;
  }
}

const TLS_CODES = new Set([
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What kind of failure a socket or parser error is, with a reason fit for a user (no URL, no header). */
export function classifyNetworkError(error: unknown): HttpFailure {
  if (error instanceof HttpFailure) return error;
  const code = String((error as NodeJS.ErrnoException)?.code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ECONNREFUSED') return new HttpFailure('refused', 'connection refused (nothing listens on that port)');
  if (code === 'ENOTFOUND') return new HttpFailure('dns', 'the host name does not resolve');
  if (code === 'EAI_AGAIN') return new HttpFailure('dns', 'the host name could not be resolved (temporary DNS failure)');
  if (code === 'ECONNRESET' || code === 'EPIPE') return new HttpFailure('reset', 'the connection was closed before an answer came');
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL') return new HttpFailure('unreachable', 'no route to the host');
  if (code === 'ETIMEDOUT') return new HttpFailure('timeout', 'connecting timed out');
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || /certificate|ssl|tls/i.test(message)) {
    return new HttpFailure('tls', `TLS failed: ${message.slice(0, 200)}`);
  }
  if (code.startsWith('HPE_')) return new HttpFailure('protocol', 'the answer is not HTTP');
  return new HttpFailure('unreachable', `${code || 'network error'}: ${message.slice(0, 200)}`);
}

export class RegistryHttp {
  readonly #http = new HttpAgent({ keepAlive: true, maxSockets: 16, timeout: 15_000 });
  readonly #extraCa: string[];
  #https: HttpsAgent | undefined;

  /** `ca`: certificates trusted besides the system's (NODE_EXTRA_CA_CERTS already is). */
  constructor(options: { ca?: string[] } = {}) {
    this.#extraCa = options.ca ?? [];
  }

  request(spec: HttpRequest): Promise<HttpAnswer> {
    const { url, signal } = spec;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const secure = url.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const finish = (error: unknown, answer?: HttpAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error !== undefined) reject(error);
        else resolve(answer!);
      };
      const req = send(url, { method: spec.method, headers: spec.headers, agent: secure ? this.#httpsAgent() : this.#http });
      const onAbort = () => {
        finish(signal!.reason);
        req.destroy();
      };
      const timer = setTimeout(() => {
        finish(new HttpFailure('timeout', `no answer within ${formatSeconds(spec.timeoutMs)}`));
        req.destroy();
      }, spec.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (error) => finish(classifyNetworkError(error)));
      req.on('response', (res) => {
        readBody(res, spec.method === 'HEAD' ? 0 : spec.maxBody, (error, body) => {
          if (error) {
            finish(error);
            req.destroy();
          } else finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: body! });
        });
      });
      req.end();
    });
  }

  /** Closes idle keep-alive connections; requests still running finish. */
  close(): void {
    this.#http.destroy();
    this.#https?.destroy();
  }

  #httpsAgent(): HttpsAgent {
    // The system store is read once, on the first HTTPS request, not at import time.
    this.#https ??= new HttpsAgent({
      keepAlive: true,
      maxSockets: 16,
      timeout: 15_000,
      ca: [...new Set([...getCACertificates('default'), ...getCACertificates('system'), ...this.#extraCa])],
    });
    return this.#https;
  }
}

/** Reads the body up to `maxBody` bytes and calls `done` once, synchronously with the event that decides. */
function readBody(res: IncomingMessage, maxBody: number, done: (error: HttpFailure | undefined, body?: Buffer) => void): void {
  let called = false;
  const once = (error: HttpFailure | undefined, body?: Buffer) => {
    if (called) return;
    called = true;
    done(error, body);
  };
  const declared = Number(res.headers['content-length']);
  if (maxBody > 0 && Number.isFinite(declared) && declared > maxBody) {
    once(new HttpFailure('too-large', `the answer is ${declared} bytes, more than the ${maxBody} accepted`));
    res.destroy();
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    if (maxBody === 0) return;
    size += chunk.length;
    if (size > maxBody) {
      once(new HttpFailure('too-large', `the answer is more than the ${maxBody} bytes accepted`));
      res.destroy();
    } else chunks.push(chunk);
  });
  res.on('end', () => once(undefined, Buffer.concat(chunks)));
  res.on('error', (error) => once(classifyNetworkError(error)));
  res.on('close', () => once(new HttpFailure('reset', 'the connection was closed in the middle of the answer')));
}

const formatSeconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`);
