/**
 * The certificate controller: keeps an ACME certificate for every domain the serving releases list, and the
 * data plane's certificate set equal to what the store holds. Every few seconds, and at once when woken (a
 * route table went out: a deploy may have brought a domain), it plans (./plan.ts, pure) and carries the plan
 * out: records adopted, held or removed, issuances started (one at a time per domain, a few domains at once),
 * and the set pushed when it changed. An issuance is pre-flight (./preflight.ts), then the CA (the port in
 * ./authority.ts), with the HTTP-01 answers published through the data plane while they are needed.
 *
 * The store is its only memory (./transitions.ts), so a restarted daemon resumes: nothing due is asked
 * again, a retry waits out its back-off. Keys are opened with the sealer only to build the set for the data
 * plane. Events go to the app whose `domains` lists the domain; no key is ever in one, nor in a log line.
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { InvalidCertificateSetError, StaleRouteTableError, type AcmeChallenges, type DataPlane, type TlsCertificate } from '../dataplane/route-table.ts';
import { fail, isBerthError } from '../errors/catalogue.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { EventOf } from '../model/events.ts';
import type { CertificateRecord } from '../model/records.ts';
import type { Sealer } from '../secrets/sealer.ts';
import type { Store } from '../store/store.ts';
import { CHALLENGE_TEXT, type CertificateAuthority } from './authority.ts';
import { issuerName } from './own-certificate.ts';
import { planCertificates, wantedDomains, type CertificatePlan, type PlanStep, type ServedCertificate } from './plan.ts';
import type { Preflight } from './preflight.ts';
import { failed, held, issued, started, type FailureFacts } from './transitions.ts';

export type CertificateEvent = EventOf<'cert.requested'> | EventOf<'cert.issued'> | EventOf<'cert.renewed'> | EventOf<'cert.failed'>;

export interface CertificateManagerOptions {
  store: Pick<Store, 'apps' | 'releases' | 'certificates'>;
  sealer: Sealer;
  dataPlane: Pick<DataPlane, 'applyCertificates' | 'setChallenges'>;
  authority: CertificateAuthority;
  preflight: Preflight;
  clock: Clock;
  log: Logger;
  /** Writes an app's event (deploy/emit.ts `reportTo`, masked like every app event). */
  report(app: string, event: CertificateEvent): void;
  /** [0, 1): the back-off's jitter. */
  random?: () => number;
  /** Issuances at once (of different domains). */
  concurrency?: number;
  /** One issuance, pre-flight included: past it, ACME_CA_UNREACHABLE. */
  issueTimeoutMs?: number;
  /** The CA's directory URL, for messages. */
  directoryUrl?: string;
}

const stopped = () => new Error('the berth server is stopping');

export class CertificateManager {
  readonly #o: CertificateManagerOptions;
  readonly #log: Logger;
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #challenges = new Map<string, string>();
  readonly #stopping = new AbortController();
  #timer: NodeJS.Timeout | null = null;
  #generation = 0;
  #pushed: string | null = null;
  #setChain: Promise<void> = Promise.resolve();
  #challengeChain: Promise<void> = Promise.resolve();

