/**
 * What berth's own parser reads in a client's byte stream: the requests (with their decoded bodies) the
 * proxy will forward, and the refusal that ends the connection, if any. This is one side of the
 * differential: the recording upstream must see exactly these requests, no more, no fewer, no other.
 *
 * It uses the proxy's own head parser and body framers (src/proxy/http1), and mirrors the connection
 * loop's decisions (src/proxy/connection.ts): one request at a time, stop after a refusal, after a request
 * that closes the connection, and at an upgrade (what follows is tunnel data, not requests).
 */
import { ChunkedBody, LengthBody, type BodyFramer } from '../../src/proxy/http1/body.ts';
import { isHeadError, parseRequestHead } from '../../src/proxy/http1/request-head.ts';

export const MAX_HEAD = 32 * 1024;

export interface ExpectedRequest {
  method: string;
  target: string;
  rawHost: string | null;
  body: Buffer;
  chunked: boolean;
  contentLength: number;
  upgrade: string | null;
  /** Lowercased names the client listed in Connection. */
  connection: string[];
}

export interface Answer {
  status: number;
  /** The answer to a HEAD request: no body follows its head. */
  head: boolean;
}

export interface ExpectedExchange {
  requests: ExpectedRequest[];
  /** Answers the client must read, in order (interim 1xx left out): the app's 200 or 101 per forwarded request, the proxy's own for the rest. */
  answers: Answer[];
  /** Methods berth forwarded that the upstream's parser does not know (it refuses them). */
  unknownMethods: string[];
  /** Why reading stopped: a refusal or a closing request ends the connection; `open` and `incomplete` leave it to the client. */
  end: 'refused' | 'close' | 'upgrade' | 'incomplete' | 'open';
}

/**
 * `upstreamMethods`: methods the upstream's parser knows. berth forwards any method nginx would; one the
 * app's server does not know is refused by it (berth then answers 502), and reads as nothing upstream.
 */
export function expectedExchange(stream: Buffer, routedHost: string, upstreamMethods: ReadonlySet<string>): ExpectedExchange {
  const requests: ExpectedRequest[] = [];
  const answers: Answer[] = [];
  const unknownMethods: string[] = [];
  const done = (end: ExpectedExchange['end'], answer?: Answer): ExpectedExchange => {
    if (answer) answers.push(answer);
    return { requests, answers, unknownMethods, end };
  };
  let offset = 0;
  for (;;) {
    if (offset >= stream.length) return done('open');
    const rest = stream.subarray(offset);
    const head = parseRequestHead(rest, MAX_HEAD);
    if (head === null) return done('incomplete');
    if (isHeadError(head)) return done('refused', { status: head.status, head: false });
    offset += head.size;
    const framer: BodyFramer | null = head.chunked ? new ChunkedBody() : head.contentLength > 0 ? new LengthBody(head.contentLength) : null;
    const closes = !head.keepAlive || head.minor === 0;
    // An unknown host is answered by the proxy before any body is read: with a body, it cannot find the next request.
    if (head.host !== routedHost) {
      const answer = { status: 404, head: head.method === 'HEAD' };
      if (framer || closes) return done('close', answer);
      answers.push(answer);
      continue;
    }
    const parts: Buffer[] = [];
    if (framer) {
      let used: number;
      const buf = stream.subarray(offset);
      try {
        used = framer.consume(buf, 0, (start, end) => parts.push(buf.subarray(start, end)));
      } catch {
        return done('refused', { status: 400, head: false });
      }
      if (!framer.done) return done('incomplete');
      offset += used;
    }
    if (!upstreamMethods.has(head.method)) {
      unknownMethods.push(head.method);
      answers.push({ status: 502, head: false });
      if (closes) return done('close');
      continue;
    }
    requests.push({
      method: head.method,
      target: head.target,
      rawHost: head.rawHost,
      body: Buffer.concat(parts),
      chunked: head.chunked,
      contentLength: head.contentLength,
      upgrade: head.upgrade,
      connection: head.connection,
    });
    if (head.upgrade) return done('upgrade', { status: 101, head: false });
    answers.push({ status: 200, head: head.method === 'HEAD' });
    if (closes) return done('close');
  }
}
