import { constants, type ServerHttp2Stream } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { buildRequestHead } from '../http1/forward-head.ts';
import { isHeadError, type RequestHead } from '../http1/request-head.ts';
import type { ConnectionContext } from '../connection.ts';
import type { AppRuntime } from '../live-routes.ts';
import { proxyErrors, type ProxyErrorKind } from '../pages.ts';
import type { Drainable, TargetRuntime } from '../target.ts';
import type { Upstream, UpstreamOwner } from '../upstream.ts';
import { readRequest, requestHeader } from './request.ts';
import { RequestBody } from './request-body.ts';
import { errorResponse } from './response-headers.ts';
import { ResponseRelay, type RelayEvents } from './response-relay.ts';
import { accessHost, accessMethod, accessMs, accessPath, isoNow } from '../access-log/entry.ts';
import type { AccessEntry } from '../../dataplane/access-log.ts';
import { chaosAction } from '../chaos.ts';
import { splitSide } from '../split.ts';

/** What the session gives each of its streams. */
export interface ExchangeScope {
  readonly ctx: ConnectionContext;
  readonly clientIp: string;
  /** The exchange is over; `reset` when the client ended (or made nghttp2 end) the stream before its answer. */
  ended(reset: boolean): void;
}

/** Attempts per request, as on the HTTP/1 path (ClientConnection). */
const MAX_ATTEMPTS = 3;

/**
 * One HTTP/2 stream forwarded as one HTTP/1.1 exchange over the targets' keep-alive pools. It follows
 * ClientConnection step for step (pick, connect with retries, forward head and body, parse the response
 * strictly, relay, return the connection only after a clean exchange, measure), so both paths share every
 * rule; what differs is the client side: a stream instead of a socket, HTTP/2 headers instead of a head,
 * RST_STREAM instead of a closed connection.
 */
export class StreamExchange implements UpstreamOwner, Drainable, RelayEvents {
  readonly #stream: ServerHttp2Stream;
  readonly #scope: ExchangeScope;
  #over = false;
  #startedAt = 0;
  #req: RequestHead | null = null;
  #app: AppRuntime | null = null;
  #hsts: string | null = null;
  #target: TargetRuntime | null = null;
  #tried: TargetRuntime[] = [];
  #attempts = 0;
  #upstream: Upstream | null = null;
  #body: RequestBody | null = null;
  #reqSent = false;
  /** The client has sent all it will (END_STREAM seen, or the whole body forwarded). */
  #clientDone = false;
  /** The response from the upstream in use (a new one per attempt). */
  #relay: ResponseRelay | null = null;
  /** The X-Request-ID the app gets and the access log names. */
  #requestId = '';
  /** Chaos acted on this exchange (slowed or failed it): its access-log line says so. */
  #chaos = false;
  /** A chaos `slow` wait in progress; cleared when the exchange ends or the stream goes away. */
  #chaosTimer: NodeJS.Timeout | null = null;
  /** The client's side of the app's canary split (split.ts); undefined: the app has none. */
  #canary: boolean | undefined = undefined;
  /** The split cookie the app's answer carries to the client (it sent no valid one); null: none. */
  #setCookie: string | null = null;

