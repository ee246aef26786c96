/**
 * How an ACME certificate's record changes at each step of an issuance (pure): started, issued, failed,
 * held (a wildcard). The record is the manager's whole memory, so a restarted daemon resumes from it: a
 * record left `pending` by a daemon that stopped mid-issuance is simply asked for again.
 */
import type { CertificateRecord } from '../model/records.ts';
import { nextAttemptAt, renewalTime } from './plan.ts';

function fresh(domain: string, app: string, now: number): CertificateRecord {
  return {
    domain,
    source: 'acme',
    app,
    status: 'pending',
    certPem: null,
    keySealed: null,
    issuer: null,
    notBefore: null,
    notAfter: null,
    renewAt: null,
    lastError: null,
    attempts: 0,
    nextAttemptAt: null,
    createdAt: now,
    updatedAt: now,
  };
}

/** An issuance begins: a record that holds no certificate is `pending`; one that does keeps serving it (`issued`). */
export function started(previous: CertificateRecord | undefined, domain: string, app: string, now: number): CertificateRecord {
  if (!previous) return fresh(domain, app, now);
  const holds = previous.certPem !== null && previous.keySealed !== null;
  return { ...previous, source: 'acme', app, status: holds ? 'issued' : 'pending', updatedAt: now };
}

export interface IssuedCertificateFacts {
  certPem: string;
  keySealed: string;
  issuer: string;
  notBefore: number;
  notAfter: number;
}

/** The CA issued one: it replaces what was held, renewal at two thirds of its life, failures forgotten. */
export function issued(previous: CertificateRecord | undefined, domain: string, app: string, facts: IssuedCertificateFacts, now: number): CertificateRecord {
  return {
    ...(previous ?? fresh(domain, app, now)),
    source: 'acme',
    app,
    status: 'issued',
    certPem: facts.certPem,
    keySealed: facts.keySealed,
    issuer: facts.issuer,
    notBefore: facts.notBefore,
    notAfter: facts.notAfter,
    renewAt: renewalTime(facts.notBefore, facts.notAfter),
    lastError: null,
    attempts: 0,
    nextAttemptAt: null,
    updatedAt: now,
  };
}

export interface FailureFacts {
  code: string;
  message: string;
  /** How long the CA asked to wait (Retry-After), when it did. */
  retryAfterMs: number | null;
}

/** A try failed: a certificate still held keeps serving (`issued`), else `failed`; the next try after the back-off. */
export function failed(previous: CertificateRecord | undefined, domain: string, app: string, failure: FailureFacts, now: number, random: number): CertificateRecord {
  const base = previous ?? fresh(domain, app, now);
  const attempts = base.attempts + 1;
  const holds = base.certPem !== null && base.keySealed !== null;
  return {
    ...base,
    source: 'acme',
    app,
    status: holds ? 'issued' : 'failed',
    lastError: { code: failure.code, message: failure.message },
    attempts,
    nextAttemptAt: nextAttemptAt(now, attempts, random, failure.retryAfterMs),
    updatedAt: now,
  };
}

/** A wildcard: recorded as waiting for an own certificate, with why; ACME is never asked. */
export function held(previous: CertificateRecord | undefined, domain: string, app: string, error: { code: string; message: string }, now: number): CertificateRecord {
  return { ...(previous ?? fresh(domain, app, now)), source: 'acme', app, status: 'pending', lastError: error, attempts: 0, nextAttemptAt: null, updatedAt: now };
}
