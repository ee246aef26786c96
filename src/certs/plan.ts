/**
 * What the certificate manager does next, decided from the domains the serving releases list, the stored
 * certificates and the time: pure, so every rule is tested with a manual clock (./plan.test.ts).
 *
 * - Names that go to ACME: each domain in an app's `domains`, never `<app>.<base domain>` (it is not in
 *   `domains`), `localhost`, `*.localhost` or an IP literal (no public CA issues for those). A wildcard
 *   cannot be validated over HTTP-01: it is held, its record saying so (ACME_WILDCARD), until an own
 *   certificate for it is added.
 * - An own certificate (`berth certs add`) wins over ACME for every name it is stored under, a wildcard
 *   one for the names of one label below it: ACME asks nothing for those and serves nothing for them.
 * - A certificate is renewed at two thirds of its lifetime; a failure is retried with exponential back-off
 *   from 1 minute to 6 hours with up to 25% jitter, or later when the CA said when (Retry-After).
 * - A domain no app lists any more (or now covered by an own certificate) keeps its ACME certificate,
 *   served and no longer renewed, until it expires, and the record then goes: a rollback, or the domain
 *   moving to another app, finds it still valid without spending the CA's rate limit, and nothing is kept
 *   longer than the CA made it valid. A record that holds no certificate goes at once.
 */
import { isIP } from 'node:net';
import type { CertificateRecord } from '../model/records.ts';

export const RETRY = { minMs: 60_000, maxMs: 6 * 3_600_000, jitter: 0.25 } as const;
/** A Retry-After further out than this is taken as this (a CA's typo must not park a domain for years). */
export const MAX_RETRY_AFTER_MS = 7 * 86_400_000;

/** A domain an app's serving release lists, and that app. */
export interface WantedDomain {
  domain: string;
  app: string;
}

export type IssueReason = 'new' | 'renewal' | 'retry';

export type PlanStep =
  /** Ask the CA (after the pre-flight). */
  | { do: 'issue'; domain: string; app: string; reason: IssueReason }
  /** The record stays; another app lists the domain now (events go to it). */
  | { do: 'adopt'; domain: string; app: string }
  /** A wildcard: recorded as waiting for an own certificate, ACME is never asked. */
  | { do: 'hold'; domain: string; app: string }
  | { do: 'remove'; domain: string; reason: string };

/** A certificate the data plane should serve (its key is opened only when the set is pushed). */
export interface ServedCertificate {
  domain: string;
  source: CertificateRecord['source'];
  hosts: string[];
  notAfter: number;
}

export interface CertificatePlan {
  steps: PlanStep[];
  serve: ServedCertificate[];
}

/** Whether a listed name can get a certificate from ACME over HTTP-01. */
export function acmeEligibility(domain: string): 'acme' | 'wildcard' | 'never' {
  const name = domain.toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost') || isIP(name.replace(/^\[|\]$/g, '')) !== 0) return 'never';
  return name.startsWith('*.') ? 'wildcard' : 'acme';
}

/** `pattern` (a name, or `*.example.com` for exactly one more label) covers `host`. */
export function covers(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  const suffix = pattern.slice(1);
  const label = host.slice(0, host.length - suffix.length);
  return host.endsWith(suffix) && label.length > 0 && !label.includes('.');
}

/** The domains each app with a serving release and a `web` process lists, lowercase, first app first. */
export function wantedDomains(apps: { name: string; domains: readonly string[] | null }[]): WantedDomain[] {
  const seen = new Set<string>();
  const out: WantedDomain[] = [];
  for (const app of apps) {
    for (const listed of app.domains ?? []) {
      const domain = listed.toLowerCase();
      if (seen.has(domain)) continue;
      seen.add(domain);
      out.push({ domain, app: app.name });
    }
  }
  return out;
}

const holdsCertificate = (r: CertificateRecord): boolean => r.certPem !== null && r.keySealed !== null && r.notAfter !== null;
const servable = (r: CertificateRecord, now: number): boolean => holdsCertificate(r) && r.status === 'issued' && r.notAfter! > now;

