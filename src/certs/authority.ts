/**
 * The certificate authority port: something that, given hostnames, gets a certificate for them while the
 * caller publishes the HTTP-01 answers it is handed. ./acme.ts is the implementation berth runs (an ACME
 * CA through acme-client); tests of the manager use another honest one.
 */

/** An HTTP-01 challenge: GET /.well-known/acme-challenge/<token> must answer <keyAuthorization>. */
export interface HttpChallenge {
  token: string;
  keyAuthorization: string;
}

export interface IssueOptions {
  /**
   * Publishes the answer where the CA will ask for it (the proxy's HTTP listener) and resolves once it is
   * served; resolves with the function that takes it down again. The authority calls that function when
   * the challenge is done, in every case.
   */
  onChallenge(challenge: HttpChallenge): Promise<() => Promise<void>>;
  /** Aborts the issuance (the daemon stopping, or the caller's deadline). */
  signal: AbortSignal;
}

export interface IssuedPair {
  /** The chain, leaf first, PEM. */
  certPem: string;
  /** The leaf's private key, PKCS#8 PEM: made for this certificate alone. */
  keyPem: string;
}

export interface CertificateAuthority {
  /**
   * One certificate for `domains` (the first is its common name). Fails with a catalogue error:
   * ACME_RATE_LIMITED (details.retryAfterMs when the CA said), ACME_REFUSED, ACME_CA_UNREACHABLE.
   */
  issue(domains: string[], options: IssueOptions): Promise<IssuedPair>;
}

/** A token or key authorization as RFC 8555 makes them (base64url, and one `.`): anything else is not published. */
export const CHALLENGE_TEXT = /^[A-Za-z0-9_-]{16,256}(\.[A-Za-z0-9_-]{16,256})?$/;
