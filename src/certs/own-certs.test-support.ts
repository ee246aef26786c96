/**
 * Certificates for the tests of own certificates, made by the real `openssl` in a temp dir (node:crypto
 * cannot make X.509 certificates): a root, an intermediate it signed, and leaves with the names, dates,
 * issuer and key a test asks for. Test-only; nothing in berth imports it.
 *
 * Dates in the past or the future: Debian 12's OpenSSL 3.0 has no `x509 -not_before` (3.4+) and `req -days`
 * refuses 0 and negatives, so leaves are signed by `openssl ca`, whose `-startdate` / `-enddate` take any
 * time (a minimal CA config below, serials random, no unique subjects).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface LeafOptions {
  /** subjectAltName DNS names; none gives a certificate with only a common name. */
  hosts: string[];
  commonName?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** Who signs it: the intermediate (default), the root, or the leaf itself. */
  issuer?: 'intermediate' | 'root' | 'self';
  /** An RSA key of this many bits instead of ECDSA P-256. */
  rsaBits?: number;
}

export interface CertFactory {
  root: PemPair;
  intermediate: PemPair;
  /** A leaf; its `certPem` is the leaf alone (add the chain with `chainOf`). */
  leaf(options: LeafOptions): PemPair;
  /** The leaf, then the intermediate (the chain a server sends). */
  chainOf(leaf: PemPair): string;
  /** The key encrypted with a passphrase: PKCS#8 (`ENCRYPTED PRIVATE KEY`) or the traditional form (`Proc-Type: 4,ENCRYPTED`). */
  encrypt(keyPem: string, form: 'pkcs8' | 'traditional'): string;
  close(): void;
}

const CA_CONFIG = `[ ca ]
default_ca = berth_test
[ berth_test ]
dir = .
database = index.txt
new_certs_dir = .
rand_serial = yes
default_md = sha256
policy = any
copy_extensions = none
unique_subject = no
[ any ]
commonName = supplied
`;

/** `openssl ca` takes times as YYYYMMDDHHMMSSZ. */
const asn1Time = (date: Date) => date.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');

export function makeCertFactory(): CertFactory {
  const dir = mkdtempSync(join(tmpdir(), 'berth-own-certs-'));
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  writeFileSync(join(dir, 'ca.cnf'), CA_CONFIG);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'ca-ext.cnf'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  const now = Date.now();
  const day = 86_400_000;

  openssl(['req', '-x509', ...ecKey, '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-days', '3650', '-subj', '/O=Berth Test/CN=Berth Test Root',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const root = { certPem: read('root.pem'), keyPem: read('root.key') };
  let n = 0;

  /** Signs `csr` with `signer` (or itself) for the given time span; returns the certificate's PEM. */
  const sign = (csr: string, signer: 'root' | 'intermediate' | { selfKey: string }, ext: string, from: Date, to: Date): string => {
    const out = `cert-${++n}.pem`;
    const who = typeof signer === 'string' ? ['-cert', `${signer}.pem`, '-keyfile', `${signer}.key`] : ['-selfsign', '-keyfile', signer.selfKey];
    openssl(['ca', '-batch', '-config', 'ca.cnf', ...who, '-in', csr, '-out', out, '-notext', '-extfile', ext, '-startdate', asn1Time(from), '-enddate', asn1Time(to)]);
    return read(out);
  };

  openssl(['req', '-new', ...ecKey, '-nodes', '-keyout', 'intermediate.key', '-out', 'intermediate.csr', '-subj', '/O=Berth Test/CN=Berth Test Intermediate']);
  const intermediate = { certPem: sign('intermediate.csr', 'root', 'ca-ext.cnf', new Date(now - day), new Date(now + 3000 * day)), keyPem: read('intermediate.key') };
  writeFileSync(join(dir, 'intermediate.pem'), intermediate.certPem);

  return {
    root,
    intermediate,
    leaf(options) {
      const id = ++n;
      const keyArgs = options.rsaBits ? ['-newkey', `rsa:${options.rsaBits}`] : ecKey;
      const cn = options.commonName ?? options.hosts[0] ?? 'no-names.test';
      openssl(['req', '-new', ...keyArgs, '-nodes', '-keyout', `leaf-${id}.key`, '-out', `leaf-${id}.csr`, '-subj', `/CN=${cn}`]);
      const san = options.hosts.length ? `subjectAltName=${options.hosts.map((h) => `DNS:${h}`).join(',')}\n` : '';
      writeFileSync(join(dir, `leaf-${id}.cnf`), `${san}basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
      const issuer = options.issuer ?? 'intermediate';
      const signer = issuer === 'self' ? { selfKey: `leaf-${id}.key` } : issuer;
      const from = options.notBefore ?? new Date(now - day);
      const to = options.notAfter ?? new Date(now + 90 * day);
      return { certPem: sign(`leaf-${id}.csr`, signer, `leaf-${id}.cnf`, from, to), keyPem: read(`leaf-${id}.key`) };
    },
    chainOf: (leaf) => leaf.certPem + intermediate.certPem,
    encrypt(keyPem, form) {
      const id = ++n;
      writeFileSync(join(dir, `plain-${id}.key`), keyPem);
      const args = form === 'pkcs8' ? ['pkey', '-aes256'] : ['pkey', '-traditional', '-aes256'];
      openssl([...args, '-in', `plain-${id}.key`, '-passout', 'pass:berth-test', '-out', `enc-${id}.key`]);
      return read(`enc-${id}.key`);
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