  constructor(stream: ServerHttp2Stream, scope: ExchangeScope) {
    this.#stream = stream;
    this.#scope = scope;
    stream.on('error', () => {}); // a reset stream errors; its 'close' does the cleaning up
    stream.on('close', () => this.#onStreamClose());
  }

  start(raw: readonly string[], endStream: boolean): void {
    this.#startedAt = performance.now();
    this.#clientDone = endStream;
    const { ctx } = this.#scope;
    const req = readRequest(raw, endStream, ctx.options.maxHeadSize);
    if (isHeadError(req)) {
      ctx.unrouted();
      return this.#answer(proxyErrors.refused(req.status, req.reason));
    }
    this.#req = req;
    this.#requestId = req.requestId ?? ctx.requestIds.next();
    const app = ctx.routes.resolve(req.host!);
    if (!app) {
      ctx.unrouted();
      return this.#answer(proxyErrors.noApp(req.host!));
    }
    this.#app = app;
    this.#hsts = app.https.hsts;
    if (app.split != null) {
      const side = splitSide(app.split, req.names, req.values, this.#scope.clientIp, true);
      this.#canary = side.canary;
      this.#setCookie = side.setCookie;
    }
    if (req.chunked || req.contentLength > 0) this.#body = new RequestBody(this.#stream, req.chunked ? -1 : req.contentLength, this);
    else this.#reqSent = true;
    this.#connect();
  }

  // ---- upstream connection -----------------------------------------------------------------------

  #connect(): void {
    const app = this.#app!;
    const target = this.#scope.ctx.routes.pick(app, this.#tried, Date.now(), this.#canary);
    if (!target) {
      if (this.#tried.length === 0) {
        this.#scope.ctx.unrouted();
        return this.#answer(proxyErrors.noInstance(app.name));
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
          return this.#answer(action.fail);
        }
        this.#chaosTimer = setTimeout(() => {
          this.#chaosTimer = null;
          if (!this.#over && this.#target === target) this.#open(target);
        }, action.delayMs);
        return;
      }
    }
    this.#open(target);
  }

  /** Connects to the picked target: an idle pooled connection, else a new one. */
  #open(target: TargetRuntime): void {
    const idle = target.pool.takeIdle();
    if (idle) return this.#attach(idle);
    target.pool.open((error, upstream) => {
      if (this.#over || this.#target !== target) {
        upstream?.destroy();
        return;
      }
      if (error) {
        // Nothing was sent: any other target may take this request, whatever its method.
        target.counters.release.upstreamErrors++;
        this.#scope.ctx.routes.markDown(target, Date.now());
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
    this.#scope.ctx.routes.settled(target);
  }

  #attach(upstream: Upstream): void {
    this.#upstream = upstream;
    upstream.owner = this;
    upstream.socket.setTimeout(this.#scope.ctx.options.responseTimeoutMs);
    const { clientIp, ctx } = this.#scope;
    const req = this.#req!;
    this.#relay = new ResponseRelay(
      this.#stream,
      upstream.socket,
      { method: req.method, expectsContinue: requestHeader(req, 'expect') !== undefined, hsts: this.#hsts, setCookie: this.#setCookie, maxHeadSize: ctx.options.maxHeadSize },
      this,
    );
    upstream.socket.write(buildRequestHead(req, clientIp, ctx.options.proto, this.#requestId), 'latin1');
    this.#body?.attach(upstream.socket);
  }

  #dropUpstream(): void {
    this.#body?.detach();
    this.#upstream?.destroy();
    this.#upstream = null;
  }

  onBodySent(): void {
    this.#reqSent = true;
    this.#clientDone = true;
  }

  onBodyError(reason: string): void {
    if (this.#over) return;
    this.#dropUpstream();
    if (this.#responding) return this.#cut();
    this.#answer(proxyErrors.refused(400, reason));
  }

  // ---- upstream response -------------------------------------------------------------------------

  get #responding(): boolean {
    return this.#relay?.head != null;
  }

  onUpstreamData(chunk: Buffer): void {
    this.#relay?.data(chunk);
  }

  onInvalidResponse(reason: string): void {
    this.#dropUpstream();
    this.#failUpstream(proxyErrors.invalidResponse(this.#app!.name, reason));
  }

  onResponseBroken(): void {
    this.#cut();
  }

  onUpstreamEnd(): void {
    if (this.#relay?.upstreamEnded()) return;
    this.onUpstreamError(new Error('upstream closed the connection'));
  }

  onUpstreamError(_error: Error): void {
    const upstream = this.#upstream;
    if (!upstream || this.#over) return;
    this.#dropUpstream();
    if (this.#responding) return this.#cut();
    // Failed before a response began: refused, reset or closed (ReleaseStats.upstreamErrors).
    if (this.#target) this.#target.counters.release.upstreamErrors++;
    // A reused keep-alive connection may have been closed by the app just as we sent: the classic race.
    // Replaying is safe when the request carried no body, or its body was not sent yet.
    const replayable = upstream.reused && (this.#body === null || !this.#body.started);
    if (replayable && this.#attempts < MAX_ATTEMPTS) {
      this.#tried.pop();
      return this.#connect();
    }
    this.#failUpstream(proxyErrors.unreachable(this.#app!.name));
  }

  onUpstreamTimeout(): void {
    if (this.#responding || !this.#upstream) return;
    this.#dropUpstream();
    if (this.#target) this.#target.counters.release.upstreamErrors++;
    this.#failUpstream(proxyErrors.timeout(this.#app!.name, Math.round(this.#scope.ctx.options.responseTimeoutMs / 1000)));
  }

  drainExpired(): void {
    // The release's drain time is up and this request still runs: cut it.
    if (this.#over) return;
    this.#dropUpstream();
    if (this.#responding) return this.#cut();
    this.#failUpstream(proxyErrors.unreachable(this.#app!.name));
  }

  // ---- endings -----------------------------------------------------------------------------------

  #record(status: number, proxyError: boolean): void {
    const target = this.#target;
    if (target && this.#scope.ctx.countStats) target.counters.record(status, performance.now() - this.#startedAt, proxyError);
  }

  /** One access-log line (when there is a log): `byApp` false when the proxy answered itself. */
  #log(status: number, bytes: number, byApp: boolean): void {
    const sink = this.#scope.ctx.accessLog;
    if (sink === null) return;
    const req = this.#req;
    const target = byApp || this.#chaos ? this.#target : null;
    const entry: AccessEntry = {
      time: isoNow(),
      ip: this.#scope.clientIp,
      method: req ? accessMethod(req.method) : '-',
      path: req ? accessPath(req.target) : '-',
      status,
      bytes,
      ms: accessMs(performance.now() - this.#startedAt),
      host: accessHost(req ? req.host : null),
      app: this.#app ? this.#app.name : null,
      release: target ? target.release : null,
      instance: target ? target.id : null,
      id: this.#requestId || this.#scope.ctx.requestIds.next(),
      proto: 'h2',
      tls: true,
    };
    if (this.#chaos) entry.chaos = true;
    sink.add(entry);
  }

  #failUpstream(kind: ProxyErrorKind): void {
    this.#record(kind.status, true);
    this.#answer(kind);
  }

  /** One of the proxy's pages, then the end of the exchange. */
  #answer(kind: ProxyErrorKind): void {
    const req = this.#req;
    const accept = req ? requestHeader(req, 'accept') : undefined;
    const json = accept !== undefined && accept.includes('application/json') && !accept.includes('text/html');
    const page = errorResponse(kind, { json, head: req?.method === 'HEAD', hsts: this.#hsts });
    this.#log(kind.status, page.body.length, false);
    try {
      this.#stream.respond(page.headers, { endStream: page.body.length === 0 });
      if (page.body.length > 0) this.#stream.end(page.body);
    } catch {
      // The stream went away meanwhile: nothing to answer.
    }
    this.#endStream();
    this.#finish(false);
  }

  /** The upstream sent the whole response: its connection back to the pool if clean, the stream ended. */
  onResponseEnd(): void {
    const relay = this.#relay!;
    this.#record(relay.head!.status, false);
    this.#log(relay.head!.status, relay.bytes, true);
    const upstream = this.#upstream;
    this.#upstream = null;
    if (upstream) {
      if (relay.reusable && this.#reqSent && !upstream.closed) upstream.pool.release(upstream);
      else upstream.destroy();
    }
    if (!this.#clientDone) this.#body?.detach();
    relay.finish(!this.#clientDone);
    this.#finish(false);
  }

  /**
   * Answered before the client finished its body: stop reading it and tell the client, once the answer is
   * out, that the rest is not wanted (RST_STREAM NO_ERROR, RFC 9113 8.1).
   */
  #endStream(): void {
    if (this.#clientDone) return;
    this.#body?.detach();
    if (!this.#stream.destroyed) this.#stream.close(constants.NGHTTP2_NO_ERROR);
  }

  /** The response was under way and cannot be finished: reset the stream (the HTTP/1 path closes the socket). */
  #cut(): void {
    this.#record(this.#relay?.head?.status ?? 502, true);
    this.#log(this.#relay?.head?.status ?? 502, this.#relay?.bytes ?? 0, this.#responding);
    this.#dropUpstream();
    if (!this.#stream.destroyed) this.#stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    this.#finish(false);
  }

  #onStreamClose(): void {
    if (this.#over) return;
    // The client reset the stream (or the session ended) mid-exchange: the upstream is in an unknown state.
    // Counted as a reset whatever its code: RST_STREAM(NO_ERROR) costs berth as much as CANCEL.
    if (this.#req !== null) this.#log(this.#relay?.head?.status ?? 499, this.#relay?.bytes ?? 0, true);
    this.#dropUpstream();
    this.#finish(true);
  }

  #finish(reset: boolean): void {
    if (this.#over) return;
    this.#over = true;
    if (this.#chaosTimer !== null) clearTimeout(this.#chaosTimer);
    this.#chaosTimer = null;
    this.#finishTarget();
    this.#scope.ended(reset);
  }
}
