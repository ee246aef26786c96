/**
 * Throwaway certificates for TLS tests, made by the real `openssl` (node:crypto cannot make X.509
 * certificates): one CA per call of `makeTestCa`, and leaves it signs for the hostnames a test names.
 * ECDSA P-256 by default (fast); RSA when a test needs the other key type.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { TlsCertificate } from '../../src/dataplane/route-table.ts';

export interface TestLeaf {
  certPem: string;
  keyPem: string;
  /** The certificate's own not-after, ms since the epoch. */
  notAfter: number;
  /** SHA-256 fingerprint, as node's `getPeerCertificate().fingerprint256` spells it. */
  fingerprint256: string;
}

export interface TestCa {
  /** The CA certificate, to give clients as `ca`. */
  certPem: string;
  issue(hosts: string[], options?: { days?: number; rsa?: boolean; commonName?: string }): TestLeaf;
}

const keyArgs = (rsa: boolean) => (rsa ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);

export function makeTestCa(name = 'berth test CA'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    openssl(['req', '-x509', ...keyArgs(false), '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    const caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const caKey = readFileSync(join(dir, 'ca.key'), 'utf8');
    let serial = 0;
    return {
      certPem: caPem,
      issue(hosts, options = {}) {
        const work = mkdtempSync(join(tmpdir(), 'berth-tls-leaf-'));
        const run = (args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
        try {
          writeFileSync(join(work, 'ca.pem'), caPem);
          writeFileSync(join(work, 'ca.key'), caKey, { mode: 0o600 });
          writeFileSync(join(work, 'ext.cnf'), `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
          run(['req', '-new', ...keyArgs(options.rsa ?? false), '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', `/CN=${options.commonName ?? hosts[0]}`]);
          run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(Date.now() * 100 + ++serial),
            '-days', String(options.days ?? 30), '-extfile', 'ext.cnf', '-out', 'leaf.pem']);
          // The chain as a server sends it: the leaf, then the CA (a stand-in for an intermediate).
          const certPem = readFileSync(join(work, 'leaf.pem'), 'utf8') + caPem;
          const keyPem = readFileSync(join(work, 'leaf.key'), 'utf8');
          const x509 = new X509Certificate(certPem);
          return { certPem, keyPem, notAfter: Date.parse(x509.validTo), fingerprint256: x509.fingerprint256 };
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A leaf as the data plane takes it. */
export function tlsCertificate(id: string, hosts: string[], leaf: TestLeaf, notAfter = leaf.notAfter): TlsCertificate {
  return { id, hosts, certPem: leaf.certPem, keyPem: leaf.keyPem, notAfter };
}
