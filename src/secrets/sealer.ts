import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { recordOf } from '../lib/record.ts';
import { writeFileAtomic } from '../lib/atomic-file.ts';

/**
 * Env values are sealed at rest with AES-256-GCM under a key kept in its own file (mode 0600) beside the
 * store, so a copied database alone reveals names but no values. The format is `v1.<iv>.<tag>.<ciphertext>`
 * in base64url; the version leaves room for key rotation.
 */
export interface Sealer {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

export function createSealer(key: Buffer): Sealer {
  if (key.length !== 32) throw new Error('the sealing key must be 32 bytes');
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
    },
    open(sealed) {
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== 'v1' || body === undefined) throw new Error('not a sealed value');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

/** Reads the key file, creating it (random, 0600) on first start. */
export function loadOrCreateKey(path: string): Buffer {
  if (!existsSync(path)) writeFileAtomic(path, randomBytes(32).toString('base64'), 0o600);
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte key; restore it from a backup`);
  return key;
}

/** Seals a whole env map as one value (a release's env snapshot). */
export const sealEnv = (sealer: Sealer, env: Record<string, string>): string => sealer.seal(JSON.stringify(env));
/** Opens a snapshot as a null-prototype record: a variable named `toString` or `__proto__` is an ordinary one. */
export const openEnv = (sealer: Sealer, sealed: string): Record<string, string> =>
  recordOf(Object.entries(JSON.parse(sealer.open(sealed)) as Record<string, string>));
