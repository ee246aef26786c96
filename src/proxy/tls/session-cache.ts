/**
 * TLS 1.2 session-ID resumption for clients without tickets: node leaves OpenSSL's own server cache off,
 * so the listener keeps sessions here (its `newSession` / `resumeSession` events). Bounded in entries and
 * age; the oldest go first. TLS 1.3 sessions are not kept: 1.3 resumes by ticket only.
 */
export class SessionCache {
  readonly #max: number;
  readonly #ttlMs: number;
  /** Insertion order is age order: the first entry is the oldest. */
  readonly #entries = new Map<string, { data: Buffer; expires: number }>();

  constructor(options: { max: number; ttlMs: number }) {
    this.#max = options.max;
    this.#ttlMs = options.ttlMs;
  }

  get size(): number {
    return this.#entries.size;
  }

  store(id: Buffer, data: Buffer, now: number): void {
    if (id.length === 0 || isTls13Session(data)) return;
    const key = id.toString('hex');
    this.#entries.delete(key);
    while (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { data, expires: now + this.#ttlMs });
  }

  get(id: Buffer, now: number): Buffer | null {
    const key = id.toString('hex');
    const entry = this.#entries.get(key);
    if (!entry) return null;
    if (now > entry.expires) {
      this.#entries.delete(key);
      return null;
    }
    return entry.data;
  }
}

/**
 * Reads the protocol version from an OpenSSL session (DER `SEQUENCE { INTEGER 1, INTEGER sslVersion, ... }`):
 * 0x0304 is TLS 1.3. Anything unexpected counts as "not 1.3", so at worst a session is kept that is not needed.
 */
export function isTls13Session(der: Buffer): boolean {
  if (der.length < 12 || der[0] !== 0x30) return false;
  let at = 2;
  const len = der[1];
  if (len & 0x80) at += len & 0x7f;
  // INTEGER 1 (the ASN.1 format version), then INTEGER of two bytes: the protocol version.
  return der[at] === 0x02 && der[at + 1] === 0x01 && der[at + 3] === 0x02 && der[at + 4] === 0x02 && der[at + 5] === 0x03 && der[at + 6] === 0x04;
}
