/** Scalar node kinds: string, int, number, boolean, enum (`oneOf`), duration and size. */
import { defineNode, fail, issue, ok, write, type Common, type Node, type Presence, type Result } from './dsl-node.ts';
import { article, describeValue, inlineYaml, quote, snippet } from './show.ts';
import { closest } from './suggest.ts';
import { formatDuration, parseDuration } from '../lib/duration.ts';
import { formatSize, parseSize, readLoosely, SIZE_PATTERN } from './size.ts';

function backquoted(values: readonly string[]): string {
  const shown = values.map((v) => `\`${v}\``);
  return shown.length <= 2 ? shown.join(' or ') : `${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}`;
}

// ---------------------------------------------------------------------------------------------- string

export interface StringOptions extends Common<string> {
  /** The kind of text in words, for messages and the reference: `command`, `hostname`. Default `string`. */
  type?: string;
  pattern?: RegExp;
  /** The pattern in words: `lowercase letters, digits and dashes, starting with a letter`. */
  patternHint?: string;
  minLength?: number;
  maxLength?: number;
  /** Rejects empty and whitespace-only text. */
  notBlank?: boolean;
  /** Also accepts numbers and booleans and keeps them as text, exactly as written in the file. */
  scalars?: boolean;
  /** A corrected value to offer in the fix (`Hello_World` -> `hello-world`); ignored unless it is valid. */
  suggest?: (bad: string) => string | undefined;
  /** The resolved form of valid text: `./public/` -> `public`. */
  normalize?: (text: string) => string;
  /**
   * Why `text` is not valid, in words more precise than `patternHint` (`the repository name must be
   * lowercase`); undefined for valid text. Checked after the lengths, before `pattern`, which must still
   * agree with it: the JSON Schema only has the pattern.
   */
  explain?: (text: string) => string | undefined;
}

export function string<const O extends StringOptions>(options: O): Node<Presence<string, O>> {
  const type = options.type ?? 'string';
  const lengths = lengthWords(options.minLength, options.maxLength);
  const allowed = [options.patternHint, lengths].filter(Boolean).join('; ') || undefined;

  /** What is wrong with `text`, or undefined when it is valid. */
  const problem = (text: string): string | undefined => {
    if (options.notBlank && text.trim() === '') return `expected ${article(type)}, found ${text === '' ? 'an empty string' : 'only whitespace'}`;
    if (options.minLength !== undefined && text.length < options.minLength) {
      return `is ${text.length} characters long; at least ${options.minLength} needed`;
    }
    if (options.maxLength !== undefined && text.length > options.maxLength) {
      return `is ${text.length} characters long; at most ${options.maxLength} allowed`;
    }
    const why = options.explain?.(text);
    if (why !== undefined) return `${quote(text)} is not a valid ${type}: ${why}`;
    if (options.pattern && !options.pattern.test(text)) {
      return `${quote(text)} is not a valid ${type}: expected ${options.patternHint ?? `text matching ${options.pattern.source}`}`;
    }
    return undefined;
  };

  return defineNode({
    kind: 'string',
    common: options,
    type,
    allowed,
    check(value, path, context): Result<string> {
      let text: string;
      if (typeof value === 'string') text = value;
      else if (options.scalars && (typeof value === 'number' || typeof value === 'boolean')) {
        text = context.sourceText?.(path) ?? String(value);
      } else {
        const kinds = options.scalars ? `${article(type)} (text, a number or true/false)` : article(type);
        // Structured data where a value goes (env): quoting it as JSON is usually what was meant.
        const structured = options.scalars && typeof value === 'object' && value !== null && !(value instanceof Uint8Array);
        const json = structured ? JSON.stringify(value) : undefined;
        const fix = json !== undefined && json.length <= 60 ? `quote it as one line of text: ${snippet(path, json)}` : write(path, options.example);
        return fail(issue(path, `expected ${kinds}, found ${describeValue(value)}`, fix));
      }
      const message = problem(text);
      if (message === undefined) return ok(options.normalize ? options.normalize(text) : text);
      const suggestion = options.suggest?.(text);
      const fix = suggestion !== undefined && problem(suggestion) === undefined ? suggestion : options.example;
      return fail(issue(path, message, write(path, fix)));
    },
    schema: () => ({
      type: options.scalars ? ['string', 'number', 'boolean'] : 'string',
      ...(options.pattern ? { pattern: options.pattern.source } : options.notBlank ? { pattern: '\\S' } : {}),
      ...(options.minLength !== undefined ? { minLength: options.minLength } : options.notBlank ? { minLength: 1 } : {}),
      ...(options.maxLength !== undefined ? { maxLength: options.maxLength } : {}),
    }),
  }) as Node<Presence<string, O>>;
}

