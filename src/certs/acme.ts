/**
 * The certificate authority berth runs: an ACME CA (Let's Encrypt by default) through acme-client, which
 * does RFC 8555's part (JWS signing, nonces, account, orders, finalization); berth drives the order itself
 * so every wait is cut short by the issuance's signal and every answer is read for what it says (see
 * ./acme-exchange.ts). HTTP-01 only: the proxy answers the challenge on its HTTP listener.
 *
 * The account key is made once per directory, sealed in the store, and registered with the CA (agreeing to
 * its terms of service, as every ACME client does for its user); the certificate's key is a fresh ECDSA
 * P-256 key each time and leaves this module only to be sealed.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { Authorization, Client, Order } from 'acme-client';
import { BerthError, fail, isBerthError } from '../errors/catalogue.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { Sealer } from '../secrets/sealer.ts';
import type { Store } from '../store/store.ts';
import { WatchedAgent, watchExchanges, withinScope, type ExchangeScope } from './acme-exchange.ts';
import { CHALLENGE_TEXT, type CertificateAuthority, type HttpChallenge, type IssueOptions, type IssuedPair } from './authority.ts';

export interface AcmeAuthorityOptions {
  directoryUrl: string;
  /** The account's contact address (expiry warnings from the CA), or none. */
  email: string | null;
  /** PEM of a CA trusted for the ACME server besides the system's (pebble's, a private CA). */
  ca: string | null;
  store: Pick<Store, 'acmeAccounts'>;
  sealer: Sealer;
  clock: Clock;
  log: Logger;
  /** One HTTP exchange with the CA. */
  requestTimeoutMs?: number;
  /** The whole issuance: a CA that never finishes fails with ACME_CA_UNREACHABLE. */
  deadlineMs?: number;
}

const newKey = (): string => generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;

/** Waits between two looks at an authorization or order still being processed. */
const POLL_MS = [250, 500, 1000, 2000, 3000];

export class AcmeAuthority implements CertificateAuthority {
  readonly #options: AcmeAuthorityOptions;
  readonly #requestTimeoutMs: number;
  readonly #deadlineMs: number;

  constructor(options: AcmeAuthorityOptions) {
    this.#options = options;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 20_000;
    this.#deadlineMs = options.deadlineMs ?? 180_000;
  }

