/**
 * Masks secret values in captured output. Values shorter than MIN_SECRET_LENGTH are not masked: masking
 * `1` or `on` would shred ordinary log lines and hide nothing worth hiding.
 */
export const MIN_SECRET_LENGTH = 4;
export const MASK = '***';

/** Returns a function that replaces every occurrence of every secret in a line with `***`. */
export function createMasker(secrets: readonly string[]): (line: string) => string {
  // Longest first, so a secret that contains another one is masked whole rather than in pieces.
  const values = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH))].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (line) => line;
  return (line) => {
    let out = line;
    for (const value of values) if (out.includes(value)) out = out.split(value).join(MASK);
    return out;
  };
}
