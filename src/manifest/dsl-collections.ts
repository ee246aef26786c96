/** Collection node kinds: array, record (a map of pattern-named keys) and shorthand (text or a mapping). */
import { defineNode, fail, issue, ok, write, type AnyNode, type Common, type Infer, type Issue, type Node, type Presence, type Result } from './dsl-node.ts';
import { joinIndex, joinKey } from './path.ts';
import { recordOf } from '../lib/record.ts';
import { article, describeValue, inlineYaml, isPlainObject } from './show.ts';
import { closest } from './suggest.ts';

/** `hostname` -> `hostnames`, `command or mapping` -> `commands or mappings`. */
const plural = (noun: string): string => noun.split(' or ').map((n) => (n.endsWith('s') ? n : `${n}s`)).join(' or ');

// ----------------------------------------------------------------------------------------------- array

export interface ArrayOptions extends Common<readonly unknown[]> {
  items: AnyNode;
  minItems?: number;
  maxItems?: number;
  /** Two items that resolve to the same value are an issue. */
  unique?: boolean;
}

export function array<const O extends ArrayOptions>(options: O): Node<Presence<readonly Infer<O['items']>[], O>> {
  const { items, minItems, maxItems, unique } = options;
  const itemWords = items.allowed ? `each ${items.allowed}` : undefined;
  const countWords =
    minItems !== undefined && maxItems !== undefined ? `${minItems} to ${maxItems} items`
    : maxItems !== undefined ? `at most ${maxItems} items`
    : minItems !== undefined ? `at least ${minItems} items`
    : undefined;
  const allowed = [itemWords, countWords, unique ? 'no duplicates' : undefined].filter(Boolean).join('; ') || undefined;
  return defineNode({
    kind: 'array',
    common: options,
    type: `list of ${plural(items.type)}`,
    allowed,
    shape: { kind: 'array', items },
    nullable: true,
    check(value, path, context): Result<readonly unknown[]> {
      if (!Array.isArray(value)) {
        // One item where a list goes (`domains: example.com`) is the usual slip: offer that item as a list.
        const single = items.validate(value, joinIndex(path, 0), context);
        const fix = single.issues.length === 0 ? write(path, [value]) : write(path, options.example);
        return fail(issue(path, `expected a list (\`- item\` lines or \`[a, b]\`), found ${describeValue(value)}`, fix));
      }
      const issues: Issue[] = [];
      if (minItems !== undefined && value.length < minItems) {
        issues.push(issue(path, `has ${value.length} items; at least ${minItems} needed`, write(path, options.example)));
      }
      if (maxItems !== undefined && value.length > maxItems) {
        issues.push(issue(path, `has ${value.length} items; at most ${maxItems} allowed`, `remove ${value.length - maxItems} of them`));
      }
      const out: unknown[] = [];
      const seen = new Map<string, number>();
      value.forEach((item, index) => {
        const at = joinIndex(path, index);
        const result = items.validate(item, at, context);
        issues.push(...result.issues);
        out.push(result.value);
        if (!unique || result.issues.length > 0) return;
        const identity = JSON.stringify(result.value);
        const first = seen.get(identity);
        if (first === undefined) seen.set(identity, index);
        else issues.push(issue(at, `\`${inlineYaml(item)}\` is listed twice (also at ${joinIndex(path, first)})`, 'remove this entry'));
      });
      return issues.length > 0 ? fail(...issues) : ok(Object.freeze(out));
    },
    schema: () => ({
      type: 'array',
      items: items.jsonSchema(),
      ...(minItems !== undefined ? { minItems } : {}),
      ...(maxItems !== undefined ? { maxItems } : {}),
      ...(unique ? { uniqueItems: true } : {}),
    }),
  }) as Node<Presence<readonly Infer<O['items']>[], O>>;
}

// ---------------------------------------------------------------------------------------------- record

export interface RecordKeys {
  /** What a key names, for messages: `process name`, `variable name`. */
  name: string;
  /** Stands for any key in documented paths: `<name>`. */
  placeholder: string;
  pattern: RegExp;
  /** The pattern in words. */
  hint: string;
  /** A corrected key to offer (`MY-VAR` -> `MY_VAR`); ignored unless it is valid. */
  suggest?: (bad: string) => string | undefined;
  reserved?: {
    names: readonly string[];
    prefixes: readonly string[];
    message: (key: string) => string;
    fix: (key: string) => string;
  };
}

export interface RecordOptions extends Common<Readonly<Record<string, unknown>>> {
  keys: RecordKeys;
  /** The node for every key without a node of its own in `known`. */
  value: AnyNode;
  /** Keys with their own node (a key of `known` must still match the key pattern). */
  known?: Readonly<Record<string, AnyNode>>;
  minEntries?: number;
  maxEntries?: number;
}

