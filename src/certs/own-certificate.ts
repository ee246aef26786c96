/**
 * An own certificate (`berth certs add DOMAIN --cert FILE --key FILE`), checked before berth keeps it: a
 * certificate the proxy cannot serve, or one that browsers would refuse for the domain, is refused here
 * with what is wrong and what to do, instead of failing later in a TLS handshake nobody watches.
 *
 * Pure apart from node:crypto (and node:tls to ask OpenSSL whether it would load the pair). Sizes are
 * bounded before anything is parsed; messages never quote what the files hold (a private key pasted into
 * the wrong file must not end up in an answer or a log line).
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { fail } from '../errors/catalogue.ts';
import { HOSTNAME } from '../manifest/sections/domains.ts';
import { pemBlocks } from './pem-blocks.ts';

/** What an own certificate's files may hold, checked before parsing. */
export const OWN_CERT_LIMITS = {
  /** The certificate file (the chain), in bytes. */
  chainBytes: 64 * 1024,
  /** The key file, in bytes. */
  keyBytes: 64 * 1024,
  /** Certificates in the chain: the leaf, its intermediates, perhaps the root. */
  chainCertificates: 10,
} as const;

export interface OwnCertificateInput {
  /** The hostname it is for: `shop.example.com`, or `*.example.com` for a wildcard. */
  domain: string;
  /** PEM: the certificate, then the ones that issued it, in order. */
  certPem: string;
  /** PEM: the unencrypted private key of the first certificate. */
  keyPem: string;
}

/** A checked own certificate, ready to be sealed and stored. */
export interface OwnCertificate {
  domain: string;
  /** The chain as normalized PEM, leaf first (text around the blocks dropped). */
  chainPem: string;
  /** The key as unencrypted PKCS#8 PEM. */
  keyPem: string;
  /** The issuer's common name (else its organisation), as `berth certs` lists it. */
  issuer: string;
  notBefore: number;
  notAfter: number;
  /** The DNS names the leaf covers (its subjectAltName). */
  names: string[];
}

/** How names are matched: subjectAltName only (browsers ignore the common name), whole-label wildcards only. */
const HOST_CHECK = { subject: 'never', wildcards: true, partialWildcards: false } as const;

/**
 * The domain as berth stores it: lowercase, without a final dot. CERT_DOMAIN_INVALID unless it is a DNS name
 * of two or more labels (a wildcard `*.` first label allowed), as `domains:` in berth.yaml takes it.
 */
export function certificateDomain(text: string): string {
  const domain = text.toLowerCase().replace(/\.$/, '');
  if (domain.length > 253 || !HOSTNAME.test(domain)) throw fail('CERT_DOMAIN_INVALID', { domain: text.slice(0, 100) });
  return domain;
}

/**
 * Checks an uploaded chain and key for `domain` at time `now`; throws the catalogue's CERT_* error naming
 * the first thing wrong. In order: sizes, the PEM of both files, the key (not encrypted, matching the first
 * certificate), the names, the dates of every certificate, the order of the chain, then whether OpenSSL
 * loads the pair as a TLS server would.
 */
export function checkOwnCertificate(input: OwnCertificateInput, now: number): OwnCertificate {
  const domain = certificateDomain(input.domain);
  const chain = parseChain(input.certPem);
  const key = parseKey(input.keyPem);
  const leaf = chain[0];
  if (!leaf.checkPrivateKey(key)) {
    const owner = chain.findIndex((cert) => cert.checkPrivateKey(key));
    if (owner > 0) {
      throw fail('CERT_CHAIN_ORDER', { reason: `the key belongs to certificate ${owner + 1} of the file (${subjectName(chain[owner])}), but the server's own certificate must come first` });
    }
    throw fail('CERT_KEY_MISMATCH', { subject: subjectName(leaf) });
  }
  const names = dnsNames(leaf);
  if (leaf.checkHost(domain, HOST_CHECK) === undefined) {
    const onlyInSubject = leaf.checkHost(domain, { ...HOST_CHECK, subject: 'always' }) !== undefined;
    throw fail('CERT_NAME_MISMATCH', { domain, names, onlyInSubject });
  }
  chain.forEach((cert, i) => checkDates(cert, i, now));
  checkOrder(chain);
  const chainPem = chain.map((cert) => cert.toString().trimEnd() + '\n').join('');
  const keyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
  checkLoads(chainPem, keyPem);
  return { domain, chainPem, keyPem, issuer: issuerName(leaf), notBefore: leaf.validFromDate.getTime(), notAfter: leaf.validToDate.getTime(), names };
}