function lengthWords(min: number | undefined, max: number | undefined): string | undefined {
  if (min !== undefined && max !== undefined) return `${min} to ${max} characters`;
  if (max !== undefined) return `at most ${max} characters`;
  if (min !== undefined) return `at least ${min} characters`;
  return undefined;
}

function rangeWords(min: string | undefined, max: string | undefined): string | undefined {
  if (min !== undefined && max !== undefined) return `${min} to ${max}`;
  if (max !== undefined) return `at most ${max}`;
  if (min !== undefined) return `at least ${min}`;
  return undefined;
}

const clamp = (n: number, min = -Infinity, max = Infinity) => Math.min(Math.max(n, min), max);

// ------------------------------------------------------------------------------------------------- int

export interface IntOptions extends Common<number> {
  min?: number;
  max?: number;
}

export function int<const O extends IntOptions>(options: O): Node<Presence<number, O>> {
  const { min, max } = options;
  const range = rangeWords(min?.toString(), max?.toString());
  const expected =
    min !== undefined && max !== undefined ? `a whole number from ${min} to ${max}`
    : min !== undefined ? `a whole number of at least ${min}`
    : max !== undefined ? `a whole number of at most ${max}`
    : 'a whole number';
  return defineNode({
    kind: 'int',
    common: options,
    type: 'integer',
    allowed: range,
    check(value, path): Result<number> {
      if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) {
        const n = clamp(Number(value), min, max);
        return fail(issue(path, `expected ${expected}, found the quoted text ${quote(value)}`, `remove the quotes: ${snippet(path, n)}`));
      }
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return fail(issue(path, `expected ${expected}, found ${describeValue(value)}`, write(path, options.example)));
      }
      if (!Number.isInteger(value) || value < (min ?? -Infinity) || value > (max ?? Infinity)) {
        return fail(issue(path, `expected ${expected}, found ${value}`, write(path, clamp(Math.round(value), min, max))));
      }
      return ok(value);
    },
    schema: () => ({
      type: 'integer',
      ...(min !== undefined ? { minimum: min } : {}),
      ...(max !== undefined ? { maximum: max } : {}),
    }),
  }) as Node<Presence<number, O>>;
}

// ---------------------------------------------------------------------------------------------- number

export interface NumberOptions extends Common<number> {
  min?: number;
  max?: number;
}

/** A number that may have decimals: `cpus: 0.5`. */
export function number<const O extends NumberOptions>(options: O): Node<Presence<number, O>> {
  const { min, max } = options;
  const range = rangeWords(min?.toString(), max?.toString());
  const expected =
    min !== undefined && max !== undefined ? `a number from ${min} to ${max}`
    : min !== undefined ? `a number of at least ${min}`
    : max !== undefined ? `a number of at most ${max}`
    : 'a number';
  return defineNode({
    kind: 'number',
    common: options,
    type: 'number',
    allowed: range,
    check(value, path): Result<number> {
      if (typeof value === 'string' && /^\s*-?(\d+(\.\d*)?|\.\d+)\s*$/.test(value)) {
        const n = clamp(Number(value), min, max);
        return fail(issue(path, `expected ${expected}, found the quoted text ${quote(value)}`, `remove the quotes: ${snippet(path, n)}`));
      }
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return fail(issue(path, `expected ${expected}, found ${describeValue(value)}`, write(path, options.example)));
      }
      if (value < (min ?? -Infinity) || value > (max ?? Infinity)) {
        return fail(issue(path, `expected ${expected}, found ${value}`, write(path, clamp(value, min, max))));
      }
      return ok(value);
    },
    schema: () => ({
      type: 'number',
      ...(min !== undefined ? { minimum: min } : {}),
      ...(max !== undefined ? { maximum: max } : {}),
    }),
  }) as Node<Presence<number, O>>;
}

