import { fail, type Issue } from '../errors/catalogue.ts';
import { closest, looseKey } from '../manifest/suggest.ts';
import type { BodyField, FieldSpec, Input, ListField, MapField, NumberField, QueryField, StringField } from './input-spec.ts';

/** Issues listed in one answer: enough to fix a request, never a multi-megabyte error. */
const MAX_ISSUES = 20;
/** How much of a user's key or query value an issue quotes. */
const QUOTE_LENGTH = 40;

/**
 * Checks a parsed JSON body against a spec. Unknown fields, wrong types and values out of bounds are
 * refused together in one REQUEST_INVALID, each issue naming its path and the fix. The result is a
 * null-prototype object; objects keyed by the user's names are Maps, so `__proto__` or `toString` are
 * plain keys and nothing inherited is ever read.
 */
export function checkBody<S extends Readonly<Record<string, BodyField>>>(spec: S, body: unknown): Input<S> {
  const issues = new Issues();
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    issues.add({ path: '(body)', message: `must be a JSON object, not ${describeValue(body)}`, fix: exampleBody(spec) });
    issues.throwIfAny();
  }
  const given = body as Record<string, unknown>;
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(spec, key)) issues.add(unknownField(key, Object.keys(spec), 'field'));
  }
  for (const [name, field] of Object.entries(spec)) {
    const value = Object.hasOwn(given, name) ? given[name] : undefined;
    if (value === undefined) {
      if (field.required) issues.add({ path: name, message: 'is required', fix: `${JSON.stringify(name)}: ${JSON.stringify(field.example)}` });
      continue;
    }
    const checked = checkValue(field, value, name, issues);
    if (checked !== undefined) out[name] = checked;
  }
  issues.throwIfAny();
  return out as Input<S>;
}

/** A body for an endpoint that takes none: empty, or an empty object (a client sending `{}` anyway). */
export function checkNoBody(body: unknown): void {
  checkBody({}, body);
}

/**
 * Checks a query string against a spec: unknown or repeated parameters, non-numbers, numbers out of
 * range and switches other than 1 or 0 are refused, never clamped or ignored. Defaults fill in.
 */
export function checkQuery<S extends Readonly<Record<string, QueryField>>>(spec: S | undefined, params: URLSearchParams): Input<S> {
  const fields: Readonly<Record<string, QueryField>> = spec ?? {};
  const issues = new Issues();
  const out = Object.create(null) as Record<string, unknown>;
  const seen = new Set<string>();
  for (const [name, text] of params) {
    if (!Object.hasOwn(fields, name)) {
      issues.add(unknownField(name, Object.keys(fields), 'query parameter'));
      continue;
    }
    if (seen.has(name)) {
      issues.add({ path: pathOf('', name), message: 'is given more than once', fix: `give ${name} once` });
      continue;
    }
    seen.add(name);
    const checked = queryValue(fields[name], name, text, issues);
    if (checked !== undefined) out[name] = checked;
  }
  for (const [name, field] of Object.entries(fields)) {
    if (seen.has(name)) continue;
    if (field.type === 'flag') out[name] = false;
    else if ('default' in field && field.default !== undefined) out[name] = field.default;
    else if (field.required) issues.add({ path: name, message: 'is required', fix: `${name}=${field.example}` });
  }
  issues.throwIfAny();
  return out as Input<S>;
}

/** A value for a message: its type, or the number or boolean itself. Strings are never quoted: they may be secrets. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return `the number ${String(value)}`;
    case 'boolean':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

class Issues {
  readonly #list: Issue[] = [];
  #dropped = 0;

  add(issue: Issue): void {
    if (this.#list.length < MAX_ISSUES) this.#list.push(issue);
    else this.#dropped++;
  }

  get count(): number {
    return this.#list.length + this.#dropped;
  }

  throwIfAny(): void {
    if (this.#list.length === 0) return;
    const issues = this.#dropped ? [...this.#list, { path: '(more)', message: `${this.#dropped} more problems not listed`, fix: 'fix the ones above first' }] : this.#list;
    throw fail('REQUEST_INVALID', { issues });
  }
}

function unknownField(name: string, known: string[], what: 'field' | 'query parameter'): Issue {
  const guess = name.length <= 64 ? (closest(name, known) ?? completion(name, known)) : undefined;
  const fix = guess !== undefined ? `did you mean ${JSON.stringify(guess)}?` : known.length ? `the ${what}s of this endpoint: ${known.join(', ')}` : `this endpoint takes no ${what}s`;
  return { path: pathOf('', name), message: `is not a ${what} of this endpoint`, fix };
}

/** `timeout` for `timeoutSeconds`: a known name the word begins, when only one does. */
function completion(name: string, known: string[]): string | undefined {
  const start = looseKey(name);
  const matches = start.length >= 4 ? known.filter((candidate) => looseKey(candidate).startsWith(start)) : [];
  return matches.length === 1 ? matches[0] : undefined;
}

function checkValue(field: BodyField, value: unknown, path: string, issues: Issues): unknown {
  switch (field.type) {
    case 'string':
    case 'integer':
    case 'number':
      return checkScalar(field, value, path, issues);
    case 'boolean':
      if (typeof value === 'boolean') return value;
      issues.add({ path, message: `must be true or false, not ${describeValue(value)}`, fix: `${JSON.stringify(lastKey(path))}: ${field.example}` });
      return undefined;
    case 'list':
      return checkList(field, value, path, issues);
    case 'map':
      return checkMap(field, value, path, issues);
  }
}

