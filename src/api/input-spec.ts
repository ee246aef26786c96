/**
 * What a request may carry, as plain data: per field its type, whether it is required, its bounds and an
 * example. `check-input.ts` checks bodies and query strings against these; the wire types and an OpenAPI
 * description can be generated from the same data, so keep it free of functions.
 */

/** A text value; `pattern` (a RegExp source) with `patternMessage` saying what it wants. */
export interface StringField {
  readonly type: 'string';
  readonly required?: boolean;
  readonly minLength?: number;
  readonly maxLength: number;
  readonly pattern?: string;
  readonly patternMessage?: string;
  readonly example: string;
  readonly doc?: string;
}

/** A whole number (`integer`) or any finite number, within [min, max]. */
export interface NumberField {
  readonly type: 'integer' | 'number';
  readonly required?: boolean;
  readonly min: number;
  readonly max: number;
  readonly default?: number;
  readonly example: number;
  readonly doc?: string;
}

/** JSON true or false. */
export interface BooleanField {
  readonly type: 'boolean';
  readonly required?: boolean;
  readonly example: boolean;
  readonly doc?: string;
}

/** A query switch: `1` (on) or `0` (off); absent is off. */
export interface FlagField {
  readonly type: 'flag';
  readonly doc?: string;
}

/** A list of at most `maxItems` values. */
export interface ListField {
  readonly type: 'list';
  readonly required?: boolean;
  readonly items: StringField | NumberField;
  readonly maxItems: number;
  readonly example: readonly unknown[];
  readonly doc?: string;
}

/** An object keyed by names the user picks (env vars, processes); it arrives as a Map. */
export interface MapField {
  readonly type: 'map';
  readonly required?: boolean;
  readonly keyMaxLength: number;
  readonly values: StringField | NumberField;
  readonly maxEntries: number;
  readonly example: Readonly<Record<string, unknown>>;
  readonly doc?: string;
}

export type BodyField = StringField | NumberField | BooleanField | ListField | MapField;
export type QueryField = StringField | NumberField | FlagField;
export type FieldSpec = BodyField | QueryField;

/** One endpoint: method, path pattern, and what its query string and JSON body may hold. */
export interface Operation {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly summary: string;
  readonly query?: Readonly<Record<string, QueryField>>;
  /** A JSON object body with these fields; without it the endpoint takes no JSON body. */
  readonly body?: Readonly<Record<string, BodyField>>;
  /** The body is a gzip-compressed tar, not JSON (the deploy upload). */
  readonly archive?: true;
  /** The largest JSON body taken, in bytes, when it is not the API's 1 MiB (BODY_TOO_LARGE past it). */
  readonly bodyLimit?: number;
}

type ValueOf<F> = F extends { type: 'string' }
  ? string
  : F extends { type: 'integer' | 'number' }
    ? number
    : F extends { type: 'boolean' | 'flag' }
      ? boolean
      : F extends { type: 'list'; items: infer I }
        ? ValueOf<I>[]
        : F extends { type: 'map'; values: infer V }
          ? Map<string, ValueOf<V>>
          : never;

/** Always present: required fields, fields with a default, and flags (absent is false). */
type Present<F> = F extends { required: true } ? true : F extends { default: number } ? true : F extends { type: 'flag' } ? true : false;

/** The checked input of a spec: a null-prototype object holding only the fields given. */
export type Input<S> = S extends Readonly<Record<string, FieldSpec>>
  ? { readonly [K in keyof S]: Present<S[K]> extends true ? ValueOf<S[K]> : ValueOf<S[K]> | undefined }
  : Record<string, never>;
