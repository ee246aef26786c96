/**
 * The proxy's own responses. Each carries a stable `X-Berth-Error` code so scripts and monitors can
 * tell "no app here" from "app down" from "app too slow" without parsing HTML.
 */
export interface ProxyErrorKind {
  status: number;
  code: string;
  title: string;
  detail: string;
}

/** Reason phrases (RFC 9110 15) of every status the proxy answers with itself. */
const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/** Statuses the proxy refuses a request with, and their stable codes. */
const REFUSALS: Record<number, string> = {
  400: 'bad-request',
  405: 'method-not-allowed',
  417: 'expectation-failed',
  431: 'header-too-large',
  501: 'not-implemented',
  505: 'version-not-supported',
};

export const proxyErrors = {
  /** A request the proxy will not forward, with the status its parser chose (400, 405, 431, 501, 505). */
  refused: (status: number, reason: string): ProxyErrorKind => {
    const known = REFUSALS[status] === undefined ? 400 : status;
    return { status: known, code: REFUSALS[known], title: REASONS[known], detail: reason };
  },
  /** Plain HTTP sent to the TLS listener (nginx answers the same, "The plain HTTP request was sent to HTTPS port"). */
  plainHttpOnTls: (): ProxyErrorKind => ({
    status: 400,
    code: 'plain-http-to-https-port',
    title: 'Bad Request',
    detail: 'The plain HTTP request was sent to the HTTPS port. Use an `https://` URL for this port.',
  }),
  /** An ACME HTTP-01 token the proxy holds no answer for. */
  unknownChallenge: (): ProxyErrorKind => ({
    status: 404,
    code: 'acme-challenge-unknown',
    title: 'Not Found',
    detail: 'No ACME challenge with this token is pending here: certificates are requested by the berth server, see `berth certs`.',
  }),
  noApp: (host: string): ProxyErrorKind => ({
    status: 404,
    code: 'no-app',
    title: 'No app here',
    detail: `No app is deployed at ${host}. Deploy one with \`berth deploy\`, or list apps and their URLs with \`berth apps\`.`,
  }),
  noInstance: (app: string): ProxyErrorKind => ({
    status: 503,
    code: 'no-healthy-instance',
    title: 'Service unavailable',
    detail: `App ${app} has no healthy instance right now. Check it with \`berth status ${app}\` and \`berth logs ${app}\`.`,
  }),
  unreachable: (app: string): ProxyErrorKind => ({
    status: 502,
    code: 'upstream-unreachable',
    title: 'Bad gateway',
    detail: `App ${app} did not accept the connection or closed it without answering. See \`berth logs ${app}\`.`,
  }),
  invalidResponse: (app: string, reason: string): ProxyErrorKind => ({
    status: 502,
    code: 'upstream-invalid',
    title: 'Bad gateway',
    detail: `App ${app} sent an invalid HTTP response (${reason}).`,
  }),
  timeout: (app: string, seconds: number): ProxyErrorKind => ({
    status: 504,
    code: 'upstream-timeout',
    title: 'Gateway timeout',
    detail: `App ${app} did not answer within ${seconds} s.`,
  }),
};

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A complete HTTP response (head and body) for one of the proxy's errors. */
export function renderError(kind: ProxyErrorKind, options: { json: boolean; close: boolean; head: boolean }): string {
  const body = options.json
    ? JSON.stringify({ error: { code: kind.code, message: kind.detail } }) + '\n'
    : `<!doctype html><html><head><meta charset="utf-8"><title>${kind.status} ${kind.title}</title>` +
      '<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}' +
      'code{background:#f3f3f3;padding:.1em .3em;border-radius:3px}small{color:#777}</style></head>' +
      `<body><h1>${kind.status} ${kind.title}</h1><p>${escapeHtml(kind.detail).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>` +
      `<small>berth · ${kind.code}</small></body></html>\n`;
  const length = Buffer.byteLength(body);
  let head =
    `HTTP/1.1 ${kind.status} ${REASONS[kind.status] ?? kind.title}\r\n` +
    `Content-Type: ${options.json ? 'application/json' : 'text/html; charset=utf-8'}\r\n` +
    `Content-Length: ${length}\r\nCache-Control: no-store\r\nX-Berth-Error: ${kind.code}\r\n`;
  if (kind.status === 503) head += 'Retry-After: 5\r\n';
  if (options.close) head += 'Connection: close\r\n';
  return head + '\r\n' + (options.head ? '' : body);
}

/** `308 Permanent Redirect` to `location` (a URL berth built from a validated host and target). */
export function renderRedirect(location: string, options: { close: boolean }): string {
  return `HTTP/1.1 308 Permanent Redirect\r\nLocation: ${location}\r\nContent-Length: 0\r\nCache-Control: no-store\r\n${options.close ? 'Connection: close\r\n' : ''}\r\n`;
}

/** `200 OK` with a text/plain body: an ACME key authorization. */
export function renderText(body: string, options: { close: boolean; head: boolean }): string {
  return (
    `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\n` +
    `${options.close ? 'Connection: close\r\n' : ''}\r\n${options.head ? '' : body}`
  );
}
