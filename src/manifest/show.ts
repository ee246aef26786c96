/**
 * How values appear inside messages: what was found ("the string "5 sec""), and what to write instead
 * as a one-line YAML snippet (`interval: 5s`). Found values are truncated so a pasted blob cannot flood
 * the terminal.
 */
import { stringify } from 'yaml';
import { lastSegment } from './path.ts';

const MAX_SHOWN = 40;

function truncate(text: string): string {
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}

export function quote(text: string): string {
  return JSON.stringify(truncate(text));
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `an integer`, `a duration`: a type's name after "expected". */
export function article(noun: string): string {
  return /^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`;
}

/** What was found, in words: `the string "abc"`, `the number 5`, `a list of 2 items`. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return 'nothing (an empty value)';
  if (typeof value === 'string') return value === '' ? 'an empty string' : `the string ${quote(value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (value instanceof Uint8Array) return 'binary data';
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return 'an empty mapping';
    return `a mapping with ${keys.length === 1 ? 'key' : 'keys'} ${truncate(keys.join(', '))}`;
  }
  return `a value of type ${typeof value}`;
}

/** A value as one line of YAML: `5s`, `"*.example.com"`, `{ path: /health }`, `[ example.com ]`. */
export function inlineYaml(value: unknown): string {
  if (typeof value === 'string' && /[\n\r]/.test(value)) return JSON.stringify(value);
  return stringify(value, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
}

/**
 * What to write at `path`, as a backquoted snippet: `replicas: 2` for a key, `- example.com` for a list
 * item, the bare value at the top level.
 */
export function snippet(path: string, value: unknown): string {
  const last = lastSegment(path);
  if (last === undefined) return `\`${inlineYaml(value)}\``;
  if (typeof last === 'number') return `\`- ${inlineYaml(value)}\``;
  return `\`${inlineYaml(last)}: ${inlineYaml(value)}\``;
}