type RecordOut<O extends RecordOptions> = Readonly<Record<string, Infer<O['value']> | InferKnown<O['known']>>>;
type InferKnown<K> = K extends Readonly<Record<string, infer N>> ? Infer<N> : never;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function record<const O extends RecordOptions>(options: O): Node<Presence<RecordOut<O>, O>> {
  const { keys, value: valueNode, minEntries, maxEntries } = options;
  const known: Readonly<Record<string, AnyNode>> = options.known ?? {};
  // Keys are the user's: a Map, so `constructor` finds no node of Object.prototype's.
  const knownNodes = new Map(Object.entries(known));
  const reserved = keys.reserved;
  const reservedWords = reserved
    ? `${[...reserved.names, ...reserved.prefixes.map((p) => `${p}*`)].map((n) => `\`${n}\``).join(' and ')} are reserved`
    : undefined;
  const allowed = [`${plural(keys.name)}: ${keys.hint}`, reservedWords].filter(Boolean).join('; ');
  const exampleKey = Object.keys(options.example)[0] ?? keys.placeholder;

  const isReserved = (key: string) => !!reserved && (reserved.names.includes(key) || reserved.prefixes.some((p) => key.startsWith(p)));
  const keyIssue = (key: string, at: string): Issue | undefined => {
    if (!keys.pattern.test(key)) {
      const suggestion = keys.suggest?.(key);
      const fix = suggestion !== undefined && keys.pattern.test(suggestion) && !isReserved(suggestion) ? `rename it to \`${suggestion}\`` : `rename it, for example to \`${exampleKey}\``;
      return issue(at, `\`${key}\` is not a valid ${keys.name}: expected ${keys.hint}`, fix);
    }
    if (reserved && isReserved(key)) return issue(at, reserved.message(key), reserved.fix(key));
    return undefined;
  };

  return defineNode({
    kind: 'record',
    common: options,
    type: `mapping of ${plural(keys.name)} to ${plural(valueNode.type)}`,
    allowed,
    shape: { kind: 'record', keyName: keys.name, placeholder: keys.placeholder, keyHint: keys.hint, value: valueNode, known },
    nullable: true,
    check(value, path, context): Result<RecordOut<O>> {
      if (!isPlainObject(value)) {
        return fail(issue(path, `expected a mapping of ${plural(keys.name)} to ${plural(valueNode.type)}, found ${describeValue(value)}`, write(path, options.example)));
      }
      const entries = Object.entries(value);
      const issues: Issue[] = [];
      if (minEntries !== undefined && entries.length < minEntries) {
        issues.push(issue(path, `has ${entries.length === 0 ? 'no entries' : `${entries.length} entries`}; at least ${minEntries} needed`, write(path, options.example)));
      }
      if (maxEntries !== undefined && entries.length > maxEntries) {
        issues.push(issue(path, `has ${entries.length} entries; at most ${maxEntries} allowed`, `remove ${entries.length - maxEntries} of them`));
      }
      const out: [string, unknown][] = [];
      for (const [key, entry] of entries) {
        const at = joinKey(path, key);
        const problem = keyIssue(key, at);
        if (problem) issues.push(problem);
        const result = (knownNodes.get(key) ?? valueNode).validate(entry, at, context);
        issues.push(...nearKnown(key, [...knownNodes.keys()], result.issues));
        out.push([key, result.value]);
      }
      return issues.length > 0 ? fail(...issues) : ok(Object.freeze(recordOf(out)) as RecordOut<O>);
    },
    schema: () => ({
      type: 'object',
      propertyNames: {
        pattern: keys.pattern.source,
        ...(reserved ? { not: { anyOf: [{ enum: [...reserved.names] }, ...reserved.prefixes.map((p) => ({ pattern: `^${escapeRegExp(p)}` }))] } } : {}),
      },
      ...(Object.keys(known).length > 0 ? { properties: Object.fromEntries(Object.entries(known).map(([k, n]) => [k, n.jsonSchema()])) } : {}),
      additionalProperties: valueNode.jsonSchema(),
      ...(minEntries !== undefined ? { minProperties: minEntries } : {}),
      ...(maxEntries !== undefined ? { maxProperties: maxEntries } : {}),
    }),
  }) as Node<Presence<RecordOut<O>, O>>;
}

/** An entry that fails under a key close to a specific one (`wbe:` for `web:`) is probably that key misspelt. */
function nearKnown(key: string, knownKeys: readonly string[], issues: Issue[]): Issue[] {
  if (issues.length === 0 || knownKeys.includes(key)) return issues;
  const meant = closest(key, knownKeys);
  if (meant === undefined) return issues;
  const [first, ...rest] = issues;
  return [{ ...first, message: `${first.message} (is \`${key}\` a misspelling of \`${meant}\`?)` }, ...rest];
}

// ------------------------------------------------------------------------------------------- shorthand

export interface ShorthandOptions extends Common<unknown> {
  /** The object's key that a plain string stands for: `command`. */
  key: string;
  /** An object node (s.object) with a field named `key`. */
  object: AnyNode;
}

/** A value that is either a mapping or, for the common case, just a string for one key: `web: node server.js`. */
export function shorthand<const O extends ShorthandOptions>(options: O): Node<Presence<Infer<O['object']>, O>> {
  const { key, object } = options;
  const shape = object.shape;
  const field = shape.kind === 'object' ? shape.fields.find((f) => f.key === key) : undefined;
  if (!field) throw new Error(`schema bug: shorthand key "${key}" is not a field of its object`);
  return defineNode({
    kind: 'shorthand',
    common: options,
    type: `${field.node.type} or mapping`,
    shape: { kind: 'shorthand', key, object },
    nullable: true,
    check(value, path, context): Result<unknown> {
      if (typeof value === 'string') {
        // Checked where it was written: `processes.web`, not `processes.web.command`.
        const text = field.node.validate(value, path, context);
        if (text.issues.length > 0) return text;
        return object.validate({ [key]: value }, path, context);
      }
      if (isPlainObject(value)) return object.validate(value, path, context);
      // A bare number for a short form with a unit (`update: 5`): its own advice, "add a unit", says more.
      if (typeof value === 'number' && (field.node.kind === 'duration' || field.node.kind === 'size')) return field.node.validate(value, path, context);
      return fail(issue(path, `expected ${article(field.node.type)} or a mapping with \`${key}:\`, found ${describeValue(value)}`, write(path, options.example)));
    },
    // The mapping branch is not nullable on its own: whether `key:` alone is allowed is this node's call.
    schema: () => ({ anyOf: [field.node.jsonSchema(), { ...object.jsonSchema(), type: 'object' }] }),
  }) as Node<Presence<Infer<O['object']>, O>>;
}
