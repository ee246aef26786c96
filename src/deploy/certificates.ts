/**
 * Certificates (`berth certs`, /v1/certs): the use cases every surface calls. Own certificates are checked
 * (src/certs/own-certificate.ts) before anything is saved, then stored with the key sealed; ACME's are the
 * certificate manager's (src/certs/manager.ts), which these only ask to look again or to renew now.
 *
 * No certificate leaves here with its key, not even sealed: what the surfaces get is a CertificateInfo.
 * The key goes to the sealer and the store only; never to a log line, an event, an error or an answer.
 */
import { checkOwnCertificate, certificateDomain } from '../certs/own-certificate.ts';
import { acmeEligibility, planCertificates, wantedDomains, type WantedDomain } from '../certs/plan.ts';
import { fail } from '../errors/catalogue.ts';
import type { CertificateRecord } from '../model/records.ts';
import type { DeployContext } from './context.ts';

/** What these use cases need of the certificate manager: to look at the stored certificates again now. */
export interface CertificateManagerPort {
  /** A certificate was added, removed or asked to be renewed: push the set to the proxy, request what is due. */
  wake(): void;
}

export interface CertificatesContext extends Pick<DeployContext, 'store' | 'sealer' | 'clock' | 'log'> {
  /** Absent on a daemon that runs no certificate manager: changes are stored, and served once one starts. */
  certificates?: CertificateManagerPort;
}

/**
 * A certificate as the surfaces show it, without its key. `app` is the app whose `domains` lists the
 * domain: for an ACME certificate the one it was requested for, for an own one the app it serves (or null).
 */
export type CertificateInfo = Omit<CertificateRecord, 'keySealed'>;

export interface OwnCertificateUpload {
  domain: string;
  /** PEM: the certificate, then its intermediates. */
  cert: string;
  /** PEM: its unencrypted private key. */
  key: string;
}

/**
 * Adds (or replaces) the own certificate of a domain: checked first (CERT_* errors; nothing is saved), then
 * stored with the key sealed, replacing what the domain had, an ACME certificate included. `replaced` says
 * whose certificate it replaced.
 */
export function addOwnCertificate(ctx: CertificatesContext, upload: OwnCertificateUpload): { certificate: CertificateInfo; replaced: CertificateRecord['source'] | null } {
  const { store, sealer, clock } = ctx;
  const own = checkOwnCertificate({ domain: upload.domain, certPem: upload.cert, keyPem: upload.key }, clock.now());
  const keySealed = sealer.seal(own.keyPem);
  const now = clock.now();
  const earlier = store.transaction(() => {
    const found = store.certificates.get(own.domain);
    store.certificates.save({
      domain: own.domain,
      source: 'own',
      app: null,
      status: 'issued',
      certPem: own.chainPem,
      keySealed,
      issuer: own.issuer,
      notBefore: own.notBefore,
      notAfter: own.notAfter,
      renewAt: null,
      lastError: null,
      attempts: 0,
      nextAttemptAt: null,
      createdAt: found?.createdAt ?? now,
      updatedAt: now,
    });
    return found;
  });
  ctx.log.info(earlier ? 'own certificate replaced' : 'own certificate added', {
    domain: own.domain,
    issuer: own.issuer,
    notAfter: new Date(own.notAfter).toISOString(),
    ...(earlier ? { replaced: earlier.source } : {}),
  });
  ctx.certificates?.wake();
  return { certificate: infoOf(ctx, store.certificates.get(own.domain)!), replaced: earlier?.source ?? null };
}

/** Every certificate, by domain, without keys. */
export function listCertificates(ctx: Pick<DeployContext, 'store'>): CertificateInfo[] {
  const listing = domainsListed(ctx);
  return ctx.store.certificates.list().map((record) => infoOf(ctx, record, listing));
}

/** One certificate (CERT_NOT_FOUND), without its key; `certPem` is the chain. */
export function getCertificate(ctx: Pick<DeployContext, 'store'>, domainText: string): CertificateInfo {
  return infoOf(ctx, requireCertificate(ctx, domainText));
}

export interface RemovedCertificate {
  domain: string;
  source: CertificateRecord['source'];
  /** The app whose `domains` still lists the domain, or null. */
  listedBy: string | null;
  /** The manager now asks ACME for a certificate for it (listed, and no own certificate covers it). */
  acme: boolean;
}

/**
 * Removes a domain's certificate (CERT_NOT_FOUND), an ACME one too: while an app lists the domain, the
 * manager then requests a new one from ACME, which `acme` says (the manager's own rule, ../certs/plan.ts).
 */
