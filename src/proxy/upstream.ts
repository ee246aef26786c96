import { connect, type Socket } from 'node:net';

/** Whoever currently uses an upstream connection; the connection forwards its socket events there. */
export interface UpstreamOwner {
  onUpstreamData(chunk: Buffer): void;
  onUpstreamEnd(): void;
  onUpstreamError(error: Error): void;
  onUpstreamTimeout(): void;
}

/**
 * One keep-alive connection to an app instance. Socket listeners are attached once and dispatch to the
 * current owner, so reusing a connection costs no listener churn on the hot path.
 */
export class Upstream {
  readonly socket: Socket;
  readonly pool: UpstreamPool;
  owner: UpstreamOwner | null = null;
  /** Served at least one request before: a failure before any response byte may be a keep-alive race. */
  reused = false;
  closed = false;

  constructor(socket: Socket, pool: UpstreamPool) {
    this.socket = socket;
    this.pool = pool;
    socket.on('data', (chunk: Buffer) => {
      if (this.owner) this.owner.onUpstreamData(chunk);
      else this.destroy(); // bytes on an idle connection: the upstream is confused; never reuse it
    });
    socket.on('end', () => {
      this.closed = true;
      if (this.owner) this.owner.onUpstreamEnd();
      else this.destroy();
    });
    socket.on('error', (error) => {
      this.closed = true;
      if (this.owner) this.owner.onUpstreamError(error);
    });
    socket.on('close', () => {
      this.closed = true;
      pool.forget(this);
      if (this.owner) this.owner.onUpstreamError(new Error('upstream connection closed'));
    });
    socket.on('timeout', () => {
      if (this.owner) this.owner.onUpstreamTimeout();
      else this.destroy();
    });
  }

  destroy(): void {
    this.closed = true;
    this.owner = null;
    this.socket.destroy();
  }
}

export interface PoolOptions {
  connectTimeoutMs: number;
  /** Close idle connections before a typical upstream would (Node's default keep-alive timeout is 5 s). */
  idleTimeoutMs: number;
  maxIdle: number;
}

/** Idle keep-alive connections to one instance address. */
export class UpstreamPool {
  readonly host: string;
  readonly port: number;
  readonly options: PoolOptions;
  #idle: Upstream[] = [];
  #all = new Set<Upstream>();
  /** Draining or removed targets stop pooling: connections close as soon as their request is done. */
  accepting = true;

  constructor(host: string, port: number, options: PoolOptions) {
    this.host = host;
    this.port = port;
    this.options = options;
  }

  /** A pooled idle connection, most recently used first (it is the least likely to have timed out). */
  takeIdle(): Upstream | undefined {
    for (;;) {
      const upstream = this.#idle.pop();
      if (!upstream) return undefined;
      if (upstream.closed || upstream.socket.destroyed) continue;
      upstream.socket.setTimeout(0);
      return upstream;
    }
  }

  /** Opens a new connection; `done` gets it once connected, or the error. */
  open(done: (error: Error | null, upstream?: Upstream) => void): void {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    const upstream = new Upstream(socket, this);
    this.#all.add(upstream);
    let settled = false;
    const settle = (error: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('error', onError);
      if (error) {
        upstream.destroy();
        done(error);
      } else done(null, upstream);
    };
    const onConnect = () => settle(null);
    const onError = (error: Error) => settle(error);
    const timer = setTimeout(() => settle(new Error('connect timeout')), this.options.connectTimeoutMs);
    socket.once('connect', onConnect);
    socket.once('error', onError);
  }

  /** Returns a connection after a complete exchange; it is closed instead if the pool no longer wants it. */
  release(upstream: Upstream): void {
    upstream.owner = null;
    if (!this.accepting || upstream.closed || this.#idle.length >= this.options.maxIdle) {
      upstream.destroy();
      return;
    }
    upstream.reused = true;
    upstream.socket.setTimeout(this.options.idleTimeoutMs);
    this.#idle.push(upstream);
  }

  forget(upstream: Upstream): void {
    this.#all.delete(upstream);
    const i = this.#idle.indexOf(upstream);
    if (i !== -1) this.#idle.splice(i, 1);
  }

  closeIdle(): void {
    for (const upstream of this.#idle.splice(0)) upstream.destroy();
  }

  destroyAll(): void {
    this.closeIdle();
    for (const upstream of this.#all) upstream.destroy();
    this.#all.clear();
  }
}
