import { createHash } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { emptyCertificateSet, InvalidCertificateSetError, type CertificateSet, type TlsCertificate } from '../../dataplane/route-table.ts';
import { certificateSetProblems } from '../../dataplane/validate-certificates.ts';

/** One certificate ready to serve: its secure context is built once, when its set is applied. */
interface Served {
  id: string;
  notAfter: number;
  context: SecureContext;
}

/** What `GET /certificates` shows of a set: never a PEM. */
export interface CertificateSummary {
  generation: number;
  certificates: { id: string; hosts: string[]; notAfter: number }[];
}

/**
 * The certificates the TLS listener serves, by SNI name. `apply` validates a whole set and builds every
 * secure context before it swaps the maps, so a bad set changes nothing and a good one costs the
 * handshake path only a map lookup. Connections already up keep the context they were given. An entry
 * the set in use already has (same hosts, certificate and key) keeps its checks and its context: a
 * renewal among many certificates costs one certificate (about 0.5 ms), not all of them.
 */
export class LiveCertificates {
  readonly #policy: SecureContextOptions;
  #set: CertificateSet = emptyCertificateSet();
  /** Exact names, and `*.parent` wildcards under their `.parent`; each list freshest first. */
  #exact = new Map<string, Served[]>();
  #wildcard = new Map<string, Served[]>();
  /** The contexts of the set in use, by entry digest. */
  #built = new Map<string, SecureContext>();

  constructor(policy: SecureContextOptions) {
    this.#policy = policy;
  }

  get set(): CertificateSet {
    return this.#set;
  }

  /** Takes `set` unless it is older than the one in use (false). Throws InvalidCertificateSetError, changing nothing, for a bad set. */
  apply(set: CertificateSet): boolean {
    // An older set is refused before its PEMs cost anything.
    if (Number.isSafeInteger(set?.generation) && set.generation < this.#set.generation) return false;
    const problems = certificateSetProblems(set, (c) => this.#built.has(digestOf(c)));
    if (problems.length) throw new InvalidCertificateSetError(problems);
    const exact = new Map<string, Served[]>();
    const wildcard = new Map<string, Served[]>();
    const built = new Map<string, SecureContext>();
    set.certificates.forEach((c, i) => {
      const digest = digestOf(c);
      let context = built.get(digest) ?? this.#built.get(digest);
      try {
        context ??= createSecureContext({ ...this.#policy, cert: c.certPem, key: c.keyPem });
      } catch (error) {
        // node:crypto read it, OpenSSL would not serve it (a key too weak for the policy, say).
        throw new InvalidCertificateSetError([`certificates[${i}] cannot be served: ${(error as Error).message.split('\n')[0]}`]);
      }
      built.set(digest, context);
      const served: Served = { id: c.id, notAfter: c.notAfter, context };
      for (const host of c.hosts) {
        const map = host.startsWith('*.') ? wildcard : exact;
        const key = host.startsWith('*.') ? host.slice(1) : host;
        const list = map.get(key);
        if (list) list.push(served);
        else map.set(key, [served]);
      }
    });
    for (const list of [...exact.values(), ...wildcard.values()]) list.sort((a, b) => b.notAfter - a.notAfter);
    this.#exact = exact;
    this.#wildcard = wildcard;
    this.#built = built;
    this.#set = set;
    return true;
  }

  /**
   * The certificate for an SNI name at `now`: one for the exact name, else a `*.parent` one for a name one
   * label under parent; never an expired one (now > notAfter); of several, the one that lasts longest.
   * Undefined when none fits.
   */
  pick(servername: string, now: number): { id: string; context: SecureContext } | undefined {
    return this.#find(servername, now);
  }

  /** Whether a valid certificate covers `host` now: the HTTP listener redirects only such hosts. */
  covers(host: string, now: number): boolean {
    return this.#find(host, now) !== undefined;
  }

  summary(): CertificateSummary {
    return {
      generation: this.#set.generation,
      certificates: this.#set.certificates.map((c) => ({ id: c.id, hosts: [...c.hosts], notAfter: c.notAfter })),
    };
  }

  #find(name: string, now: number): Served | undefined {
    if (name.length === 0 || name.length > 254) return undefined;
    // SNI is case-insensitive and may carry the root's trailing dot.
    const host = (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
    const exact = fresh(this.#exact.get(host), now);
    if (exact) return exact;
    const dot = host.indexOf('.');
    return dot > 0 ? fresh(this.#wildcard.get(host.slice(dot)), now) : undefined;
  }
}

/** What makes two entries the same to serve: their hosts, certificate and key. */
const digestOf = (c: TlsCertificate): string => createHash('sha256').update(c.hosts.join(' ')).update('\0').update(c.certPem).update('\0').update(c.keyPem).digest('base64');

const fresh = (list: Served[] | undefined, now: number): Served | undefined => list?.find((s) => now <= s.notAfter);
