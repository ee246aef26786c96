/** The object node: known keys, each optional, defaulted or required; unknown keys are issues with a "did you mean". */
import type { AnyNode, Common, Field, Infer, Issue, Node, Result, Rule, ValidateContext } from './schema-dsl.ts';
import { defineNode, fail, issue, ok, write } from './dsl-node.ts';
import { joinKey } from './path.ts';
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

export interface ObjectRule<Out> extends Rule {
  /**
   * Returns the problem, naming the key of this object it is reported at, or undefined. Runs only when
   * every field is valid, so it sees complete values.
   */
  readonly check: (value: Out) => { key: string; message: string; fix: string } | undefined;
}

export interface ObjectOptions<F extends Fields> extends Omit<Common<Readonly<Record<string, unknown>>>, 'example' | 'default' | 'optional'> {
  fields: F;
  /** Default: the fields' examples. */
  example?: Readonly<Record<string, unknown>>;
  rules?: readonly ObjectRule<ObjectOut<F>>[];
  /** Names other tools use, or common slips, mapped to the key meant: `{ environment: 'env' }`. */
  aliases?: Readonly<Record<string, string>>;
}

export function object<const F extends Fields>(options: ObjectOptions<F>): Node<ObjectOut<F>> {
  const fields: Field[] = Object.entries(options.fields).map(([key, spec]) =>
    'kind' in spec ? { key, as: key, node: spec } : { key, as: spec.as, node: spec.node },
  );
  const byKey = new Map(fields.map((f) => [f.key, f]));
  const rules = options.rules ?? [];
  const example = options.example ?? Object.fromEntries(fields.map((f) => [f.key, f.node.example]));
  // An unset object is one with every key unset; its default spells out the fields' defaults for editors.
  const defaults = Object.fromEntries(fields.filter((f) => f.node.default !== undefined).map((f) => [f.key, f.node.default]));

  return defineNode({
    kind: 'object',
    common: { ...options, example, default: defaults },
    type: 'mapping',
    shape: { kind: 'object', fields, rules },
    nullable: true,
    check(value, path, context): Result<ObjectOut<F>> {
      if (!isPlainObject(value)) {
        const message = path === '' ? `expected keys at the top level, such as \`${fields[0].key}:\`; found ${describeValue(value)}` : `expected a mapping (indented \`key: value\` lines), found ${describeValue(value)}`;
        return fail(issue(path, message, mappingFix(path, example)));
      }
      const issues: Issue[] = [];
      const renames = new Set<string>();
      for (const key of Object.keys(value)) {
        if (byKey.has(key)) continue;
        const unknown = unknownKey({ key, path, fields, aliases: options.aliases ?? {}, context });
        issues.push(unknown.issue);
        if (unknown.meant) renames.add(unknown.meant);
      }
      const fieldIssues: Issue[] = [];
      const out: Record<string, unknown> = {};
      let complete = true;
      for (const field of fields) {
        // `cmd:` already got "did you mean `command`?"; "`command` is required" would say it twice.
        if (value[field.key] === undefined && renames.has(field.key)) {
          complete = false;
          continue;
        }
        const result = field.node.validate(value[field.key], joinKey(path, field.key), context);
        fieldIssues.push(...result.issues);
        out[field.as] = result.value;
      }
      issues.push(...fieldIssues);
      if (complete && fieldIssues.length === 0) {
        for (const rule of rules) {
          const problem = rule.check(out as ObjectOut<F>);
          if (problem) issues.push(issue(joinKey(path, problem.key), problem.message, problem.fix));
        }
      }
      return issues.length > 0 ? fail(...issues) : ok(Object.freeze(out) as ObjectOut<F>);
    },
    schema: () => ({
      type: 'object',
      properties: Object.fromEntries(fields.map((f) => [f.key, f.node.jsonSchema()])),
      ...(fields.some((f) => isRequired(f.node)) ? { required: fields.filter((f) => isRequired(f.node)).map((f) => f.key) } : {}),
      additionalProperties: false,
    }),
  });
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
  const meant = aliases[key] ?? aliases[key.toLowerCase()] ?? closest(key, keys);
  if (meant !== undefined) return { issue: issue(at, `${where} \`${key}\`; did you mean \`${meant}\`?`, `rename \`${key}\` to \`${meant}\``), meant };
  const places = context.root ? placesOf(context.root, key) : [];
  if (places.length > 0) {
    const list = places.map((p) => `\`${p}\``).join(' or ');
    return { issue: issue(at, `${where} \`${key}\`: \`${key}\` belongs at ${list}`, `move it to ${list}`) };
  }
  return { issue: issue(at, `${where} \`${key}\`; the keys allowed here are ${keys.map((k) => `\`${k}\``).join(', ')}`, `remove \`${key}\`, or rename it to one of the allowed keys`) };
}