// --------------------------------------------------------------------------------------------- boolean

const TRUTHY = /^(y|yes|on|true)$/i;
const FALSY = /^(n|no|off|false)$/i;

export function boolean<const O extends Common<boolean>>(options: O): Node<Presence<boolean, O>> {
  return defineNode({
    kind: 'boolean',
    common: options,
    type: 'boolean',
    check(value, path): Result<boolean> {
      if (typeof value === 'boolean') return ok(value);
      // YAML 1.2 reads `yes` and `on` as text; say which boolean was probably meant.
      const meant = typeof value === 'string' && TRUTHY.test(value) ? true : typeof value === 'string' && FALSY.test(value) ? false : options.example;
      return fail(issue(path, `expected true or false, found ${describeValue(value)}`, write(path, meant)));
    },
    schema: () => ({ type: 'boolean' }),
  }) as Node<Presence<boolean, O>>;
}

// ------------------------------------------------------------------------------------------------ enum

export interface EnumOptions extends Common<string> {
  values: readonly string[];
  /** Values that will come in a later version: named as such in the message instead of just "unknown". */
  planned?: readonly string[];
}

export function oneOf<const O extends EnumOptions>(options: O): Node<Presence<O['values'][number], O>> {
  const { values, planned = [] } = options;
  const allowed = `one of ${backquoted(values)}`;
  return defineNode({
    kind: 'enum',
    common: options,
    type: 'string',
    allowed,
    check(value, path): Result<string> {
      if (typeof value === 'string' && values.includes(value)) return ok(value);
      const fix = write(path, (typeof value === 'string' && closest(value, values)) || values[0]);
      let message = `expected ${allowed}, found ${describeValue(value)}`;
      if (typeof value === 'string' && planned.includes(value)) message += ` (\`${value}\` is planned but not available yet)`;
      return fail(issue(path, message, fix));
    },
    schema: () => ({ type: 'string', enum: [...values] }),
  }) as Node<Presence<O['values'][number], O>>;
}

// -------------------------------------------------------------------------------------------- duration

export interface DurationOptions extends Common<string> {
  /** Shortest allowed, as written in berth.yaml: `100ms`. */
  min?: string;
  max?: string;
}

/** Matches what src/lib/duration.ts parses, for editors. */
const DURATION_PATTERN = '^\\d+(\\.\\d+)?(ms|s|m|h|d)$';

const UNIT_WORDS: Record<string, string> = {
  ms: 'ms', msec: 'ms', msecs: 'ms', millisecond: 'ms', milliseconds: 'ms', millis: 'ms',
  s: 's', sec: 's', secs: 's', second: 's', seconds: 's',
  m: 'm', min: 'm', mins: 'm', minute: 'm', minutes: 'm',
  h: 'h', hr: 'h', hrs: 'h', hour: 'h', hours: 'h',
  d: 'd', day: 'd', days: 'd',
};

/** `5 sec` -> `5s`, `2 Minutes` -> `2m`: the spelling berth reads, when the intent is clear. */
function respell(text: string): string | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(text);
  const unit = match && UNIT_WORDS[match[2].toLowerCase()];
  return unit ? `${match[1]}${unit}` : undefined;
}

