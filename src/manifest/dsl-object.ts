/** The object node: known keys, each optional, defaulted or required; unknown keys are issues with a "did you mean". */
import { defineNode, fail, issue, ok, write, type AnyNode, type Common, type Field, type Infer, type Issue, type JsonSchema, type Node, type Result, type Rule, type ValidateContext } from './dsl-node.ts';
import type { Segment } from './path.ts';
import { joinIndex, joinKey } from './path.ts';
import { describeValue, inlineYaml, isPlainObject } from './show.ts';
import { closest } from './suggest.ts';
import { placesOf } from './schema-walk.ts';

/** A field is a node, or a node whose resolved property is renamed: `{ as: 'intervalMs', node }`. */
export type FieldSpec = AnyNode | { readonly as: string; readonly node: AnyNode };
export type Fields = { readonly [key: string]: FieldSpec };

type FieldNode<F> = F extends { readonly node: infer N } ? N : F;
type OutKey<K extends string, F> = F extends { readonly as: infer A extends string } ? A : K;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The resolved object: renamed properties, every value resolved, all readonly. */
export type ObjectOut<F extends Fields> = Simplify<{
  readonly [K in keyof F & string as OutKey<K, F[K]>]: Infer<FieldNode<F[K]>>;
}>;

/** Where a rule reports: a key of this object, a path of keys and indexes below it, or '' for the object itself. */
export type RuleKey = string | readonly Segment[];

export interface RuleProblem {
  readonly key: RuleKey;
  readonly message: string;
  readonly fix: string;
}

export interface ObjectRule<Out> extends Rule {
  /**
   * Returns the problems, each naming where it is reported, or undefined. Runs only when every field is
   * valid, on the resolved value (after `resolve`), so it sees complete values; `written` is the mapping as
   * written, for rules about whether a key was given at all.
   */
  readonly check: (value: Out, written: Readonly<Record<string, unknown>>) => RuleProblem | readonly RuleProblem[] | undefined;
}

/** A key that belongs elsewhere in the schema and is refused here with its own explanation. */
export interface Misplaced {
  readonly message: string;
  readonly fix: string;
}

export interface ObjectOptions<F extends Fields, R> extends Omit<Common<Readonly<Record<string, unknown>>>, 'example' | 'default' | 'optional'> {
  fields: F;
  /** Default: the fields' examples. */
  example?: Readonly<Record<string, unknown>>;
  /**
   * Unset resolves to undefined instead of every field's default: for sections whose presence means
   * something (a `release` command, a process `health` check).
   */
  optional?: boolean;
  /**
   * Turns the resolved fields into the resolved value, for values that depend on one another (a default
   * that follows another key, settings merged from elsewhere). Its result is deep-frozen.
   */
  resolve?: (value: ObjectOut<F>) => R;
  rules?: readonly ObjectRule<R>[];
  /** Names other tools use, or common slips, mapped to the key meant: `{ environment: 'env' }`. */
  aliases?: Readonly<Record<string, string>>;
  /** Keys that exist elsewhere but not here, with why: `{ health: { message, fix } }`. */
  misplaced?: Readonly<Record<string, Misplaced>>;
  /** More JSON Schema keywords, for constraints between keys that editors can check: `oneOf`. */
  schema?: JsonSchema;
}