function parseChain(text: string): X509Certificate[] {
  if (Buffer.byteLength(text) > OWN_CERT_LIMITS.chainBytes) throw fail('CERT_INVALID', { reason: `the certificate file is larger than ${OWN_CERT_LIMITS.chainBytes / 1024} KiB` });
  const blocks = pemBlocks(text, OWN_CERT_LIMITS.chainCertificates + 1);
  if (blocks.length === 0) throw fail('CERT_INVALID', { reason: 'the certificate file holds no PEM block (-----BEGIN CERTIFICATE-----)' });
  const other = blocks.find((block) => block.label !== 'CERTIFICATE');
  if (other) {
    const reason = other.label.includes('PRIVATE KEY')
      ? 'the certificate file holds a private key: give the key with --key, and only certificates with --cert'
      : `the certificate file holds a "${other.label.slice(0, 40)}" block; it may only hold certificates`;
    throw fail('CERT_INVALID', { reason });
  }
  if (blocks.length > OWN_CERT_LIMITS.chainCertificates) throw fail('CERT_INVALID', { reason: `the chain holds more than ${OWN_CERT_LIMITS.chainCertificates} certificates` });
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block.pem);
    } catch {
      throw fail('CERT_INVALID', { reason: `certificate ${i + 1} of the file is not a valid X.509 certificate` });
    }
  });
}

function parseKey(text: string): KeyObject {
  if (Buffer.byteLength(text) > OWN_CERT_LIMITS.keyBytes) throw fail('CERT_KEY_INVALID', { reason: `the key file is larger than ${OWN_CERT_LIMITS.keyBytes / 1024} KiB` });
  const blocks = pemBlocks(text, 4);
  if (blocks.some((block) => block.label === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type:\s*4,\s*ENCRYPTED/m.test(block.pem))) throw fail('CERT_KEY_ENCRYPTED');
  const keys = blocks.filter((block) => /^(RSA |EC )?PRIVATE KEY$/.test(block.label));
  if (keys.length === 0) {
    const found = blocks.length ? `a "${blocks[0].label.slice(0, 40)}" block` : 'no PEM block';
    throw fail('CERT_KEY_INVALID', { reason: `the key file holds ${found}, not a private key (-----BEGIN PRIVATE KEY-----)` });
  }
  if (keys.length > 1) throw fail('CERT_KEY_INVALID', { reason: 'the key file holds more than one private key' });
  try {
    // An empty passphrase: a key encrypted in a way the markers above missed fails here instead of prompting.
    return createPrivateKey({ key: keys[0].pem, format: 'pem', passphrase: '' });
  } catch {
    throw fail('CERT_KEY_INVALID', { reason: 'the private key could not be read (damaged, or a type berth does not know)' });
  }
}

function checkDates(cert: X509Certificate, index: number, now: number): void {
  const which = index === 0 ? 'the certificate' : `certificate ${index + 1} of the chain (${subjectName(cert)})`;
  if (now >= cert.validToDate.getTime()) throw fail('CERT_EXPIRED', { which, notAfter: cert.validToDate.toISOString() });
  if (now < cert.validFromDate.getTime()) throw fail('CERT_NOT_YET_VALID', { which, notBefore: cert.validFromDate.toISOString() });
}

/** Each certificate issued by the next (names and signature); a misplaced one is named, and so is its place. */
function checkOrder(chain: X509Certificate[]): void {
  for (let i = 0; i + 1 < chain.length; i++) {
    if (issued(chain[i + 1], chain[i])) continue;
    const at = chain.findIndex((cert, k) => k !== i && issued(cert, chain[i]));
    const child = `certificate ${i + 1} (${subjectName(chain[i])})`;
    if (at >= 0) throw fail('CERT_CHAIN_ORDER', { reason: `${child} was issued by certificate ${at + 1}, which must come right after it` });
    throw fail('CERT_CHAIN_INVALID', { reason: `certificate ${i + 2} (${subjectName(chain[i + 1])}) did not issue ${child}, and no other certificate of the file did` });
  }
}

const issued = (issuer: X509Certificate, cert: X509Certificate): boolean => cert.checkIssued(issuer) && cert.verify(issuer.publicKey);

/** What a TLS server's OpenSSL says of the pair (a key too small for its security level, a weak digest). */
function checkLoads(cert: string, key: string): void {
  try {
    createSecureContext({ cert, key, minVersion: 'TLSv1.2' });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const reason = (error as Error).message.replace(/^error:[0-9A-F]+:[^:]*::?/, '').slice(0, 200);
    throw fail('CERT_UNUSABLE', { reason: code ? `${reason} (${code})` : reason });
  }
}

/** `CN=...` else `O=...` of a distinguished name as node prints it (one `key=value` a line). */
function nameIn(dn: string): string | undefined {
  const fields = dn.split('\n');
  const pick = (key: string) => fields.find((field) => field.startsWith(`${key}=`))?.slice(key.length + 1);
  const value = pick('CN') ?? pick('O');
  return value === undefined ? undefined : value.slice(0, 200);
}

export const subjectName = (cert: X509Certificate): string => nameIn(cert.subject) ?? '(no name)';
export const issuerName = (cert: X509Certificate): string => nameIn(cert.issuer) ?? '(no name)';

/** The DNS names of the subjectAltName, at most 20 (for messages and the record). */
function dnsNames(cert: X509Certificate): string[] {
  const names: string[] = [];
  for (const entry of (cert.subjectAltName ?? '').split(', ')) {
    // Node quotes a value holding a comma or a quote as JSON: such a name is no hostname anyway.
    if (entry.startsWith('DNS:') && !entry.startsWith('DNS:"')) names.push(entry.slice(4));
    if (names.length === 20) break;
  }
  return names;
}