export function planCertificates(input: { wanted: WantedDomain[]; records: CertificateRecord[]; now: number }): CertificatePlan {
  const { now } = input;
  const records = new Map(input.records.map((r) => [r.domain, r]));
  const own = input.records.filter((r) => r.source === 'own' && servable(r, now)).map((r) => r.domain);
  const ownCovers = (host: string) => own.some((pattern) => covers(pattern, host));
  const steps: PlanStep[] = [];
  const listed = new Set<string>();

  for (const { domain, app } of input.wanted) {
    const kind = acmeEligibility(domain);
    const record = records.get(domain);
    if (kind === 'never' || record?.source === 'own' || ownCovers(domain)) continue;
    listed.add(domain);
    if (kind === 'wildcard') {
      if (!record || record.app !== app || record.lastError?.code !== 'ACME_WILDCARD') steps.push({ do: 'hold', domain, app });
      continue;
    }
    if (record && record.app !== app) steps.push({ do: 'adopt', domain, app });
    const reason = dueReason(record, now);
    if (reason) steps.push({ do: 'issue', domain, app, reason });
  }

  for (const record of input.records) {
    if (record.source !== 'acme' || listed.has(record.domain)) continue;
    if (!holdsCertificate(record)) steps.push({ do: 'remove', domain: record.domain, reason: 'no app lists it, and it holds no certificate' });
    else if (record.notAfter! <= now) steps.push({ do: 'remove', domain: record.domain, reason: 'no app lists it, and its certificate expired' });
  }

  const serve: ServedCertificate[] = [];
  for (const record of input.records) {
    if (!servable(record, now)) continue;
    if (record.source === 'acme' && ownCovers(record.domain)) continue;
    serve.push({ domain: record.domain, source: record.source, hosts: [record.domain], notAfter: record.notAfter! });
  }
  return { steps, serve };
}

/** Why an ACME record of a listed domain goes to the CA now, or undefined when nothing is due. */
function dueReason(record: CertificateRecord | undefined, now: number): IssueReason | undefined {
  if (!record) return 'new';
  if (record.nextAttemptAt !== null && now < record.nextAttemptAt) return undefined;
  if (holdsCertificate(record) && record.status === 'issued') {
    const renewAt = record.renewAt ?? record.notAfter!;
    if (now < renewAt) return undefined;
    return record.attempts > 0 ? 'retry' : 'renewal';
  }
  return record.attempts > 0 ? 'retry' : 'new';
}

/** When a certificate valid from `notBefore` to `notAfter` is renewed: at two thirds of its lifetime. */
export function renewalTime(notBefore: number, notAfter: number): number {
  return notBefore + Math.round(((notAfter - notBefore) * 2) / 3);
}

/** The wait after `failures` failures in a row (1 or more); `random` in [0, 1) spreads retries apart. */
export function retryDelay(failures: number, random: number): number {
  const base = Math.min(RETRY.maxMs, RETRY.minMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.min(RETRY.maxMs, Math.round(base * (1 + RETRY.jitter * random)));
}

/** The next try after a failure: the back-off, or the CA's Retry-After when that is later. */
export function nextAttemptAt(now: number, failures: number, random: number, retryAfterMs: number | null): number {
  const asked = retryAfterMs === null ? 0 : Math.min(Math.max(0, retryAfterMs), MAX_RETRY_AFTER_MS);
  return now + Math.max(retryDelay(failures, random), asked);
}

/** Whether a served certificate covers `host` (for printing https:// URLs). */
export function servedCovers(serve: readonly ServedCertificate[], host: string): boolean {
  return serve.some((c) => c.hosts.some((pattern) => covers(pattern, host)));
}

/** Which hosts the data plane serves over HTTPS now (what `urlsFor` prints as https://). */
export function securedHosts(records: CertificateRecord[], now: number): (host: string) => boolean {
  const { serve } = planCertificates({ wanted: [], records, now });
  return (host) => servedCovers(serve, host);
}
