import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { TlsCertificate } from './route-table.ts';

/**
 * Bounds of a certificate set, checked before anything is parsed: the set comes over a socket, and the
 * proxy parses every PEM in it on its event loop.
 */
export const CERTIFICATE_SET_LIMITS = {
  certificates: 2000,
  hostsPerCertificate: 100,
  idLength: 200,
  /** A leaf and a few intermediates. */
  certPemLength: 64 * 1024,
  /** An RSA 8192 key is under 7 KiB in PEM. */
  keyPemLength: 16 * 1024,
};

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
/** A lowercase DNS name, or `*.` and one: the wildcard covers exactly one label. */
const HOST = new RegExp(`^(?:\\*\\.)?(?:${LABEL}\\.)*${LABEL}$`);
const PRINTABLE = /^[\x21-\x7e]+$/;

/** Whether `host` is a name a certificate can be served for (lowercase, no port, at most one leading `*.`). */
export const isCertificateHost = (host: unknown): host is string => typeof host === 'string' && host.length <= 253 && HOST.test(host);

/**
 * Checks a certificate set received over the wire: shapes, sizes, host names, PEMs that node:crypto
 * parses, each key the one its certificate was issued for, and each host covered by its certificate.
 * Returns the problems (empty when sound); each names the field and what to send instead, never a key.
 * `checked` says which entries (same hosts, certificate and key) passed before: their PEMs are not parsed
 * again, so a set that changes one certificate of many costs one certificate's checks.
 */
export function certificateSetProblems(value: unknown, checked: (entry: TlsCertificate) => boolean = () => false): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return ['the certificate set must be an object { generation, certificates }'];
  const set = value as { generation?: unknown; certificates?: unknown };
  const problems: string[] = [];
  if (!Number.isSafeInteger(set.generation) || (set.generation as number) < 0) problems.push('generation must be a non-negative integer');
  if (!Array.isArray(set.certificates)) return [...problems, 'certificates must be a list'];
  if (set.certificates.length > CERTIFICATE_SET_LIMITS.certificates) {
    return [...problems, `certificates has ${set.certificates.length} entries, more than the limit of ${CERTIFICATE_SET_LIMITS.certificates}`];
  }
  const ids = new Map<string, number>();
  set.certificates.forEach((entry, i) => {
    const at = `certificates[${i}]`;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return problems.push(`${at} must be an object { id, hosts, certPem, keyPem, notAfter }`);
    const c = entry as Record<string, unknown>;
    if (typeof c.id !== 'string' || c.id.length > CERTIFICATE_SET_LIMITS.idLength || !PRINTABLE.test(c.id)) {
      problems.push(`${at}.id must be 1 to ${CERTIFICATE_SET_LIMITS.idLength} printable characters without spaces`);
    } else if (ids.has(c.id)) problems.push(`${at}.id "${c.id}" repeats certificates[${ids.get(c.id)}].id: ids are unique in a set`);
    else ids.set(c.id, i);
    if (!Number.isSafeInteger(c.notAfter) || (c.notAfter as number) < 0) problems.push(`${at}.notAfter must be a time in ms since the epoch`);
    const hostsOk = checkHosts(c.hosts, at, problems);
    if (hostsOk && typeof c.certPem === 'string' && typeof c.keyPem === 'string' && checked(c as unknown as TlsCertificate)) return;
    const cert = parseCertificate(c.certPem, at, problems);
    const key = parseKey(c.keyPem, at, problems);
    if (!cert || !key) return;
    if (!matches(cert, key)) return problems.push(`${at}.keyPem is not the key of ${at}.certPem: send the private key the certificate was issued for`);
    if (!hostsOk) return;
    for (const host of c.hosts as string[]) {
      if (!covers(cert, host)) problems.push(`${at}.certPem does not cover ${host}: its names are ${cert.subjectAltName ?? `only the subject ${cert.subject}`}`);
    }
  });
  return problems;
}

function checkHosts(hosts: unknown, at: string, problems: string[]): boolean {
  if (!Array.isArray(hosts) || hosts.length === 0 || hosts.length > CERTIFICATE_SET_LIMITS.hostsPerCertificate) {
    problems.push(`${at}.hosts must be a list of 1 to ${CERTIFICATE_SET_LIMITS.hostsPerCertificate} host names`);
    return false;
  }
  const bad = hosts.findIndex((h) => !isCertificateHost(h));
  if (bad === -1) return true;
  const shown = typeof hosts[bad] === 'string' ? JSON.stringify((hosts[bad] as string).slice(0, 80)) : typeof hosts[bad];
  problems.push(`${at}.hosts[${bad}] ${shown} is not a lowercase host name (a wildcard is *.example.com, covering one label)`);
  return false;
}

function parseCertificate(pem: unknown, at: string, problems: string[]): X509Certificate | null {
  if (typeof pem !== 'string' || pem.length > CERTIFICATE_SET_LIMITS.certPemLength || !pem.includes('-----BEGIN CERTIFICATE-----')) {
    problems.push(`${at}.certPem must be a PEM certificate chain, leaf first, of at most ${CERTIFICATE_SET_LIMITS.certPemLength} characters`);
    return null;
  }
  try {
    return new X509Certificate(pem);
  } catch {
    problems.push(`${at}.certPem is not a certificate node:crypto can read: send the PEM text as the CA issued it`);
    return null;
  }
}

function parseKey(pem: unknown, at: string, problems: string[]): KeyObject | null {
  if (typeof pem !== 'string' || pem.length > CERTIFICATE_SET_LIMITS.keyPemLength || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    problems.push(`${at}.keyPem must be a PEM private key of at most ${CERTIFICATE_SET_LIMITS.keyPemLength} characters`);
    return null;
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    problems.push(`${at}.keyPem is not a private key node:crypto can read: send it unencrypted (no passphrase), in PEM`);
    return null;
  }
}

function matches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false; // a key of another type
  }
}

/** A host the certificate's names cover; for `*.parent`, the certificate must itself be a wildcard for it. */
function covers(cert: X509Certificate, host: string): boolean {
  if (!host.startsWith('*.')) return cert.checkHost(host, { subject: 'default' }) !== undefined;
  // Any single label under parent matches `*.parent` only; an exact name in the certificate would not.
  return cert.checkHost(`berth-wildcard-probe${host.slice(1)}`, { subject: 'default', wildcards: true, partialWildcards: false }) !== undefined;
}