export function removeCertificate(ctx: CertificatesContext, domainText: string): RemovedCertificate {
  const record = requireCertificate(ctx, domainText);
  ctx.store.certificates.remove(record.domain);
  const wanted = wantedNow(ctx);
  const listedBy = wanted.find((w) => w.domain === record.domain)?.app ?? null;
  const acme = acmeAsks(ctx, wanted, ctx.store.certificates.list(), record.domain);
  ctx.log.info('certificate removed', { domain: record.domain, source: record.source, ...(listedBy ? { listedBy } : {}), acme });
  ctx.certificates?.wake();
  return { domain: record.domain, source: record.source, listedBy, acme };
}

/**
 * Asks for an ACME certificate's renewal now: it becomes due (its renewal time and next attempt are now)
 * and the manager is woken to carry it out. The old certificate keeps serving until the new one is issued.
 * CERT_NOT_RENEWABLE when the manager would not ask ACME for it even then: an own certificate (its CA
 * renews it), a daemon without HTTPS (no manager runs), a domain no app lists any more, a wildcard, a
 * domain an own certificate covers.
 */
export function renewCertificate(ctx: CertificatesContext, domainText: string): CertificateInfo {
  const record = requireCertificate(ctx, domainText);
  if (record.source === 'own') throw fail('CERT_NOT_RENEWABLE', { domain: record.domain, why: 'own' });
  // No manager runs (HTTPS is off): nobody would carry the renewal out.
  if (!ctx.certificates) throw fail('CERT_NOT_RENEWABLE', { domain: record.domain, why: 'https-off' });
  const now = ctx.clock.now();
  const due: CertificateRecord = { ...record, renewAt: record.status === 'issued' ? now : record.renewAt, nextAttemptAt: now, updatedAt: now };
  const wanted = wantedNow(ctx);
  const others = ctx.store.certificates.list().filter((r) => r.domain !== record.domain);
  if (!acmeAsks(ctx, wanted, [...others, due], record.domain)) {
    const why = !wanted.some((w) => w.domain === record.domain) ? 'unlisted' : acmeEligibility(record.domain) === 'wildcard' ? 'wildcard' : 'covered';
    throw fail('CERT_NOT_RENEWABLE', { domain: record.domain, why });
  }
  ctx.store.certificates.save(due);
  ctx.log.info('certificate renewal asked for', { domain: record.domain });
  ctx.certificates?.wake();
  return infoOf(ctx, due);
}

function requireCertificate(ctx: Pick<DeployContext, 'store'>, domainText: string): CertificateRecord {
  const domain = certificateDomain(domainText);
  const record = ctx.store.certificates.get(domain);
  if (!record) throw fail('CERT_NOT_FOUND', { domain });
  return record;
}

/** The domains the serving releases list, as the certificate manager reads them (an app without `web` is not routed). */
function wantedNow(ctx: Pick<DeployContext, 'store'>): WantedDomain[] {
  const { store } = ctx;
  const apps = store.apps.list().map((app) => {
    const release = app.currentRelease ? store.releases.get(app.currentRelease) : undefined;
    return { name: app.name, domains: release?.manifest.processes.web ? release.manifest.domains : null };
  });
  return wantedDomains(apps);
}

/** Whether the manager's next pass asks ACME for `domain`, given these records: its planner decides, not a copy of its rules. */
function acmeAsks(ctx: Pick<DeployContext, 'clock'>, wanted: WantedDomain[], records: CertificateRecord[], domain: string): boolean {
  return planCertificates({ wanted, records, now: ctx.clock.now() }).steps.some((step) => step.do === 'issue' && step.domain === domain);
}

/** Domain -> the app whose serving release lists it under `domains`. */
function domainsListed(ctx: Pick<DeployContext, 'store'>): Map<string, string> {
  return new Map(wantedNow(ctx).map((w) => [w.domain, w.app]));
}

/** The record without its key: built field by field, so a field added to the record later is not shown by accident. */
function infoOf(ctx: Pick<DeployContext, 'store'>, record: CertificateRecord, listing?: Map<string, string>): CertificateInfo {
  const app = record.app ?? (listing ?? domainsListed(ctx)).get(record.domain) ?? null;
  return {
    domain: record.domain,
    source: record.source,
    app,
    status: record.status,
    certPem: record.certPem,
    issuer: record.issuer,
    notBefore: record.notBefore,
    notAfter: record.notAfter,
    renewAt: record.renewAt,
    lastError: record.lastError,
    attempts: record.attempts,
    nextAttemptAt: record.nextAttemptAt,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}