export function duration<const O extends DurationOptions>(options: O): Node<Presence<number, O>> {
  const min = options.min === undefined ? undefined : mustParse(options.min);
  const max = options.max === undefined ? undefined : mustParse(options.max);
  const range = rangeWords(options.min, options.max);
  const expected = `a duration such as \`500ms\`, \`5s\`, \`1m\` or \`2h\``;
  return defineNode({
    kind: 'duration',
    common: options,
    type: 'duration',
    allowed: range,
    check(value, path): Result<number> {
      if (typeof value === 'number') {
        // A bare number: large ones are usually milliseconds, small ones seconds.
        const guess = value >= 100 ? `${value}ms` : `${value}s`;
        const fix = Number.isFinite(value) && value >= 0 ? `add a unit: ${snippet(path, guess)}` : write(path, options.example);
        return fail(issue(path, `expected ${expected}, found the number ${value} with no unit`, fix));
      }
      if (typeof value !== 'string') return fail(issue(path, `expected ${expected}, found ${describeValue(value)}`, write(path, options.example)));
      const ms = parseDuration(value);
      if (ms === undefined) {
        const fixed = respell(value);
        return fail(issue(path, `expected ${expected}, found ${describeValue(value)}`, write(path, fixed && parseDuration(fixed) !== undefined ? fixed : options.example)));
      }
      if ((min !== undefined && ms < min) || (max !== undefined && ms > max)) {
        return fail(issue(path, `expected a duration from ${range}, found ${inlineYaml(value)}`, write(path, formatDuration(clamp(ms, min, max)))));
      }
      return ok(ms);
    },
    schema: () => ({ type: 'string', pattern: DURATION_PATTERN }),
  }) as Node<Presence<number, O>>;
}

function mustParse(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new Error(`schema bug: "${text}" is not a duration`);
  return ms;
}

// ------------------------------------------------------------------------------------------------ size

export interface SizeOptions extends Common<string> {
  /** Smallest allowed, as written in berth.yaml: `6mb`. */
  min?: string;
  max?: string;
}

/** An amount of memory such as `256mb`, resolved to bytes; see ./size.ts for the units. */
export function size<const O extends SizeOptions>(options: O): Node<Presence<number, O>> {
  const min = options.min === undefined ? undefined : mustParseSize(options.min);
  const max = options.max === undefined ? undefined : mustParseSize(options.max);
  const range = rangeWords(options.min, options.max);
  const expected = 'a size such as `256mb`, `1.5gb` or `512k`';
  const outOfRange = (bytes: number) => (min !== undefined && bytes < min) || (max !== undefined && bytes > max);
  return defineNode({
    kind: 'size',
    common: options,
    type: 'size',
    allowed: range,
    check(value, path): Result<number> {
      if (typeof value === 'number') {
        // A bare number: a large one is probably bytes, a small one megabytes.
        const guess = Number.isInteger(value) && value >= 1024 ** 2 ? formatSize(value) : `${value}mb`;
        const guessed = parseSize(guess);
        const fix = guessed !== undefined && !outOfRange(guessed) ? `add a unit: ${snippet(path, guess)}` : write(path, options.example);
        return fail(issue(path, `expected ${expected}, found the number ${value} with no unit`, fix));
      }
      if (typeof value !== 'string') return fail(issue(path, `expected ${expected}, found ${describeValue(value)}`, write(path, options.example)));
      const bytes = parseSize(value);
      if (bytes === undefined) {
        const loose = readLoosely(value);
        if (loose && outOfRange(loose.bytes)) return fail(rangeIssue(path, value, loose.bytes));
        return fail(issue(path, `expected ${expected}, found ${describeValue(value)}`, write(path, loose?.spelling ?? options.example)));
      }
      if (outOfRange(bytes)) return fail(rangeIssue(path, value, bytes));
      return ok(bytes);
    },
    schema: () => ({ type: 'string', pattern: SIZE_PATTERN }),
  }) as Node<Presence<number, O>>;

  function rangeIssue(path: string, value: string, bytes: number) {
    return issue(path, `expected a size from ${range}, found ${inlineYaml(value)}`, write(path, formatSize(clamp(bytes, min, max))));
  }
}

function mustParseSize(text: string): number {
  const bytes = parseSize(text);
  if (bytes === undefined) throw new Error(`schema bug: "${text}" is not a size`);
  return bytes;
}
