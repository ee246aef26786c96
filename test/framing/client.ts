/**
 * A raw client for the differential: writes a case's bytes (in the deliveries the case gives, a
 * millisecond apart so the proxy reads them as separate chunks) and reads the answers back with a strict
 * response reader, until it has the answers it expects and the connection settled, or closed, or time ran out.
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChunkedBody, LengthBody, NoBody, UntilCloseBody, type BodyFramer } from '../../src/proxy/http1/body.ts';
import { isHeadError } from '../../src/proxy/http1/request-head.ts';
import { parseResponseHead, responseHasBody } from '../../src/proxy/http1/response-head.ts';
import type { Answer } from './model.ts';

export interface ClientAnswer {
  status: number;
  reason: string;
  headers: Map<string, string>;
  body: Buffer;
}

export interface ClientResult {
  answers: ClientAnswer[];
  interim: number;
  closed: boolean;
  /** Bytes after the last complete answer that are not a complete answer themselves. */
  leftover: number;
  error: string | null;
}

export async function exchange(port: number, deliveries: Buffer[], expect: Answer[], options: { waitClose: boolean; timeoutMs?: number; settleMs?: number }): Promise<ClientResult> {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  const result: ClientResult = { answers: [], interim: 0, closed: false, leftover: 0, error: null };
  let buf: Buffer = Buffer.alloc(0);
  let framer: BodyFramer | null = null;
  let current: ClientAnswer | null = null;
  let tunnel = false;

  const read = (): void => {
    for (;;) {
      if (tunnel) {
        buf = Buffer.alloc(0);
        return;
      }
      if (current === null) {
        const head = parseResponseHead(buf, 64 * 1024);
        if (head === null) return;
        if (isHeadError(head)) {
          result.error = `unreadable answer: ${head.reason}`;
          return;
        }
        buf = buf.subarray(head.size);
        if (head.status < 200 && head.status !== 101) {
          result.interim++;
          continue;
        }
        const headers = new Map<string, string>();
        head.names.forEach((name, i) => headers.set(name.toLowerCase(), head.values[i]));
        current = { status: head.status, reason: head.reason, headers, body: Buffer.alloc(0) };
        const expected = expect[result.answers.length];
        if (head.status === 101) {
          result.answers.push(current);
          current = null;
          tunnel = true;
          continue;
        }
        const hasBody = responseHasBody(expected?.head ? 'HEAD' : 'GET', head.status);
        framer = !hasBody ? new NoBody() : head.chunked ? new ChunkedBody() : head.contentLength >= 0 ? new LengthBody(head.contentLength) : new UntilCloseBody();
      }
      const parts: Buffer[] = [current.body];
      let used: number;
      try {
        used = framer!.consume(buf, 0, (s, e) => parts.push(buf.subarray(s, e)));
      } catch (error) {
        result.error = `unreadable answer body: ${(error as Error).message}`;
        return;
      }
      current.body = Buffer.concat(parts);
      buf = buf.subarray(used);
      if (!framer!.done) return;
      result.answers.push(current);
      current = null;
      framer = null;
    }
  };

  const closed = new Promise<void>((resolve) => {
    socket.on('close', () => {
      result.closed = true;
      if (current && framer instanceof UntilCloseBody) {
        result.answers.push(current);
        current = null;
      }
      resolve();
    });
  });
  socket.on('error', () => undefined);
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    read();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  for (let i = 0; i < deliveries.length; i++) {
    if (socket.destroyed) break;
    socket.write(deliveries[i]);
    if (i < deliveries.length - 1) await sleep(1);
  }
  const deadline = Date.now() + (options.timeoutMs ?? 3000);
  while (!result.closed && Date.now() < deadline) {
    const complete = result.answers.length >= expect.length;
    if (complete && !options.waitClose) {
      // Anything more than expected would arrive now: give it a moment.
      await Promise.race([closed, sleep(options.settleMs ?? 30)]);
      break;
    }
    await Promise.race([closed, sleep(5)]);
  }
  result.leftover = buf.length + (current ? 1 : 0);
  socket.destroy();
  // Our own destroy must not read as the proxy closing: report the state as it was.
  return { ...result, answers: [...result.answers] };
}
