/**
 * The one certificate both proxies serve, made with openssl the way a public CA would shape it: a
 * throwaway root, an intermediate, and an ECDSA P-256 leaf for the benchmark's host (a Let's Encrypt
 * ECDSA certificate is a P-256 leaf under an ECDSA intermediate). The chain sent is leaf + intermediate,
 * as Let's Encrypt's is, so both handshakes carry the same bytes. Everything stays in the temp directory.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchCertificate {
  host: string;
  /** Leaf then intermediate, PEM (nginx's `ssl_certificate`, berth's `certPem`). */
  chainFile: string;
  chainPem: string;
  /** The leaf's PKCS#8 private key, PEM. */
  keyFile: string;
  keyPem: string;
  /** The throwaway root, for clients that verify (the probes). */
  caPem: string;
  notAfter: number;
  /** One line for the report. */
  describe: string;
}

function openssl(openssl: string, dir: string, args: string[]): void {
  const result = spawnSync(openssl, args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed (${result.signal ?? result.status}): ${result.stderr}`);
}

const P256 = ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-pkeyopt', 'ec_param_enc:named_curve'];

/** Makes root, intermediate and leaf in `dir`; valid for two days (the run takes minutes). */
export function makeCertificate(opensslPath: string, dir: string, host: string): BenchCertificate {
  const run = (args: string[]) => openssl(opensslPath, dir, args);
  writeFileSync(
    join(dir, 'ext.cnf'),
    [
      '[ca]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '[intermediate]',
      'basicConstraints = critical, CA:TRUE, pathlen:0',
      'keyUsage = critical, digitalSignature, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid:always',
      '[leaf]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth',
      `subjectAltName = DNS:${host}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid:always',
      '',
    ].join('\n'),
  );
  run([...P256, '-out', 'root.key']);
  // The root signs itself from a CSR, so that all three take their extensions from the same file.
  run(['req', '-new', '-key', 'root.key', '-subj', '/O=berth bench/CN=berth bench throwaway root', '-config', '/dev/null', '-out', 'root.csr']);
  run(['x509', '-req', '-in', 'root.csr', '-key', 'root.key', '-set_serial', '1', '-days', '2', '-sha256', '-extfile', 'ext.cnf', '-extensions', 'ca', '-out', 'root.pem']);
  run([...P256, '-out', 'intermediate.key']);
  run(['req', '-new', '-key', 'intermediate.key', '-subj', '/O=berth bench/CN=berth bench E1', '-config', '/dev/null', '-out', 'intermediate.csr']);
  run(['x509', '-req', '-in', 'intermediate.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '2', '-days', '2', '-sha256', '-extfile', 'ext.cnf', '-extensions', 'intermediate', '-out', 'intermediate.pem']);
  run([...P256, '-out', 'leaf.key']);
  run(['req', '-new', '-key', 'leaf.key', '-subj', `/CN=${host}`, '-config', '/dev/null', '-out', 'leaf.csr']);
  run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'intermediate.pem', '-CAkey', 'intermediate.key', '-set_serial', '3', '-days', '2', '-sha256', '-extfile', 'ext.cnf', '-extensions', 'leaf', '-out', 'leaf.pem']);

  const leafPem = readFileSync(join(dir, 'leaf.pem'), 'utf8');
  const chainPem = leafPem + readFileSync(join(dir, 'intermediate.pem'), 'utf8');
  const chainFile = join(dir, 'chain.pem');
  writeFileSync(chainFile, chainPem);
  const keyFile = join(dir, 'leaf.key');
  const leaf = new X509Certificate(leafPem);
  if (!leaf.checkHost(host)) throw new Error(`the leaf made for ${host} does not cover it: ${leaf.subjectAltName}`);
  return {
    host,
    chainFile,
    chainPem,
    keyFile,
    keyPem: readFileSync(keyFile, 'utf8'),
    caPem: readFileSync(join(dir, 'root.pem'), 'utf8'),
    notAfter: leaf.validToDate.getTime(),
    describe: `ECDSA P-256 leaf for \`${host}\` (SAN), signed with SHA-256 by a P-256 intermediate under a throwaway P-256 root, all made by openssl for this run; both proxies send leaf + intermediate (${Buffer.byteLength(chainPem)} bytes of PEM)`,
  };
}
