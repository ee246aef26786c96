import type { ServerResponse } from 'node:http';

/** A server-sent events stream with a heartbeat so proxies and idle timeouts keep it open. */
export class EventStream {
  readonly #res: ServerResponse;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #closed = new AbortController();
  /** Aborts when the stream ends: the client went away or the server closed it. Stops the work feeding it. */
  readonly signal = this.#closed.signal;

  constructor(res: ServerResponse, heartbeatMs = 15_000) {
    this.#res = res;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.flushHeaders();
    this.#heartbeat = setInterval(() => this.#write(': keep-alive\n\n'), heartbeatMs);
    this.#heartbeat.unref();
    res.on('close', () => this.close());
  }

  send(event: string, data: unknown, id?: number): void {
    let text = '';
    if (id !== undefined) text += `id: ${id}\n`;
    text += `event: ${event}\n`;
    for (const line of JSON.stringify(data).split('\n')) text += `data: ${line}\n`;
    this.#write(text + '\n');
  }

  get closed(): boolean {
    return this.signal.aborted;
  }

  #write(text: string): void {
    if (!this.closed) this.#res.write(text);
  }

  close(): void {
    if (this.closed) return;
    this.#closed.abort(new Error('the event stream closed'));
    clearInterval(this.#heartbeat);
    this.#res.end();
  }
}
