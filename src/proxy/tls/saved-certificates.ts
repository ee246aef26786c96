import type { CertificateSet } from '../../dataplane/route-table.ts';
import type { Sealer } from '../../secrets/sealer.ts';

/** A certificate set as the proxy saves it for its own restart: each private key sealed, never plain on disk. */
interface SavedSet {
  format: 'berth-certificates-v1';
  generation: number;
  certificates: { id: string; hosts: string[]; certPem: string; keySealed: string; notAfter: number }[];
}

export function sealCertificateSet(set: CertificateSet, sealer: Sealer): string {
  const saved: SavedSet = {
    format: 'berth-certificates-v1',
    generation: set.generation,
    certificates: set.certificates.map((c) => ({ id: c.id, hosts: c.hosts, certPem: c.certPem, keySealed: sealer.seal(c.keyPem), notAfter: c.notAfter })),
  };
  return JSON.stringify(saved);
}

/**
 * The set saved by `sealCertificateSet`, keys opened. Throws when the text is not one, or a key does not
 * open (another sealing key); the caller validates the result as any pushed set.
 */
export function openCertificateSet(text: string, sealer: Sealer): CertificateSet {
  const saved = JSON.parse(text) as SavedSet;
  if (!saved || saved.format !== 'berth-certificates-v1' || !Array.isArray(saved.certificates)) throw new Error('not a saved certificate set');
  return {
    generation: saved.generation,
    certificates: saved.certificates.map((c) => ({ id: c.id, hosts: c.hosts, certPem: c.certPem, keyPem: sealer.open(c.keySealed), notAfter: c.notAfter })),
  };
}
