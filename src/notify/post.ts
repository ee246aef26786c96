/**
 * One attempt to post a notification: a fresh connection (no pool to go stale between rare posts), one
 * deadline over everything (DNS, connect, TLS, headers, body), no redirect followed, and the answer read
 * only up to a cap: a receiver that hangs is cut at the deadline, one that streams megabytes at the cap.
 * Never throws: every outcome is an `AttemptResult`, its texts scrubbed of the URL's secret parts.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { scrub } from './target.ts';

export interface AttemptResult {
  /** 2xx. */
  ok: boolean;
  /** The HTTP status; null when no answer came. */
  status: number | null;
  /** The start of the receiver's answer (text, at most `ANSWER_KEEP` characters). */
  answer: string;
  /** Why it failed, for the history; null when it did not. */
  error: string | null;
  ms: number;
}

export interface PostOptions {
  timeoutMs: number;
  /** Read at most this much of the answer; the connection is cut past it. */
  maxAnswerBytes?: number;
  signal?: AbortSignal;
}

/** The port the controller posts through (tests may count or fail attempts with their own). */
export type Post = (url: URL, headers: Record<string, string>, body: string, options: PostOptions) => Promise<AttemptResult>;

const ANSWER_KEEP = 300;
const DEFAULT_MAX_ANSWER = 64 * 1024;

export const postHttp: Post = (url, headers, body, options) => {
  const started = performance.now();
  const cap = options.maxAnswerBytes ?? DEFAULT_MAX_ANSWER;
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<AttemptResult, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      req.destroy();
      resolve({ ...result, answer: scrub(result.answer, url), error: result.error === null ? null : scrub(result.error, url), ms: Math.round(performance.now() - started) });
    };
    const requester = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = requester(url, {
      method: 'POST',
      agent: false,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'berth-notify/1', connection: 'close' },
    });
    const timer = setTimeout(() => finish({ ok: false, status: null, answer: '', error: `no answer within ${Math.round(options.timeoutMs / 100) / 10} s` }), options.timeoutMs);
    const onAbort = () => finish({ ok: false, status: null, answer: '', error: 'the berth server is stopping' });
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error: Error & { code?: string }) => finish({ ok: false, status: null, answer: '', error: error.code ? `${error.code}: ${error.message}` : error.message }));
    req.on('response', (res: IncomingMessage) => readAnswer(res, cap, (answer, cut) => {
      const status = res.statusCode ?? 0;
      const ok = status >= 200 && status < 300;
      const location = status >= 300 && status < 400 ? ' (redirects are not followed: give the final URL)' : '';
      finish({ ok, status, answer, error: ok ? null : `HTTP ${status}${location}${cut ? ' (answer cut at the cap)' : ''}${answer ? `: ${answer}` : ''}`.slice(0, 500) });
    }));
    req.end(body);
  });
};

/** The answer's start as text; `done` once it ended, broke off, or passed `cap` bytes (then cut). */
function readAnswer(res: IncomingMessage, cap: number, done: (answer: string, cut: boolean) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let called = false;
  const end = (cut: boolean) => {
    if (called) return;
    called = true;
    const text = Buffer.concat(chunks).subarray(0, Math.min(size, 4 * ANSWER_KEEP)).toString('utf8');
    // eslint-disable-next-line no-control-regex
    done(text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().slice(0, ANSWER_KEEP), cut);
  };
  res.on('data', (chunk: Buffer) => {
    if (chunks.length < 4 || size < 4 * ANSWER_KEEP) chunks.push(chunk);
    size += chunk.length;
    if (size > cap) end(true);
  });
  res.on('end', () => end(false));
  res.on('error', () => end(false));
  res.on('aborted', () => end(false));
}
