import type { RequestHead } from './http1/request-head.ts';
import type { AppRuntime } from './live-routes.ts';
import { proxyErrors, renderError, renderRedirect, renderText } from './pages.ts';

/** What the plain-HTTP listener needs to know to answer for HTTPS, before any routing. */
export interface HttpEdge {
  /** The key authorization for an ACME HTTP-01 token; undefined when none is pending. */
  keyAuthorization(token: string): string | undefined;
  /** The TLS listener's port when a valid certificate covers `host` now; null otherwise (or with no TLS listener). */
  httpsPortFor(host: string): number | null;
  /** Counted as they are answered (ProxyStats.tls). */
  answered(kind: 'challenge' | 'redirect'): void;
}

const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/**
 * The HTTP listener's own answer to a request, or null to route it as usual:
 * - `GET|HEAD /.well-known/acme-challenge/<token>`, any host, app or no app: the key authorization (200,
 *   text/plain) or 404. Routed before anything else, so a redirect never hides a challenge.
 * - a host whose app redirects (`https.redirect`) and that a valid certificate covers: 308 to the same
 *   path on https://, the TLS port named unless it is 443.
 * `close` says whether the response ends the connection (the caller owns the request body's framing).
 */
export function edgeAnswer(req: RequestHead, app: AppRuntime | undefined, edge: HttpEdge, close: boolean): string | null {
  const head = req.method === 'HEAD';
  if ((req.method === 'GET' || head) && req.target.startsWith(CHALLENGE_PREFIX)) {
    edge.answered('challenge');
    const answer = edge.keyAuthorization(req.target.slice(CHALLENGE_PREFIX.length));
    if (answer === undefined) return renderError(proxyErrors.unknownChallenge(), { json: false, close, head });
    return renderText(answer, { close, head });
  }
  if (!app?.https.redirect || req.host === null || req.target[0] !== '/') return null;
  const port = edge.httpsPortFor(req.host);
  if (port === null) return null;
  edge.answered('redirect');
  return renderRedirect(`https://${req.host}${port === 443 ? '' : `:${port}`}${req.target}`, { close });
}