  constructor(options: CertificateManagerOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: 'certs' });
  }

  /** A pass every `everyMs` (store reads only, unless something is due). */
  start(everyMs = 3000): void {
    this.#timer = setInterval(() => void this.tick(), everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#stopping.abort(stopped());
    await Promise.allSettled(this.#inFlight.values());
  }

  /** A pass now: a route table just went out, so a deploy may have brought a domain. */
  wake(): void {
    if (!this.#stopping.signal.aborted) void this.tick();
  }

  /** Plans, carries out what is due, pushes the set if it changed; resolves once the issuances it started have settled. */
  async tick(): Promise<void> {
    try {
      const plan = this.#plan();
      for (const step of plan.steps) this.#carryOut(step);
      await this.publish();
    } catch (error) {
      this.#log.error('certificate pass failed', { error: error as Error });
    }
    await Promise.allSettled([...this.#inFlight.values()]);
  }

  /**
   * Pushes the certificate set the store describes, when it differs from the one last pushed (`force`:
   * always, as at start-up and after the proxy restarted). Serialized, generations only growing.
   */
  publish(force = false): Promise<void> {
    const run = this.#setChain.then(async () => {
      const serve = this.#plan().serve;
      const signature = setSignature(serve, (domain) => this.#o.store.certificates.get(domain)?.certPem ?? '');
      if (!force && signature === this.#pushed) return;
      const certificates = await this.#apply(this.#open(serve));
      this.#pushed = signature;
      this.#log.info('certificate set pushed', { generation: this.#generation, certificates: certificates.map((c) => c.id) });
    });
    this.#setChain = run.catch((error) => this.#log.error('certificate set not pushed', { error: error as Error }));
    return run;
  }

  /**
   * Sends the set with the next generation. A data plane holding a newer one (an earlier daemon, a clock
   * stepped back): counted on from its generation. Certificates it refuses (named in its problems) are left
   * out and the rest sent again, so one bad certificate never keeps the others from being served.
   */
  async #apply(certificates: TlsCertificate[]): Promise<TlsCertificate[]> {
    this.#generation = Math.max(this.#generation + 1, this.#o.clock.now());
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#o.dataPlane.applyCertificates({ generation: this.#generation, certificates });
        return certificates;
      } catch (error) {
        if (attempt >= 3) throw error;
        if (error instanceof StaleRouteTableError) {
          this.#generation = error.current + 1;
          continue;
        }
        if (!(error instanceof InvalidCertificateSetError)) throw error;
        const refused = new Set(error.problems.flatMap((p) => /^certificates\[(\d+)\]/.exec(p)?.[1] ?? []).map(Number));
        if (refused.size === 0) throw error;
        this.#log.error('the data plane refused certificates; the others are served without them', { refused: [...refused].map((i) => certificates[i]?.id), problems: error.problems });
        certificates = certificates.filter((_, i) => !refused.has(i));
        this.#generation += 1;
      }
    }
  }

  /** Publishes the challenge answers again (the proxy restarted and lost them). */
  republishChallenges(): Promise<void> {
    return this.#pushChallenges();
  }

  #plan(): CertificatePlan {
    const { store, clock } = this.#o;
    const apps = store.apps.list().map((app) => {
      const release = app.currentRelease ? store.releases.get(app.currentRelease) : undefined;
      // An app without `web` is not routed: a certificate for it would serve nothing.
      return { name: app.name, domains: release?.manifest.processes.web ? release.manifest.domains : null };
    });
    return planCertificates({ wanted: wantedDomains(apps), records: store.certificates.list(), now: clock.now() });
  }

  #carryOut(step: PlanStep): void {
    const { store, clock } = this.#o;
    const now = clock.now();
    if (this.#inFlight.has(step.domain)) return;
    const record = store.certificates.get(step.domain);
    switch (step.do) {
      case 'adopt':
        if (record) store.certificates.save({ ...record, app: step.app, updatedAt: now });
        return;
      case 'remove':
        store.certificates.remove(step.domain);
        this.#log.info('certificate removed', { domain: step.domain, reason: step.reason });
        return;
      case 'hold': {
        const error = fail('ACME_WILDCARD', { domain: step.domain });
        store.certificates.save(held(record, step.domain, step.app, { code: error.code, message: error.message }, now));
        this.#o.report(step.app, { type: 'cert.failed', message: `${error.message}. ${error.hint}`, data: { domain: step.domain, code: error.code, error: error.message, nextAttemptAt: null } });
        return;
      }
      case 'issue': {
        if (this.#inFlight.size >= (this.#o.concurrency ?? 3) || this.#stopping.signal.aborted) return;
        const work = this.#issue(step, record).finally(() => this.#inFlight.delete(step.domain));
        this.#inFlight.set(step.domain, work);
        return;
      }
    }
  }

  async #issue(step: Extract<PlanStep, { do: 'issue' }>, before: CertificateRecord | undefined): Promise<void> {
    const { store, clock, sealer, authority } = this.#o;
    const { domain, app, reason } = step;
    store.certificates.save(started(before, domain, app, clock.now()));
    this.#o.report(app, { type: 'cert.requested', message: `requesting a certificate for ${domain} (${reason})`, data: { domain, reason } });
    this.#log.info('requesting a certificate', { domain, app, reason });
    const signal = AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(this.#o.issueTimeoutMs ?? 240_000)]);
    try {
      await this.#o.preflight(domain, { publish: (token, answer) => this.#publish(token, answer), signal });
      const pair = await authority.issue([domain], { onChallenge: (c) => this.#publish(c.token, c.keyAuthorization), signal });
      const facts = certificateFacts(pair.certPem, pair.keyPem, domain);
      const current = store.certificates.get(domain);
      if (current?.source === 'own') return void this.#log.info('an own certificate was added meanwhile; the ACME one is dropped', { domain });
      const saved = issued(current ?? before, domain, app, { ...facts, certPem: pair.certPem, keySealed: sealer.seal(pair.keyPem) }, clock.now());
      store.certificates.save(saved);
      const renewed = before?.certPem != null;
      const data = { domain, issuer: facts.issuer, notAfter: facts.notAfter, serial: facts.serial };
      const until = new Date(facts.notAfter).toISOString();
      this.#o.report(app, renewed ? { type: 'cert.renewed', message: `renewed the certificate for ${domain} (${facts.issuer}, valid until ${until})`, data } : { type: 'cert.issued', message: `got a certificate for ${domain} (${facts.issuer}, valid until ${until})`, data });
      this.#log.info(renewed ? 'certificate renewed' : 'certificate issued', { domain, app, issuer: facts.issuer, notAfter: until, serial: facts.serial });
      await this.publish();
    } catch (error) {
      // Stopping mid-way: the record stays as it is, and the next start asks again.
      if (this.#stopping.signal.aborted) return;
      const failure = failureOf(error, signal, this.#o.directoryUrl ?? 'the CA');
      const current = store.certificates.get(domain);
      if (current?.source === 'own') return;
      const record = failed(current ?? before, domain, app, failure, clock.now(), (this.#o.random ?? Math.random)());
      store.certificates.save(record);
      const next = new Date(record.nextAttemptAt!).toISOString();
      const hint = isBerthError(error) && error.hint ? ` ${error.hint}` : '';
      this.#o.report(app, { type: 'cert.failed', message: `${failure.message} (next try ${next}).${hint}`, data: { domain, code: failure.code, error: failure.message, nextAttemptAt: record.nextAttemptAt } });
      this.#log.warn('certificate request failed', { domain, app, code: failure.code, error: failure.message, nextAttemptAt: next });
    }
  }

  /** Adds one answer to the HTTP listener's challenges; resolves once the data plane has it, with its removal. */
  async #publish(token: string, answer: string): Promise<() => Promise<void>> {
    if (!CHALLENGE_TEXT.test(token) || !CHALLENGE_TEXT.test(answer)) throw new Error('a challenge answer that is not base64url is not published');
    this.#challenges.set(token, answer);
    await this.#pushChallenges();
    let removed = false;
    return async () => {
      if (removed) return;
      removed = true;
      this.#challenges.delete(token);
      await this.#pushChallenges().catch((error) => this.#log.warn('challenge answer not withdrawn yet', { error: error as Error }));
    };
  }

  /** The whole map, serialized so the data plane ends with the latest one. */
  #pushChallenges(): Promise<void> {
    const run = this.#challengeChain.then(() => {
      const map: AcmeChallenges = Object.create(null);
      for (const [token, answer] of this.#challenges) map[token] = answer;
      return this.#o.dataPlane.setChallenges(map);
    });
    this.#challengeChain = run.catch(() => {});
    return run;
  }

  /** The served records as the data plane takes them: keys opened here, and only here. */
  #open(serve: ServedCertificate[]): TlsCertificate[] {
    const out: TlsCertificate[] = [];
    for (const served of serve) {
      const record = this.#o.store.certificates.get(served.domain);
      if (!record?.certPem || !record.keySealed) continue;
      try {
        out.push({ id: `${served.source}:${served.domain}`, hosts: served.hosts, certPem: record.certPem, keyPem: this.#o.sealer.open(record.keySealed), notAfter: served.notAfter });
      } catch (error) {
        this.#log.error('a certificate\'s key does not open with this secret.key; it is not served', { domain: served.domain, error: (error as Error).message });
      }
    }
    return out;
  }
}

/** Names the served set (which certificates, for which hosts): an unchanged set is not pushed again. */
function setSignature(serve: ServedCertificate[], certPemOf: (domain: string) => string): string {
  const hash = createHash('sha256');
  for (const c of serve) hash.update(JSON.stringify([c.domain, c.source, c.hosts, c.notAfter, certPemOf(c.domain)]));
  return hash.digest('base64url');
}

/** What berth records of an issued certificate; the key must belong to its leaf. */
function certificateFacts(certPem: string, keyPem: string, domain: string) {
  const leaf = new X509Certificate(certPem);
  if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) throw fail('ACME_REFUSED', { domain, detail: 'the certificate it sent does not match the key berth made for it' });
  return { issuer: issuerName(leaf), notBefore: Date.parse(leaf.validFrom), notAfter: Date.parse(leaf.validTo), serial: leaf.serialNumber };
}

function failureOf(error: unknown, signal: AbortSignal, directory: string): FailureFacts {
  if (isBerthError(error)) {
    const retryAfterMs = typeof error.details?.retryAfterMs === 'number' ? error.details.retryAfterMs : null;
    return { code: error.code, message: error.message, retryAfterMs };
  }
  const reason = signal.aborted ? 'the request (pre-flight and CA) took too long and was stopped' : String((error as Error)?.message ?? error).slice(0, 300);
  const unreachable = fail('ACME_CA_UNREACHABLE', { directory, reason });
  return { code: unreachable.code, message: unreachable.message, retryAfterMs: null };
}
