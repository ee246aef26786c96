import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** Time-ordered, URL-safe ids such as `dep_01jd3k9x2m4q7r8s`: sortable by creation, unique without a counter. */
export function newId(prefix: string, now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 9; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const rand = randomBytes(6);
  let tail = '';
  for (const byte of rand) tail += ALPHABET[byte % 32];
  return `${prefix}_${time}${tail}`;
}
