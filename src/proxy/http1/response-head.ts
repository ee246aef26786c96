import type { HeadError } from './request-head.ts';
import { BAD_VALUE_CHAR, DIGITS, TOKEN, listTokens, trimOws } from './tokens.ts';

export interface ResponseHead {
  status: number;
  reason: string;
  minor: number;
  names: string[];
  values: string[];
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  /** The upstream wants to close this connection after the response. */
  close: boolean;
  connection: string[];
  /** True when the head carries nothing connection-specific, so its raw bytes can be forwarded as they are. */
  clean: boolean;
  size: number;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Parses an upstream response head with the same strictness as requests; null when more bytes are needed. */
export function parseResponseHead(buf: Buffer, maxSize: number): ResponseHead | HeadError | null {
  const end = buf.indexOf(CRLFCRLF);
  if (end === -1) return buf.length > maxSize ? { kind: 'error', status: 502, reason: 'upstream response head too large' } : null;
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const statusLine = lines[0];
  // HTTP/1.1 200 OK  (the reason phrase may be empty, and some servers omit the space before it)
  if (statusLine.length < 12 || !statusLine.startsWith('HTTP/1.') || statusLine.charCodeAt(8) !== 32) {
    return { kind: 'error', status: 502, reason: 'malformed upstream status line' };
  }
  const minorChar = statusLine.charCodeAt(7);
  if (minorChar !== 49 && minorChar !== 48) return { kind: 'error', status: 502, reason: 'unsupported upstream HTTP version' };
  const code = statusLine.slice(9, 12);
  if (!/^[1-5]\d\d$/.test(code) || (statusLine.length > 12 && statusLine.charCodeAt(12) !== 32)) {
    return { kind: 'error', status: 502, reason: 'malformed upstream status line' };
  }
  const minor = minorChar - 48;
  const names: string[] = [];
  const values: string[] = [];
  let contentLength = -1;
  let transferEncoding: string | null = null;
  let connection: string[] = [];
  let clean = minor === 1;

  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) return { kind: 'error', status: 502, reason: 'malformed upstream header' };
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return { kind: 'error', status: 502, reason: 'invalid upstream header name' };
    const value = trimOws(line.slice(colon + 1));
    if (BAD_VALUE_CHAR.test(value)) return { kind: 'error', status: 502, reason: 'invalid character in upstream header' };
    names.push(name);
    values.push(value);
    const lower = name.length <= 17 ? name.toLowerCase() : '';
    switch (lower) {
      case 'content-length': {
        if (!DIGITS.test(value)) return { kind: 'error', status: 502, reason: 'invalid upstream Content-Length' };
        const length = Number(value);
        if (contentLength !== -1 && contentLength !== length) return { kind: 'error', status: 502, reason: 'conflicting upstream Content-Length' };
        contentLength = length;
        break;
      }
      case 'transfer-encoding':
        if (transferEncoding !== null) return { kind: 'error', status: 502, reason: 'repeated upstream Transfer-Encoding' };
        transferEncoding = value.toLowerCase();
        break;
      case 'connection':
        connection = connection.concat(listTokens(value));
        clean = false;
        break;
      case 'keep-alive':
      case 'proxy-connection':
      case 'trailer':
      case 'upgrade':
      case 'te':
        clean = false;
        break;
    }
  }
  if (transferEncoding !== null) {
    if (transferEncoding !== 'chunked') return { kind: 'error', status: 502, reason: 'unsupported upstream Transfer-Encoding' };
    if (contentLength !== -1) return { kind: 'error', status: 502, reason: 'upstream sent both Content-Length and Transfer-Encoding' };
  }
  const close = minor === 0 ? !connection.includes('keep-alive') : connection.includes('close');
  return {
    status: Number(code),
    reason: statusLine.slice(13),
    minor,
    names,
    values,
    contentLength,
    chunked: transferEncoding !== null,
    close,
    connection,
    clean,
    size: end + 4,
  };
}

/** RFC 9112 6.3: responses to HEAD, 1xx, 204 and 304 never have a body, whatever their headers say. */
export function responseHasBody(method: string, status: number): boolean {
  return method !== 'HEAD' && status >= 200 && status !== 204 && status !== 304;
}
