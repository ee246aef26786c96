/**
 * The base of the schema builder: the node types every kind shares, and `defineNode`, which gives a kind
 * unset handling, JSON Schema annotations and issue helpers. The builders (./dsl-scalars.ts,
 * ./dsl-object.ts, ./dsl-collections.ts) import only this module and the text helpers, never the face
 * ./schema-dsl.ts that hands them on as `s`, so builders and types import each other in no loop.
 */
import type { Issue } from '../errors/catalogue.ts';
import { lastSegment } from './path.ts';
import { snippet } from './show.ts';

export type { Issue };

export type Kind = 'string' | 'int' | 'number' | 'boolean' | 'enum' | 'duration' | 'size' | 'object' | 'array' | 'record' | 'shorthand';

export interface ValidateContext {
  /**
   * The text of the scalar at `path` exactly as written, when the input came from a file. YAML turns
   * `3.10` into the number 3.1; values that are kept as text (env values) take the written form instead.
   */
  readonly sourceText?: (path: string) => string | undefined;
  /** The whole schema, so an unknown key can be pointed to where it belongs ("`replicas` goes under processes.<name>"). */
  readonly root?: AnyNode;
}

/** `value` is meaningful only when `issues` is empty. */
export interface Result<T> {
  readonly value: T;
  readonly issues: Issue[];
}

export type JsonSchema = { [keyword: string]: unknown };

/** Options every node takes. `D` is the type of the value as written in berth.yaml. */
export interface Common<D = unknown> {
  /** One sentence: the reference, the JSON Schema description and `berth init` comments all use it. */
  doc: string;
  /** A valid value as written in berth.yaml; fixes and the reference show it. */
  example: D;
  /** The value, as written in berth.yaml, that an unset key takes. */
  default?: D;
  /** Unset resolves to undefined instead of being an issue. */
  optional?: boolean;
  /** What berth does when an optional key is unset, for the reference: `the package.json "build" script, if any`. */
  unset?: string;
  /** Why the key is required, added to the "missing" message. */
  required?: string;
  /** The fix for a missing key or a key with no value, when writing the example is not the best advice. */
  missingFix?: (path: string) => string;
  /** More than one sentence of explanation, for the reference only. */
  details?: string;
}

/** The resolved type of a node with these options: optional nodes may resolve to undefined. */
export type Presence<T, O> = O extends { optional: true } ? T | undefined : T;

export interface Field {
  /** The key in berth.yaml (`healthy_after`). */
  readonly key: string;
  /** The property in the resolved value (`healthyAfter`). */
  readonly as: string;
  readonly node: AnyNode;
}

export interface Rule {
  /** The rule in words, for the reference. */
  readonly doc: string;
}

/** What a node holds, for tools that walk the schema (reference, init file, "where does this key go"). */
export type Shape =
  | { readonly kind: 'scalar' }
  | { readonly kind: 'object'; readonly fields: readonly Field[]; readonly rules: readonly Rule[] }
  | { readonly kind: 'array'; readonly items: AnyNode }
  | {
      readonly kind: 'record';
      /** What one key names, in words: `process name`, `variable name`. */
      readonly keyName: string;
      /** Placeholder for the key in documented paths: `<name>`. */
      readonly placeholder: string;
      readonly keyHint: string;
      readonly value: AnyNode;
      readonly known: Readonly<Record<string, AnyNode>>;
    }
  | { readonly kind: 'shorthand'; readonly key: string; readonly object: AnyNode };

export interface Node<Out> {
  readonly kind: Kind;
  readonly doc: string;
  readonly example: unknown;
  /** Input form (`1s`, not 1000); undefined when there is none. */
  readonly default: unknown;
  readonly optional: boolean;
  readonly unset: string | undefined;
  readonly details: string | undefined;
  /** Why the key is required, when it is. */
  readonly required: string | undefined;
  /** Type in words for messages and the reference: `integer`, `duration`, `list of hostnames`. */
  readonly type: string;
  /** Allowed values in words (`1 to 20`, `one of: blue-green`); undefined when any value of the type is fine. */
  readonly allowed: string | undefined;
  readonly shape: Shape;
  /** Validates and resolves `value` found at `path` (`''` for the top level). Collects every issue. */
  validate(value: unknown, path?: string, context?: ValidateContext): Result<Out>;
  jsonSchema(): JsonSchema;
  /** Never set: carries the resolved type for `Infer`. */
  readonly __out?: Out;
}

export type AnyNode = Node<unknown>;

export type Infer<N> = N extends Node<infer Out> ? Out : never;

export interface NodeSpec<Out> {
  kind: Kind;
  common: Common;
  type: string;
  allowed?: string;
  shape?: Shape;
  /** Validates a value that is set (never undefined or null). */
  check: (value: unknown, path: string, context: ValidateContext) => Result<Out>;
  /** The kind's own keywords; description, default and examples are added here. */
  schema: () => JsonSchema;
  /** Whether the JSON Schema admits null (a section header with every line under it commented out). */
  nullable?: boolean;
}

export function defineNode<Out>(spec: NodeSpec<Out>): Node<Out> {
  const { common } = spec;
  const optional = common.optional === true;
  return Object.freeze({
    kind: spec.kind,
    doc: common.doc,
    example: common.example,
    default: common.default,
    optional,
    unset: common.unset,
    details: common.details,
    required: common.required,
    type: spec.type,
    allowed: spec.allowed,
    shape: spec.shape ?? { kind: 'scalar' },
    validate(value: unknown, path = '', context: ValidateContext = {}): Result<Out> {
      if (value !== undefined && value !== null) return spec.check(value, path, context);
      // Defaults are written like user input and go through the same checks (a test keeps them valid).
      if (common.default !== undefined) return spec.check(common.default, path, context);
      if (optional) return ok(undefined as Out);
      return fail(missing(path, value, common));
    },
    jsonSchema(): JsonSchema {
      const own = spec.schema();
      const schema: JsonSchema = { description: describeForEditors(common.doc, spec.allowed, common.unset), ...own };
      // `key:` with every line under it commented out is unset: fine where unset is (a default, or optional).
      if (spec.nullable && (common.default !== undefined || common.optional === true)) allowNull(schema);
      if (common.default !== undefined) schema.default = common.default;
      schema.examples = [common.example];
      return schema;
    },
  });
}

function describeForEditors(doc: string, allowed: string | undefined, unset: string | undefined): string {
  let text = doc;
  if (allowed) text += ` Allowed: ${allowed}.`;
  if (unset) text += ` When unset: ${unset}.`;
  return text;
}

function allowNull(schema: JsonSchema): void {
  if (typeof schema.type === 'string') schema.type = [schema.type, 'null'];
  else if (Array.isArray(schema.anyOf)) schema.anyOf = [...schema.anyOf, { type: 'null' }];
}

function missing(path: string, value: unknown, common: Common): Issue {
  const key = lastSegment(path);
  const what = value === null ? 'has no value' : key === undefined ? 'is missing' : `is required`;
  const why = common.required ? `: ${common.required}` : '';
  return { path, message: `${what}${why}`, fix: common.missingFix?.(path) ?? `write ${snippet(path, common.example)}` };
}

export function ok<T>(value: T): Result<T> {
  return { value, issues: [] };
}

export function fail<T>(...issues: Issue[]): Result<T> {
  return { value: undefined as T, issues };
}

export function issue(path: string, message: string, fix: string): Issue {
  return { path, message, fix };
}

/** "Write `replicas: 2`": the usual fix, a valid value at the same place. */
export function write(path: string, value: unknown): string {
  return `write ${snippet(path, value)}`;
}
