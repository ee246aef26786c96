import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ChunkedBody, encodeChunks, LengthBody, NoBody, UntilCloseBody, type BodyFramer } from './http1/body.ts';
import { buildRequestHead, buildResponseHead } from './http1/forward-head.ts';
import { edgeAnswer, type HttpEdge } from './http-edge.ts';
import { isHeadError, parseRequestHead, type RequestHead } from './http1/request-head.ts';
import { parseResponseHead, responseHasBody, type ResponseHead } from './http1/response-head.ts';
import { proxyErrors, renderError, type ProxyErrorKind } from './pages.ts';
import type { AppRuntime, Routes } from './live-routes.ts';
import type { Drainable, TargetRuntime } from './target.ts';
import { Tunnel } from './tunnel.ts';
import type { Upstream, UpstreamOwner } from './upstream.ts';
import { accessHost, accessMethod, accessMs, accessPath, isoNow, pageBodyBytes, pageStatus, type AccessSink } from './access-log/entry.ts';
import type { RequestIds } from './request-ids.ts';
import type { AccessEntry } from '../dataplane/access-log.ts';
import { chaosAction } from './chaos.ts';
import { splitSide } from './split.ts';

export interface ConnectionOptions {
  maxHeadSize: number;
  /** A request head must be complete this long after its first byte (slow-loris guard). */
  headTimeoutMs: number;
  /** An idle keep-alive client connection is closed after this long. */
  idleTimeoutMs: number;
  /** The upstream must start its response within this long. */
  responseTimeoutMs: number;
  proto: 'http' | 'https';
}

export interface ConnectionContext {
  routes: Routes;
  options: ConnectionOptions;
  unrouted(): void;
  /** The plain-HTTP listener's answers for HTTPS (ACME challenges, redirects); absent elsewhere. */
  edge?: HttpEdge;
  /** X-Request-IDs for requests without a valid one of their own. */
  requestIds: RequestIds;
  /** Where each answered request is logged; null: no access log. */
  accessLog: AccessSink | null;
  /** False: status and latency are not counted (a reference for benchmarks; in-flight counts stay, drains need them). */
  countStats: boolean;
}

const MAX_BUFFERED = 64 * 1024;
const MAX_ATTEMPTS = 3;

type Phase = 'head' | 'exchange' | 'tunnel' | 'closed';

/**
 * One client connection, request after request: read a head, pick a target, stream the request up and
 * the response down, then the next request (pipelined ones wait their turn). All state of the request
 * in progress lives in fields here, so the hot path allocates little beyond the buffers themselves.
 */
export class ClientConnection implements UpstreamOwner, Drainable {
  readonly socket: Socket;
  readonly #ctx: ConnectionContext;
  readonly #clientIp: string;
  #phase: Phase = 'head';
  #buf: Buffer | null = null;
  #headStartedAt = 0;
  #clientEnded = false;
  #tunnel: Tunnel | null = null;