export function object<const F extends Fields, R = ObjectOut<F>, const Opt extends boolean = false>(
  options: ObjectOptions<F, R> & { optional?: Opt },
  // NoInfer: where a node is expected (a shorthand's `object`), that context must not decide R over `resolve` or the default.
): Node<NoInfer<Opt extends true ? R | undefined : R>> {
  const fields: Field[] = Object.entries(options.fields).map(([key, spec]) =>
    'kind' in spec ? { key, as: key, node: spec } : { key, as: spec.as, node: spec.node },
  );
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const rules = options.rules ?? [];
  const misplaced = options.misplaced ?? {};
  const example = options.example ?? Object.fromEntries(fields.map((f) => [f.key, f.node.example]));
  // An unset object is one with every key unset; its default spells out the fields' defaults for editors.
  const defaults = Object.fromEntries(fields.filter((f) => f.node.default !== undefined).map((f) => [f.key, f.node.default]));

  return defineNode({
    kind: 'object',
    common: { ...options, example, default: options.optional ? undefined : defaults },
    type: 'mapping',
    shape: { kind: 'object', fields, rules },
    nullable: true,
    check(value, path, context): Result<R> {
      if (!isPlainObject(value)) {
        const message = path === '' ? `expected keys at the top level, such as \`${fields[0].key}:\`; found ${describeValue(value)}` : `expected a mapping (indented \`key: value\` lines), found ${describeValue(value)}`;
        return fail(issue(path, message, mappingFix(path, example)));
      }
      const issues: Issue[] = [];
      const renames = new Set<string>();
      for (const key of Object.keys(value)) {
        if (byKey.has(key)) continue;
        if (Object.hasOwn(misplaced, key)) {
          issues.push(issue(joinKey(path, key), misplaced[key].message, misplaced[key].fix));
          continue;
        }
        const unknown = unknownKey({ key, path, fields, aliases: options.aliases ?? {}, context });
        issues.push(unknown.issue);
        if (unknown.meant) renames.add(unknown.meant);
      }
      const fieldIssues: Issue[] = [];
      const out: Record<string, unknown> = {};
      let complete = true;
      for (const field of fields) {
        // `cmd:` already got "did you mean \`command\`?"; "\`command\` is required" would say it twice.
        if (value[field.key] === undefined && renames.has(field.key)) {
          complete = false;
          continue;
        }
        const result = field.node.validate(value[field.key], joinKey(path, field.key), context);
        fieldIssues.push(...result.issues);
        out[field.as] = result.value;
      }
      issues.push(...fieldIssues);
      if (!complete || fieldIssues.length > 0) return fail(...issues);
      const resolved = (options.resolve ? deepFreeze(options.resolve(Object.freeze(out) as ObjectOut<F>)) : Object.freeze(out)) as R;
      for (const rule of rules) {
        const found = rule.check(resolved, value);
        const problems: readonly RuleProblem[] = found === undefined ? [] : isProblemList(found) ? found : [found];
        for (const problem of problems) issues.push(issue(ruleAt(path, problem.key), problem.message, problem.fix));
      }
      return issues.length > 0 ? fail(...issues) : ok(resolved);
    },
    schema: () => ({
      type: 'object',
      properties: Object.fromEntries(fields.map((f) => [f.key, f.node.jsonSchema()])),
      ...(fields.some((f) => isRequired(f.node)) ? { required: fields.filter((f) => isRequired(f.node)).map((f) => f.key) } : {}),
      additionalProperties: false,
      ...options.schema,
    }),
  }) as Node<Opt extends true ? R | undefined : R>;
}

const isProblemList = (found: RuleProblem | readonly RuleProblem[]): found is readonly RuleProblem[] => Array.isArray(found);

function ruleAt(path: string, key: RuleKey): string {
  const segments = typeof key === 'string' ? (key === '' ? [] : [key]) : key;
  return segments.reduce<string>((at, segment) => (typeof segment === 'number' ? joinIndex(at, segment) : joinKey(at, segment)), path);
}

/** Freezes objects and arrays all the way down; resolved values are trees of plain data. */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}

const isRequired = (node: AnyNode) => !node.optional && node.default === undefined;

/** A mapping to write instead: the first two keys of the example, so the fix stays one short line. */
function mappingFix(path: string, example: Readonly<Record<string, unknown>>): string {
  const entries = Object.entries(example).slice(0, 2);
  if (path === '') return `write one key per line, such as ${entries.map(([k, v]) => `\`${k}: ${inlineYaml(v)}\``).join(' and ')}`;
  return write(path, Object.fromEntries(entries));
}

function unknownKey(input: { key: string; path: string; fields: readonly Field[]; aliases: Readonly<Record<string, string>>; context: ValidateContext }): { issue: Issue; meant?: string } {
  const { key, path, fields, aliases, context } = input;
  const at = joinKey(path, key);
  const where = path === '' ? 'unknown top-level key' : 'unknown key';
  const keys = fields.map((f) => f.key);
  // The key is the user's: only the aliases' own keys count (`constructor` is not one).
  const alias = (name: string) => (Object.hasOwn(aliases, name) ? aliases[name] : undefined);
  const meant = alias(key) ?? alias(key.toLowerCase()) ?? closest(key, keys);
  if (meant !== undefined) return { issue: issue(at, `${where} \`${key}\`; did you mean \`${meant}\`?`, `rename \`${key}\` to \`${meant}\``), meant };
  const places = context.root ? placesOf(context.root, key) : [];
  if (places.length > 0) {
    const list = places.map((p) => `\`${p}\``).join(' or ');
    return { issue: issue(at, `${where} \`${key}\`: \`${key}\` belongs at ${list}`, `move it to ${list}`) };
  }
  return { issue: issue(at, `${where} \`${key}\`; the keys allowed here are ${keys.map((k) => `\`${k}\``).join(', ')}`, `remove \`${key}\`, or rename it to one of the allowed keys`) };
}
