/** Scalar node kinds: string, int, boolean, enum (`oneOf`) and duration. */
import type { Common, Node, Presence, Result } from './schema-dsl.ts';
import { defineNode, fail, issue, ok, write } from './dsl-node.ts';
import { describeValue, inlineYaml, quote, snippet } from './show.ts';
import { closest } from './suggest.ts';
import { formatDuration, parseDuration } from '../lib/duration.ts';

export function article(noun: string): string {
  return /^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`;
}

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
      if (message === undefined) return ok(text);
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
