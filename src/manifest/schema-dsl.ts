/**
 * A small schema builder (a tiny zod) so that one definition of berth.yaml gives:
 *   - the resolved TypeScript type, defaults applied (`Infer<typeof node>`),
 *   - validation that collects every issue with its key path, what was found, what is expected and a fix,
 *   - a JSON Schema (draft 2020-12) for editors,
 *   - the data of the Markdown reference (./reference.ts) and of `berth init`'s commented file (./render-yaml.ts).
 *
 * Values are validated as plain data (what YAML or JSON parse to). A key that is absent, or present with
 * nothing after it (`key:` is null in YAML), is "unset": it takes its default, resolves to undefined when
 * optional, and is an issue otherwise. Resolved values are frozen as they are built.
 */
import type { Issue } from '../errors/catalogue.ts';
import { string, int, number, boolean, oneOf, duration, size } from './dsl-scalars.ts';
import { object } from './dsl-object.ts';
import { array, record, shorthand } from './dsl-collections.ts';

export type { Issue };
export type { ObjectOut } from './dsl-object.ts';

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

/** The builders: `s.object({...})`, `s.duration({...})`, ... */
export const s = { string, int, number, boolean, enum: oneOf, duration, size, object, array, record, shorthand };