  async issue(domains: string[], options: IssueOptions): Promise<IssuedPair> {
    const deadline = AbortSignal.timeout(this.#deadlineMs);
    const signal = AbortSignal.any([options.signal, deadline]);
    const agent = new WatchedAgent(this.#options.ca);
    const scope: ExchangeScope = { signal, requestTimeoutMs: this.#requestTimeoutMs, agent, problems: [], networkError: null, timedOut: false };
    let onAbort = () => {};
    try {
      const work = withinScope(scope, () => this.#order(domains, options.onChallenge, signal));
      // The signal ends every exchange at once; this ends the wait for them too.
      const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', (onAbort = () => reject(signal.reason)), { once: true }));
      return await Promise.race([work, aborted]);
    } catch (error) {
      if (options.signal.aborted && !deadline.aborted) throw error;
      scope.networkError = agent.lastError;
      throw this.#classify(error, scope, domains[0], deadline.aborted);
    } finally {
      signal.removeEventListener('abort', onAbort);
      agent.destroy();
    }
  }

  async #order(domains: string[], onChallenge: IssueOptions['onChallenge'], signal: AbortSignal): Promise<IssuedPair> {
    const acme = await import('acme-client');
    watchExchanges(acme.axios as never);
    const client = await this.#client(acme);
    const order = await client.createOrder({ identifiers: domains.map((value) => ({ type: 'dns', value })) });
    for (const authz of await client.getAuthorizations(order)) {
      if (authz.status === 'valid') continue;
      await this.#validate(client, order, authz, onChallenge, signal);
    }
    const keyPem = newKey();
    const [, csr] = await acme.crypto.createCsr({ commonName: domains[0], altNames: domains }, keyPem);
    let current = await client.finalizeOrder(order, csr);
    current = await this.#poll(signal, async () => {
      const seen = current.status === 'valid' || current.status === 'invalid' ? current : await client.getOrder(current);
      if (seen.status === 'invalid') throw fail('ACME_REFUSED', { domain: domains[0], detail: 'the CA marked the order invalid after finalization' });
      return seen.status === 'valid' ? seen : undefined;
    });
    const certPem = await client.getCertificate(current);
    return { certPem, keyPem };
  }

  /** Publishes the HTTP-01 answer, tells the CA to look, and waits for its verdict; the answer goes down again in every case. */
  async #validate(client: Client, order: Order, authz: Authorization, onChallenge: IssueOptions['onChallenge'], signal: AbortSignal): Promise<void> {
    const name = authz.identifier.value;
    const challenge = authz.challenges.find((c) => c.type === 'http-01');
    if (!challenge) throw fail('ACME_REFUSED', { domain: name, detail: 'the CA offers no http-01 challenge for it' });
    const answer: HttpChallenge = { token: challenge.token, keyAuthorization: await client.getChallengeKeyAuthorization(challenge) };
    if (!CHALLENGE_TEXT.test(answer.token) || !CHALLENGE_TEXT.test(answer.keyAuthorization)) {
      throw fail('ACME_REFUSED', { domain: name, detail: 'the CA sent a challenge token that is not base64url' });
    }
    const remove = await onChallenge(answer);
    try {
      await client.completeChallenge(challenge);
      await this.#poll(signal, async () => {
        const seen = (await client.getAuthorizations(order)).find((a) => a.identifier.value === name);
        if (!seen || seen.status === 'pending') return undefined;
        if (seen.status === 'valid') return true;
        const failed = seen.challenges.find((c) => c.type === 'http-01')?.error as { detail?: string } | undefined;
        throw fail('ACME_REFUSED', { domain: name, detail: failed?.detail ? `its HTTP-01 challenge failed: ${String(failed.detail).slice(0, 500)}` : `its authorization is ${seen.status}` });
      });
    } finally {
      await remove();
    }
  }

  /** Asks `look` again after short waits until it returns something; the signal ends the waiting. */
  async #poll<T>(signal: AbortSignal, look: () => Promise<T | undefined>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const found = await look();
      if (found !== undefined) return found;
      await this.#options.clock.sleep(POLL_MS[Math.min(attempt, POLL_MS.length - 1)], signal);
    }
  }

  /** The client with this directory's account: the key made and sealed once, registered once, the contact kept current. */
  async #client(acme: typeof import('acme-client')): Promise<Client> {
    const { store, sealer, clock, directoryUrl, email } = this.#options;
    let account = store.acmeAccounts.get(directoryUrl);
    if (!account) {
      const now = clock.now();
      account = { directory: directoryUrl, keySealed: sealer.seal(newKey()), url: null, email: null, createdAt: now, updatedAt: now };
      // Saved before the CA hears of it: a crash after registering finds the same key (and the CA the same account).
      store.acmeAccounts.save(account);
    }
    const contact = email ? [`mailto:${email}`] : [];
    const client = new acme.Client({ directoryUrl, accountKey: sealer.open(account.keySealed), ...(account.url ? { accountUrl: account.url } : {}) });
    if (!account.url) {
      await client.createAccount({ termsOfServiceAgreed: true, contact });
      store.acmeAccounts.save({ ...account, url: client.getAccountUrl(), email, updatedAt: clock.now() });
      this.#options.log.info('registered an ACME account', { directory: directoryUrl, email: email ?? undefined });
    } else if (account.email !== email) {
      await client.updateAccount({ contact });
      store.acmeAccounts.save({ ...account, email, updatedAt: clock.now() });
    }
    return client;
  }

  /** What went wrong, as the catalogue says it: a rate limit, a refusal with the CA's words, or no usable answer. */
  #classify(error: unknown, scope: ExchangeScope, domain: string, timedOut: boolean): BerthError {
    const directory = this.#options.directoryUrl;
    const problems = scope.problems.filter((p) => !p.type.endsWith(':badNonce'));
    const limited = problems.find((p) => p.type.endsWith(':rateLimited') || p.status === 429);
    if (limited) {
      const retryAt = limited.retryAfterMs === null ? null : new Date(this.#options.clock.now() + limited.retryAfterMs).toISOString();
      const base = fail('ACME_RATE_LIMITED', { domain, detail: limited.detail ?? `HTTP ${limited.status}`, retryAt });
      return new BerthError(base.code, base.message, base.hint, { retryAfterMs: limited.retryAfterMs }).because(error);
    }
    if (isBerthError(error)) return error;
    if (timedOut) return fail('ACME_CA_UNREACHABLE', { directory, reason: `no certificate within ${this.#deadlineMs < 1000 ? `${this.#deadlineMs} ms` : `${Math.round(this.#deadlineMs / 1000)} s`}` }).because(error);
    const refusal = problems.at(-1);
    if (refusal) return fail('ACME_REFUSED', { domain, detail: refusal.detail ?? refusal.type }).because(error);
    return fail('ACME_CA_UNREACHABLE', { directory, reason: networkReason(scope.networkError ?? error, scope.timedOut, this.#requestTimeoutMs) }).because(error);
  }
}

/** A failed exchange in words: refused, unknown host, timeout, an untrusted certificate. */
function networkReason(error: unknown, timedOut: boolean, timeoutMs: number): string {
  const { code, message } = error as { code?: string; message?: string };
  const text = String(message ?? error).slice(0, 300);
  if (timedOut || code === 'ECONNABORTED' || code === 'ETIMEDOUT') return `no answer within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`;
  if (code === 'ECONNREFUSED') return 'the connection was refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'its host name does not resolve';
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(code)) return `its TLS certificate is not trusted (${code}); a CA with its own root needs --acme-ca FILE`;
  return text;
}
