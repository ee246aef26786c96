/**
 * Masks secret values in text berth captures, stores or returns. Values shorter than MIN_SECRET_LENGTH are
 * not masked: masking `1` or `on` would shred ordinary log lines and hide nothing worth hiding.
 *
 * A secret is masked in every spelling berth (or what it drives) writes it in, not only raw: see
 * secretForms. The masker is built once per set of secrets (./needle-search.ts), so a line costs one
 * scan however many secrets and spellings there are.
 */
import { inspect } from 'node:util';
import { goQuoted } from './go-quote.ts';
import { NeedleSearch } from './needle-search.ts';

export const MIN_SECRET_LENGTH = 4;
export const MASK = '***';

export type Masker = (text: string) => string;

/** Node's ERR_INVALID_ARG_VALUE shows the first 128 characters of the inspected value (quote included). */
const NODE_ERROR_INSPECT_LENGTH = 127;

const inner = (quoted: string) => quoted.slice(1, -1);

/**
 * The spellings of one value as text berth writes can hold it: raw; JSON-escaped (events, the store,
 * API answers, log files); util.inspect-quoted as Node prints it in error messages, with either quote
 * (Node picks the quote from the whole string, which may hold more than the secret), and cut as
 * ERR_INVALID_ARG_VALUE cuts it; Go's %q (the engine echoes a container's env that way in errors);
 * inside single quotes for sh (the CLI's `berth run` command line).
 */
export function secretForms(value: string): string[] {
  const inspected = inner(inspect(value, { maxStringLength: Infinity }));
  // A `"` and a backtick after the value make inspect use single quotes and escape the value's own `'`.
  const singleQuoted = inspect(`${value}"\``, { maxStringLength: Infinity }).slice(1, -3);
  return [
    value,
    inner(JSON.stringify(value)),
    inspected,
    singleQuoted,
    inspected.slice(0, NODE_ERROR_INSPECT_LENGTH),
    singleQuoted.slice(0, NODE_ERROR_INSPECT_LENGTH),
    goQuoted(value),
    value.replaceAll("'", "'\\''"),
  ];
}

/**
 * What to look for: each secret's forms, and for a multi-line secret (a PEM key) also the forms of each of
 * its lines, since apps print those one by one and berth stores output line by line.
 */
export function maskNeedles(secrets: readonly string[]): string[] {
  const needles = new Set<string>();
  const add = (value: string) => {
    if (value.length < MIN_SECRET_LENGTH) return;
    for (const form of secretForms(value)) if (form.length >= MIN_SECRET_LENGTH) needles.add(form);
  };
  for (const secret of new Set(secrets)) {
    add(secret);
    // Output lines lose their end of line and often their trailing blanks: a value that has some is masked without them too.
    add(secret.trim());
    if (/[\r\n]/.test(secret)) for (const line of secret.split(/\r\n|\r|\n/)) add(line.trim());
  }
  return [...needles];
}

/** Returns a function that replaces every occurrence of every secret, in any of its forms, with `***`. */
export function createMasker(secrets: readonly string[]): Masker {
  const needles = maskNeedles(secrets);
  if (needles.length === 0) return (text) => text;
  const search = new NeedleSearch(needles);
  return (text) => maskWith(search, text);
}

/**
 * Replaces the union of all occurrences with one MASK per run: secrets that overlap (one's end is
 * another's start, or one holds another) are masked whole, never left in pieces.
 */
function maskWith(search: NeedleSearch, text: string): string {
  let out = '';
  let copied = 0;
  let runStart = -1;
  let runEnd = -1;
  search.scan(text, (start, end) => {
    if (start < runEnd) {
      runEnd = Math.max(runEnd, end);
      return;
    }
    if (runEnd >= 0) out += text.slice(copied, runStart) + MASK;
    copied = runEnd >= 0 ? runEnd : 0;
    runStart = start;
    runEnd = end;
  });
  if (runEnd < 0) return text;
  return out + text.slice(copied, runStart) + MASK + text.slice(runEnd);
}

const MAX_DEPTH = 16;

/**
 * Masks every string in a JSON-like value (event data), keys aside. Objects come back with a null
 * prototype; numbers, booleans and null as they were. Event data is shallow: what lies deeper than
 * MAX_DEPTH is replaced by MASK rather than walked (or stored unmasked).
 */
export function maskDeep(value: unknown, mask: Masker, depth = 0): unknown {
  if (typeof value === 'string') return mask(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return MASK;
  if (Array.isArray(value)) return value.map((item) => maskDeep(item, mask, depth + 1));
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, item] of Object.entries(value)) out[key] = maskDeep(item, mask, depth + 1);
  return out;
}
