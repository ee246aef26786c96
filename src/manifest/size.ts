/**
 * Sizes as written in berth.yaml: a number and a unit, 1024-based. `b`, `kb`, `mb` and `gb` (or just `k`,
 * `m`, `g`), in any case: `512mb`, `1.5GB`, `256m`. Resolved to bytes.
 */

const UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const PATTERN = /^(\d+(?:\.\d+)?)(b|kb|mb|gb|k|m|g)$/i;
/** For editors: what PATTERN accepts, without the case-insensitive flag JSON Schema lacks. */
export const SIZE_PATTERN = '^\\d+(\\.\\d+)?([bB]|[kKmMgG][bB]?)$';

/** `256mb` -> 268435456; undefined when the text is not a size berth reads. Bytes are rounded to a whole number. */
export function parseSize(text: string): number | undefined {
  const match = PATTERN.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNITS[match[2][0].toLowerCase()]);
}

/** The shortest exact spelling in whole units: 268435456 -> `256mb`, 1536 -> `1536b`. */
export function formatSize(bytes: number): string {
  for (const unit of ['g', 'm', 'k'] as const) {
    if (bytes >= UNITS[unit] && bytes % UNITS[unit] === 0) return `${bytes / UNITS[unit]}${unit}b`;
  }
  return `${bytes}b`;
}

const WORDS: Record<string, string> = {
  b: 'b', byte: 'b', bytes: 'b',
  k: 'kb', kb: 'kb', ki: 'kb', kib: 'kb', kilobyte: 'kb', kilobytes: 'kb',
  m: 'mb', mb: 'mb', mi: 'mb', mib: 'mb', megabyte: 'mb', megabytes: 'mb',
  g: 'gb', gb: 'gb', gi: 'gb', gib: 'gb', gigabyte: 'gb', gigabytes: 'gb',
  t: 'tb', tb: 'tb', ti: 'tb', tib: 'tb', terabyte: 'tb', terabytes: 'tb',
};

/**
 * What a size written another way amounts to, for messages: `512 MiB` and `512Mi` (Kubernetes) read as
 * `512mb`, `1tb` as 1024 gb. `spelling` is berth's spelling when there is one (never for terabytes).
 */
export function readLoosely(text: string): { bytes: number; spelling: string | undefined } | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(text);
  const unit = match && WORDS[match[2].toLowerCase()];
  if (!unit) return undefined;
  const bytes = Math.round(Number(match[1]) * (unit === 'tb' ? 1024 ** 4 : UNITS[unit[0]]));
  return { bytes, spelling: unit === 'tb' ? undefined : `${match[1]}${unit}` };
}