  // The exchange in progress.
  #req: RequestHead | null = null;
  #app: AppRuntime | null = null;
  #target: TargetRuntime | null = null;
  #tried: TargetRuntime[] = [];
  #attempts = 0;
  #upstream: Upstream | null = null;
  #reqBody: BodyFramer | null = null;
  #reqSent = false;
  #bodyStarted = false;
  #resBuf: Buffer | null = null;
  #res: ResponseHead | null = null;
  #resBody: BodyFramer | null = null;
  #resStarted = false;
  #decodeChunked = false;
  #upstreamReusable = true;
  #closeAfter = false;
  #startedAt = 0;
  /** The X-Request-ID of the exchange ('' before it is known), and the response body bytes sent to the client. */
  #requestId = '';
  #resBytes = 0;
  /** Chaos acted on this exchange (slowed or failed it): its access-log line says so. */
  #chaos = false;
  /** A chaos `slow` wait in progress; cleared when the exchange ends or the client goes away. */
  #chaosTimer: NodeJS.Timeout | null = null;
  /** The client's side of the app's canary split (split.ts); undefined: the app has none. */
  #canary: boolean | undefined = undefined;
  /** The split cookie the app's answer carries to the client (it sent no valid one); null: none. */
  #setCookie: string | null = null;
  /** Counts a chunked response's data passed through (made once per connection, not per chunk). */
  readonly #countData = (start: number, end: number) => {
    this.#resBytes += end - start;
  };

  constructor(socket: Socket, ctx: ConnectionContext) {
    this.socket = socket;
    this.#ctx = ctx;
    const ip = socket.remoteAddress ?? '';
    this.#clientIp = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
    socket.setNoDelay(true);
    socket.setTimeout(ctx.options.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', () => this.#onClose());
    socket.on('close', () => this.#onClose());
    socket.on('timeout', () => this.#onTimeout());
  }

  // ---- client side -------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    if (this.#phase === 'tunnel') return this.#tunnel!.onClientData(chunk);
    if (this.#phase === 'closed') return;
    this.#buf = this.#buf === null || this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    if (this.#phase === 'head') return this.#readHead();
    if (this.#upstream && !this.#reqSent) return this.#pumpRequestBody();
    // Waiting for a connection or a response: hold what the client sends, within reason.
    if (this.#buf.length > MAX_BUFFERED) this.socket.pause();
  }

  #onEnd(): void {
    this.#clientEnded = true;
    if (this.#phase === 'tunnel') return this.#tunnel!.onClientEnd();
    if (this.#phase === 'head') this.socket.end();
  }

  #onTimeout(): void {
    if (this.#phase === 'head') this.socket.destroy();
  }

  #onClose(): void {
    if (this.#phase === 'closed') return;
    const phase = this.#phase;
    this.#phase = 'closed';
    if (phase === 'tunnel') return this.#tunnel!.close();
    this.#clearChaosTimer();
    if (phase === 'exchange') {
      // The client went away mid-exchange (499, as nginx logs it, unless the response had begun): the
      // upstream connection is in an unknown state.
      if (this.#req !== null) this.#log(this.#res?.status ?? 499, this.#resBytes, this.#app?.name ?? null, this.#target);
      this.#upstream?.destroy();
      this.#upstream = null;
      this.#finishTarget();
    }
  }

  #readHead(): void {
    const buf = this.#buf;
    if (buf === null || buf.length === 0) return;
    if (this.#headStartedAt === 0) this.#headStartedAt = performance.now();
    const head = parseRequestHead(buf, this.#ctx.options.maxHeadSize);
    if (head === null) {
      if (performance.now() - this.#headStartedAt > this.#ctx.options.headTimeoutMs) this.socket.destroy();
      return;
    }
    if (isHeadError(head)) {
      this.#buf = null;
      this.#phase = 'exchange';
      this.#closeAfter = true;
      this.#ctx.unrouted();
      const bytes = this.#writeError(proxyErrors.refused(head.status, head.reason), false);
      this.#log(head.status, bytes, null, null);
      return this.#endExchange();
    }
    this.#buf = buf.length === head.size ? null : buf.subarray(head.size);
    this.#headStartedAt = 0;
    this.#startExchange(head);
  }

  // ---- exchange ----------------------------------------------------------------------------------

  #startExchange(req: RequestHead): void {
    this.#phase = 'exchange';
    this.socket.setTimeout(0);
    this.#req = req;
    this.#startedAt = performance.now();
    this.#requestId = req.requestId ?? this.#ctx.requestIds.next();
    this.#closeAfter = !req.keepAlive || req.minor === 0;
    this.#reqBody = req.chunked ? new ChunkedBody() : req.contentLength > 0 ? new LengthBody(req.contentLength) : null;
    this.#reqSent = this.#reqBody === null;
    const app = req.host === null ? undefined : this.#ctx.routes.resolve(req.host);
    const edge = this.#ctx.edge && edgeAnswer(req, app, this.#ctx.edge, this.#closeAfter || !this.#reqSent);
    if (edge) {
      // Answered here: a body the client sends is never read, so the connection ends after this answer.
      if (!this.#reqSent) this.#closeAfter = true;
      this.socket.write(edge);
      this.#log(pageStatus(edge), pageBodyBytes(edge), app?.name ?? null, null);
      return this.#endExchange();
    }
    if (!app) {
      this.#ctx.unrouted();
      this.#log(404, this.#writeError(proxyErrors.noApp(req.host ?? '(no host)'), true), null, null);
      return this.#endExchange();
    }
    this.#app = app;
    if (app.split != null) {
      const side = splitSide(app.split, req.names, req.values, this.#clientIp, this.#ctx.options.proto === 'https');
      this.#canary = side.canary;
      this.#setCookie = side.setCookie;
    }
    this.#connect();
  }

  #connect(): void {
    const app = this.#app!;
    const target = this.#ctx.routes.pick(app, this.#tried, Date.now(), this.#canary);
    if (!target) {
      if (this.#tried.length === 0) {
        this.#ctx.unrouted();
        this.#log(503, this.#writeError(proxyErrors.noInstance(app.name), true), app.name, null);
        return this.#endExchange();
      }
      return this.#failUpstream(proxyErrors.unreachable(app.name));
    }
    // A request sent again after a failed attempt (ReleaseStats.retries).
    if (this.#attempts > 0) target.counters.release.retries++;
    this.#tried.push(target);
    this.#attempts++;
    this.#useTarget(target);
    if (app.chaos != null && this.#attempts === 1) {
      const action = chaosAction(app.chaos, app.name, target.release, Date.now());
      if (action !== null) {
        this.#chaos = true;
        if (action.fail !== null) {
          // Answered here as the outage would be: counted by status class on the target, never forwarded.
          this.#record(action.fail.status, false);
          this.#log(action.fail.status, this.#writeError(action.fail, true), app.name, target);
          return this.#endExchange();
        }
        this.#chaosTimer = setTimeout(() => {
          this.#chaosTimer = null;
          if (this.#phase === 'exchange' && this.#target === target) this.#open(target);
        }, action.delayMs);
        return;
      }
    }
    this.#open(target);
  }

  /** Connects to the picked target: an idle pooled connection, else a new one. */
  #open(target: TargetRuntime): void {
    const idle = this.#req!.upgrade ? undefined : target.pool.takeIdle();
    if (idle) return this.#attach(idle);
    target.pool.open((error, upstream) => {
      if (this.#phase === 'closed' || this.#target !== target) {
        upstream?.destroy();
        return;
      }
      if (error) {
        // Nothing was sent: any other target may take this request, whatever its method.
        target.counters.release.upstreamErrors++;
        this.#ctx.routes.markDown(target, Date.now());
        return this.#connect();
      }
      this.#attach(upstream!);
    });
  }

  #useTarget(target: TargetRuntime): void {
    this.#finishTarget();
    this.#target = target;
    target.enter(this);
  }

  #finishTarget(): void {
    const target = this.#target;
    if (!target) return;
    this.#target = null;
    target.leave(this);
    this.#ctx.routes.settled(target);
  }

  #attach(upstream: Upstream): void {
    this.#upstream = upstream;
    upstream.owner = this;
    upstream.socket.setTimeout(this.#ctx.options.responseTimeoutMs);
    this.#resBuf = null;
    this.#upstreamReusable = true;
    upstream.socket.write(buildRequestHead(this.#req!, this.#clientIp, this.#ctx.options.proto, this.#requestId), 'latin1');
    if (!this.#reqSent) this.#pumpRequestBody();
    else if (this.#buf !== null && this.#buf.length > 0) this.socket.pause(); // pipelined: one at a time
  }

  #pumpRequestBody(): void {
    const buf = this.#buf;
    if (buf === null || buf.length === 0) return;
    let n: number;
    // A chunked body is re-framed (encodeChunks): the app never parses the client's chunk lines itself.
    const ranges: number[] | null = this.#req!.chunked ? [] : null;
    try {
      n = ranges === null ? this.#reqBody!.consume(buf, 0) : this.#reqBody!.consume(buf, 0, (start, end) => ranges.push(start, end));
    } catch (error) {
      this.#closeAfter = true;
      this.#upstream?.destroy();
      this.#upstream = null;
      if (this.#resStarted) return this.#abort();
      this.#log(400, this.#writeError(proxyErrors.refused(400, (error as Error).message), false), this.#app?.name ?? null, null);
      return this.#endExchange();
    }
    this.#bodyStarted = true;
    this.#buf = n === buf.length ? null : buf.subarray(n);
    const out = ranges !== null ? encodeChunks(buf, ranges, this.#reqBody!.done) : n === buf.length ? buf : buf.subarray(0, n);
    const ok = out.length === 0 || this.#upstream!.socket.write(out);
    if (this.#reqBody!.done) {
      this.#reqSent = true;
      if (this.#buf !== null) this.socket.pause();
    } else if (!ok) {
      this.socket.pause();
      this.#upstream!.socket.once('drain', () => {
        if (this.#phase === 'exchange') this.socket.resume();
      });
    }
  }

  // ---- upstream side -----------------------------------------------------------------------------

  onUpstreamData(chunk: Buffer): void {
    if (this.#res !== null) return this.#relayBody(chunk);
    const buf = this.#resBuf === null ? chunk : Buffer.concat([this.#resBuf, chunk]);
    this.#resBuf = null;
    const head = parseResponseHead(buf, this.#ctx.options.maxHeadSize);
    if (head === null) {
      this.#resBuf = buf;
      return;
    }
    const req = this.#req!;
    if (isHeadError(head)) {
      this.#upstream!.destroy();
      this.#upstream = null;
      return this.#failUpstream(proxyErrors.invalidResponse(this.#app!.name, head.reason));
    }
    const rest = buf.length === head.size ? null : buf.subarray(head.size);
    if (head.status === 101 && req.upgrade) return this.#startTunnel(buf.subarray(0, head.size), rest);
    if (head.status < 200) {
      // Interim responses (100 Continue, 103 Early Hints) pass through to HTTP/1.1 clients.
      if (req.minor === 1) this.socket.write(buf.subarray(0, head.size));
      if (rest) this.onUpstreamData(rest);
      return;
    }
    this.#res = head;
    this.#upstream!.socket.setTimeout(0);
    if (head.close || req.upgrade) this.#upstreamReusable = false;
    const hasBody = responseHasBody(req.method, head.status);
    if (!hasBody) this.#resBody = new NoBody();
    else if (head.chunked) this.#resBody = new ChunkedBody();
    else if (head.contentLength >= 0) this.#resBody = new LengthBody(head.contentLength);
    else {
      this.#resBody = new UntilCloseBody();
      this.#upstreamReusable = false;
      this.#closeAfter = true;
    }
    // HTTP/1.0 clients cannot read chunked framing: peel it off and end the body by closing.
    this.#decodeChunked = req.minor === 0 && hasBody && head.chunked;
    if (!this.#reqSent) this.#closeAfter = true; // answered before the body was read: cannot find the next request
    // Over TLS an app may ask for HSTS: then the head is rebuilt to carry it, else its bytes pass as they are.
    const hsts = this.#ctx.options.proto === 'https' ? this.#app!.https.hsts : null;
    const setCookie = this.#setCookie;
    const passThrough = head.clean && req.minor === 1 && !(this.#closeAfter && req.keepAlive) && hsts === null && setCookie === null;
    this.#resStarted = true;
    if (passThrough) this.socket.write(buf.subarray(0, head.size));
    else this.socket.write(buildResponseHead(head, { dropChunked: this.#decodeChunked, close: this.#closeAfter, hsts, setCookie }), 'latin1');
    if (rest) this.#relayBody(rest);
    else if (this.#resBody.done) this.#completeExchange();
  }

  #relayBody(chunk: Buffer): void {
    const body = this.#resBody!;
    let n: number;
    let ok = true;
    try {
      if (this.#decodeChunked) {
        n = body.consume(chunk, 0, (start, end) => {
          this.#resBytes += end - start;
          ok = this.socket.write(chunk.subarray(start, end));
        });
      } else {
        // Body bytes are the data, without chunk framing (as over HTTP/2, which has none).
        if (body instanceof ChunkedBody) n = body.consume(chunk, 0, this.#countData);
        else {
          n = body.consume(chunk, 0);
          this.#resBytes += n;
        }
        if (n > 0) ok = this.socket.write(n === chunk.length ? chunk : chunk.subarray(0, n));
      }
    } catch {
      return this.#abort();
    }
    if (n < chunk.length) this.#upstreamReusable = false; // bytes past the response: never reuse this connection
    if (body.done) return this.#completeExchange();
    if (!ok) {
      const upstream = this.#upstream!;
      upstream.socket.pause();
      this.socket.once('drain', () => upstream.socket.resume());
    }
  }

  onUpstreamEnd(): void {
    if (this.#resBody instanceof UntilCloseBody) {
      this.#upstreamReusable = false;
      return this.#completeExchange();
    }
    this.onUpstreamError(new Error('upstream closed the connection'));
  }

  onUpstreamError(_error: Error): void {
    const upstream = this.#upstream;
    if (!upstream || this.#phase !== 'exchange') return;
    upstream.destroy();
    this.#upstream = null;
    if (this.#resStarted) return this.#abort();
    // Failed before a response began: refused, reset or closed (ReleaseStats.upstreamErrors).
    if (this.#target) this.#target.counters.release.upstreamErrors++;
    // A reused keep-alive connection may have been closed by the app just as we sent: the classic race.
    // Replaying is safe when the request carried no body, or its body was not sent yet.
    const replayable = upstream.reused && (this.#reqBody === null || !this.#bodyStarted);
    if (replayable && this.#attempts < MAX_ATTEMPTS) {
      this.#tried.pop();
      return this.#connect();
    }
    this.#failUpstream(proxyErrors.unreachable(this.#app!.name));
  }

  onUpstreamTimeout(): void {
    if (this.#res !== null || !this.#upstream) return;
    this.#upstream.destroy();
    this.#upstream = null;
    if (this.#target) this.#target.counters.release.upstreamErrors++;
    this.#failUpstream(proxyErrors.timeout(this.#app!.name, Math.round(this.#ctx.options.responseTimeoutMs / 1000)));
  }

  drainExpired(): void {
    // The release's drain time is up and this request still runs: cut it.
    if (this.#phase !== 'exchange') return;
    this.#upstream?.destroy();
    this.#upstream = null;
    if (this.#resStarted) return this.#abort();
    this.#failUpstream(proxyErrors.unreachable(this.#app!.name));
  }

  /** The proxy is stopping: close now if idle between requests, else after the exchange in flight. */
  shutdown(): void {
    if (this.#phase === 'head' && (this.#buf === null || this.#buf.length === 0)) {
      this.#phase = 'closed';
      this.socket.end();
      return;
    }
    this.#closeAfter = true;
  }

  // ---- endings -----------------------------------------------------------------------------------

  #failUpstream(kind: ProxyErrorKind): void {
    if (!this.#reqSent) this.#closeAfter = true;
    this.#record(kind.status, true);
    this.#log(kind.status, this.#writeError(kind, true), this.#app?.name ?? null, null);
    this.#endExchange();
  }

  /** Writes one of the proxy's pages; says how many body bytes it had. */
  #writeError(kind: ProxyErrorKind, knownRequest: boolean): number {
    const req = knownRequest ? this.#req : null;
    const accept = req ? headerValue(req, 'accept') : undefined;
    const json = accept !== undefined && accept.includes('application/json') && !accept.includes('text/html');
    if (req && !this.#reqSent) this.#closeAfter = true;
    const page = renderError(kind, { json, close: this.#closeAfter, head: req?.method === 'HEAD' });
    this.socket.write(page);
    return pageBodyBytes(page);
  }

  #record(status: number, proxyError: boolean): void {
    const target = this.#target;
    if (target && this.#ctx.countStats) target.counters.record(status, performance.now() - this.#startedAt, proxyError);
  }

  /** One access-log line (when there is a log): `target` null when the proxy answered itself. */
  #log(status: number, bytes: number, app: string | null, target: TargetRuntime | null): void {
    const sink = this.#ctx.accessLog;
    if (sink === null) return;
    const req = this.#req;
    const entry: AccessEntry = {
      time: isoNow(),
      ip: this.#clientIp,
      method: req ? accessMethod(req.method) : '-',
      path: req ? accessPath(req.target) : '-',
      status,
      bytes,
      ms: accessMs(performance.now() - (req ? this.#startedAt : this.#headStartedAt)),
      host: accessHost(req ? req.host : null),
      app,
      release: target ? target.release : null,
      instance: target ? target.id : null,
      id: this.#requestId || this.#ctx.requestIds.next(),
      proto: 'h1',
      tls: this.#ctx.options.proto === 'https',
    };
    if (this.#chaos) entry.chaos = true;
    sink.add(entry);
  }

  #clearChaosTimer(): void {
    if (this.#chaosTimer === null) return;
    clearTimeout(this.#chaosTimer);
    this.#chaosTimer = null;
  }

  #completeExchange(): void {
    this.#record(this.#res!.status, false);
    this.#log(this.#res!.status, this.#resBytes, this.#app!.name, this.#target);
    const upstream = this.#upstream;
    this.#upstream = null;
    if (upstream) {
      if (this.#upstreamReusable && this.#reqSent && !upstream.closed) upstream.pool.release(upstream);
      else upstream.destroy();
    }
    this.#endExchange();
  }

  #endExchange(): void {
    this.#clearChaosTimer();
    this.#chaos = false;
    this.#finishTarget();
    this.#req = null;
    this.#app = null;
    this.#canary = undefined;
    this.#setCookie = null;
    this.#tried = [];
    this.#attempts = 0;
    this.#reqBody = null;
    this.#reqSent = false;
    this.#bodyStarted = false;
    this.#res = null;
    this.#resBody = null;
    this.#resBuf = null;
    this.#resStarted = false;
    this.#decodeChunked = false;
    this.#requestId = '';
    this.#resBytes = 0;
    if (this.#phase === 'closed') return;
    if (this.#closeAfter || this.#clientEnded) {
      this.#phase = 'closed';
      this.socket.end();
      return;
    }
    this.#phase = 'head';
    this.socket.setTimeout(this.#ctx.options.idleTimeoutMs);
    if (this.socket.isPaused()) this.socket.resume();
    if (this.#buf !== null) this.#readHead();
  }

  #abort(): void {
    this.#record(this.#res?.status ?? 502, true);
    this.#log(this.#res?.status ?? 502, this.#resBytes, this.#app?.name ?? null, this.#resStarted ? this.#target : null);
    this.#upstream?.destroy();
    this.#upstream = null;
    this.#finishTarget();
    this.#phase = 'closed';
    this.socket.destroy();
  }

  #startTunnel(head: Buffer, rest: Buffer | null): void {
    const target = this.#target!;
    const upstream = this.#upstream!;
    this.#upstream = null;
    this.#res = null;
    this.#record(101, false);
    this.#log(101, 0, this.#app!.name, target);
    this.socket.write(head);
    const tunnel = new Tunnel(this.socket, upstream, {
      websocket: this.#req!.upgrade === 'websocket',
      onClose: () => {
        target.closeTunnel(tunnel);
        this.#ctx.routes.settled(target);
      },
    });
    target.openTunnel(tunnel);
    this.#finishTarget();
    this.#phase = 'tunnel';
    this.#tunnel = tunnel;
    const fromClient = this.#buf;
    this.#buf = null;
    tunnel.start(fromClient, rest);
  }
}

function headerValue(req: RequestHead, lower: string): string | undefined {
  for (let i = 0; i < req.names.length; i++) if (req.names[i].toLowerCase() === lower) return req.values[i];
  return undefined;
}