function checkScalar(field: StringField | NumberField, value: unknown, path: string, issues: Issues): string | number | undefined {
  const before = issues.count;
  if (field.type === 'string') {
    if (typeof value !== 'string') {
      // A number or boolean was meant as text: show it quoted. Anything else gets the example.
      const meant = typeof value === 'number' || typeof value === 'boolean' ? String(value) : field.example;
      issues.add({ path, message: `must be a string, not ${describeValue(value)}`, fix: `${JSON.stringify(lastKey(path))}: ${JSON.stringify(meant)}` });
    } else checkText(field, value, path, issues);
  } else if (typeof value !== 'number' || !Number.isFinite(value) || (field.type === 'integer' && !Number.isInteger(value))) {
    issues.add({ path, message: `must be ${numberKind(field)}, not ${describeValue(value)}`, fix: `${JSON.stringify(lastKey(path))}: ${field.example}` });
  } else if (value < field.min || value > field.max) {
    issues.add({ path, message: `must be ${numberKind(field)}, not ${value}`, fix: `${JSON.stringify(lastKey(path))}: ${field.example}` });
  }
  return issues.count === before ? (value as string | number) : undefined;
}

function checkText(field: StringField, value: string, path: string, issues: Issues): void {
  if (value.length > field.maxLength) issues.add({ path, message: `is longer than ${field.maxLength} characters`, fix: 'shorten it' });
  else if (value.length < (field.minLength ?? 0)) issues.add({ path, message: field.minLength === 1 ? 'must not be empty' : `must be at least ${field.minLength} characters`, fix: `for example ${JSON.stringify(field.example)}` });
  else if (field.pattern !== undefined && !new RegExp(field.pattern, 'u').test(value)) {
    issues.add({ path, message: field.patternMessage ?? `must match ${field.pattern}`, fix: `for example ${JSON.stringify(field.example)}` });
  }
}

function numberKind(field: NumberField): string {
  return `${field.type === 'integer' ? 'a whole number' : 'a number'} from ${field.min} to ${field.max}`;
}

function checkList(field: ListField, value: unknown, path: string, issues: Issues): unknown[] | undefined {
  if (!Array.isArray(value)) {
    issues.add({ path, message: `must be a list, not ${describeValue(value)}`, fix: `${JSON.stringify(lastKey(path))}: ${JSON.stringify(field.example)}` });
    return undefined;
  }
  if (value.length > field.maxItems) {
    issues.add({ path, message: `has ${value.length} entries, more than the ${field.maxItems} allowed`, fix: 'send fewer in one request' });
    return undefined;
  }
  const before = issues.count;
  const out = value.map((item, i) => checkScalar(field.items, item, `${path}[${i}]`, issues));
  return issues.count === before ? out : undefined;
}

function checkMap(field: MapField, value: unknown, path: string, issues: Issues): Map<string, unknown> | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    issues.add({ path, message: `must be an object of name: value, not ${describeValue(value)}`, fix: `${JSON.stringify(lastKey(path))}: ${JSON.stringify(field.example)}` });
    return undefined;
  }
  // JSON.parse makes every key, `__proto__` included, an own property: Object.entries sees them all.
  const entries = Object.entries(value);
  if (entries.length > field.maxEntries) {
    issues.add({ path, message: `has ${entries.length} entries, more than the ${field.maxEntries} allowed`, fix: 'send fewer in one request' });
    return undefined;
  }
  const before = issues.count;
  const out = new Map<string, unknown>();
  for (const [key, item] of entries) {
    const at = pathOf(path, key);
    if (key.length === 0 || key.length > field.keyMaxLength) {
      issues.add({ path: at, message: `names must be 1 to ${field.keyMaxLength} characters long`, fix: `for example ${JSON.stringify(Object.keys(field.example)[0])}` });
      continue;
    }
    const checked = checkScalar(field.values, item, at, issues);
    if (checked !== undefined) out.set(key, checked);
  }
  return issues.count === before ? out : undefined;
}

function queryValue(field: QueryField, name: string, text: string, issues: Issues): unknown {
  const path = pathOf('', name);
  const shown = quote(text);
  switch (field.type) {
    case 'flag':
      if (text === '1' || text === '0') return text === '1';
      issues.add({ path, message: `must be 1 or 0, not ${shown}`, fix: `${name}=1` });
      return undefined;
    case 'string': {
      const before = issues.count;
      checkText(field, text, path, issues);
      return issues.count === before ? text : undefined;
    }
    case 'integer':
    case 'number': {
      const numeric = field.type === 'integer' ? /^-?\d{1,16}$/ : /^-?\d{1,16}(\.\d{1,16})?$/;
      const value = numeric.test(text) ? Number(text) : NaN;
      if (Number.isNaN(value) || value < field.min || value > field.max) {
        issues.add({ path, message: `must be ${numberKind(field)}, not ${shown}`, fix: `${name}=${field.example}` });
        return undefined;
      }
      return value;
    }
  }
}

/** `set.API_KEY`, or `set["my key"]` for a key that is not a plain name; long keys are cut. */
export function pathOf(parent: string, key: string): string {
  const short = key.length > QUOTE_LENGTH ? `${key.slice(0, QUOTE_LENGTH)}…` : key;
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(short)) return parent ? `${parent}.${short}` : short;
  return `${parent}[${JSON.stringify(short)}]`;
}

function lastKey(path: string): string {
  const match = /(?:^|\.)([A-Za-z0-9_-]+)$/.exec(path);
  return match ? match[1] : path;
}

function quote(text: string): string {
  return JSON.stringify(text.length > QUOTE_LENGTH ? `${text.slice(0, QUOTE_LENGTH)}…` : text);
}

function exampleBody(spec: Readonly<Record<string, FieldSpec>>): string {
  const example = Object.fromEntries(Object.entries(spec).map(([name, field]) => [name, 'example' in field ? field.example : true]));
  return Object.keys(example).length ? JSON.stringify(example) : 'send no body, or {}';
}
