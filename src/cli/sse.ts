/**
 * Server-sent events (text/event-stream) as the HTML standard defines them: lines end with CRLF, LF or CR;
 * `data` lines accumulate; a blank line dispatches; `:` starts a comment (the server's keep-alives).
 * The parser is incremental and takes bytes, so it is correct wherever the network splits the stream,
 * including inside a CRLF pair or a multi-byte character.
 */

export interface SseMessage {
  /** `event:` field; `message` when absent, as in browsers. */
  event: string;
  data: string;
  /** The last `id:` seen on the stream so far (ids persist across messages). */
  id?: string;
  retry?: number;
}

export class SseParser {
  readonly #decoder = new TextDecoder('utf-8');
  #partial = '';
  /** The previous chunk ended in CR: a LF at the start of the next one belongs to the same line end. */
  #skipLf = false;
  #data: string[] = [];
  #event = '';
  #id: string | undefined;
  #retry: number | undefined;

  push(chunk: Uint8Array | string): SseMessage[] {
    return this.#text(typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true }));
  }

  /** The stream ended: an unterminated message is dropped, as the standard says. */
  end(): SseMessage[] {
    const out = this.#text(this.#decoder.decode());
    this.#partial = '';
    this.#data = [];
    this.#event = '';
    return out;
  }

  #text(input: string): SseMessage[] {
    if (input === '') return [];
    let text = input;
    if (this.#skipLf && text.startsWith('\n')) text = text.slice(1);
    this.#skipLf = false;
    const out: SseMessage[] = [];
    let buffer = this.#partial + text;
    for (;;) {
      const cr = buffer.indexOf('\r');
      const lf = buffer.indexOf('\n');
      const at = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (at === -1) break;
      let next = at + 1;
      if (buffer[at] === '\r') {
        if (at + 1 === buffer.length) this.#skipLf = true;
        else if (buffer[at + 1] === '\n') next = at + 2;
      }
      const message = this.#line(buffer.slice(0, at));
      if (message) out.push(message);
      buffer = buffer.slice(next);
    }
    this.#partial = buffer;
    return out;
  }

  #line(line: string): SseMessage | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.#retry = Number(value);
    return undefined;
  }

  #dispatch(): SseMessage | undefined {
    const data = this.#data;
    const event = this.#event;
    this.#data = [];
    this.#event = '';
    if (data.length === 0) return undefined;
    const message: SseMessage = { event: event || 'message', data: data.join('\n') };
    if (this.#id !== undefined) message.id = this.#id;
    if (this.#retry !== undefined) message.retry = this.#retry;
    return message;
  }
}

/**
 * The messages of a response body, as they arrive. Aborting `signal` cancels the body (closing the
 * connection) and makes the generator throw the abort reason; leaving the loop early cancels it too.
 */
export async function* readSse(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<SseMessage> {
  const parser = new SseParser();
  const reader = body.getReader();
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(value);
    }
    // A cancelled read ends like a finished stream; tell the caller which it was.
    signal?.throwIfAborted();
    yield* parser.end();
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await reader.cancel().catch(() => undefined);
  }
}
