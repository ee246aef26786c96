/**
 * A tiny schema builder for the JSON the control API answers. A schema is plain data (the OpenAPI
 * document is made from it, and `wire-check.ts` checks answers against it) and carries, at the type
 * level only, the TypeScript type it describes (`Infer`): the server's views and the CLI's readers use
 * that one type, so a field renamed or dropped on one side fails the build on the other.
 */

/** Type-level only: never set, never read. It gives every schema the TypeScript type it stands for. */
declare const describes: unique symbol;

export type SchemaType = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'array' | 'object' | 'record' | 'nullable' | 'optional' | 'union' | 'unknown';

/** Any schema: its JSON type as data, a description, and a name when it is a component of the API (`App`). */
export interface Schema<T = unknown> {
  readonly [describes]?: T;
  readonly type: SchemaType;
  readonly doc?: string;
  readonly name?: string;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

export interface StringSchema extends Schema<string> {
  readonly type: 'string';
  /** `date-time`: an ISO 8601 time in UTC, as every time the API answers. */
  readonly format?: 'date-time';
}

export interface NumberSchema extends Schema<number> {
  readonly type: 'number' | 'integer';
}

export interface BooleanSchema extends Schema<boolean> {
  readonly type: 'boolean';
}

/** One of a few strings (a state, a kind); with one value, exactly that string. */
export interface EnumSchema<V extends string = string> extends Schema<V> {
  readonly type: 'enum';
  readonly values: readonly V[];
}

export interface ArraySchema<I extends Schema = Schema> extends Schema<Infer<I>[]> {
  readonly type: 'array';
  readonly items: I;
}

export type Fields = Readonly<Record<string, Schema>>;

type Flatten<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<F> = { [K in keyof F]: F[K] extends { readonly type: 'optional' } ? K : never }[keyof F];

/** The object a set of fields describes: optional fields may be absent (never null unless nullable too). */
export type ObjectOf<F> = Flatten<{ -readonly [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> } & { -readonly [K in OptionalKeys<F>]?: Infer<F[K]> }>;

/** Exactly these fields; `open` objects may carry more (what another program answers, such as the engine's version). */
export interface ObjectSchema<F extends Fields = Fields> extends Schema<ObjectOf<F>> {
  readonly type: 'object';
  readonly fields: F;
  readonly open?: true;
}

/** An object keyed by names the user picks (processes, env vars). */
export interface RecordSchema<V extends Schema = Schema> extends Schema<Record<string, Infer<V>>> {
  readonly type: 'record';
  readonly values: V;
}

export interface NullableSchema<S extends Schema = Schema> extends Schema<Infer<S> | null> {
  readonly type: 'nullable';
  readonly of: S;
}

/** A field that may be absent; only meaningful as a field of an object. */
export interface OptionalSchema<S extends Schema = Schema> extends Schema<Infer<S>> {
  readonly type: 'optional';
  readonly of: S;
}

/** Any one of the members (a value matches at least one). */
export interface UnionSchema<M extends Schema = Schema> extends Schema<Infer<M>> {
  readonly type: 'union';
  readonly of: readonly M[];
}

/** Any JSON value: what berth passes along without a shape of its own (an error's details). */
export interface UnknownSchema extends Schema<unknown> {
  readonly type: 'unknown';
}

/** Every kind of schema, for code that walks one (the checker, the OpenAPI document). */
export type SchemaNode = StringSchema | NumberSchema | BooleanSchema | EnumSchema | ArraySchema | ObjectSchema | RecordSchema | NullableSchema | OptionalSchema | UnionSchema | UnknownSchema;

/** The node behind a schema: builders below make every schema, each one a SchemaNode. */
export const nodeOf = (schema: Schema): SchemaNode => schema as SchemaNode;

export const string = (): StringSchema => ({ type: 'string' });
export const dateTime = (): StringSchema => ({ type: 'string', format: 'date-time' });
export const integer = (): NumberSchema => ({ type: 'integer' });
export const number = (): NumberSchema => ({ type: 'number' });
export const boolean = (): BooleanSchema => ({ type: 'boolean' });
export const enumOf = <const V extends string>(values: readonly V[]): EnumSchema<V> => ({ type: 'enum', values });
export const literal = <const V extends string>(value: V): EnumSchema<V> => ({ type: 'enum', values: [value] });
export const array = <I extends Schema>(items: I): ArraySchema<I> => ({ type: 'array', items });
export const object = <const F extends Fields>(fields: F): ObjectSchema<F> => ({ type: 'object', fields });
export const openObject = <const F extends Fields>(fields: F): ObjectSchema<F> => ({ type: 'object', fields, open: true });
export const record = <V extends Schema>(values: V): RecordSchema<V> => ({ type: 'record', values });
export const nullable = <S extends Schema>(of: S): NullableSchema<S> => ({ type: 'nullable', of });
export const optional = <S extends Schema>(of: S): OptionalSchema<S> => ({ type: 'optional', of });
export const union = <const M extends readonly Schema[]>(...of: M): UnionSchema<M[number]> => ({ type: 'union', of });
export const unknown = (): UnknownSchema => ({ type: 'unknown' });

/**
 * Every value of a string union, as an enum. The record makes the list exhaustive: a state added to
 * the union and not here fails the build, so the API's documented values never fall behind.
 */
export const enumOfKeys = <V extends string>(all: Readonly<Record<V, true>>): EnumSchema<V> => enumOf(Object.keys(all) as V[]);

/** The same schema with a description (the OpenAPI document shows it). */
export const described = <S extends Schema>(doc: string, schema: S): S => ({ ...schema, doc });

/** The same schema as a named component of the API (`App`): the OpenAPI document refers to it by name. */
export const named = <S extends Schema>(name: string, schema: S): S => ({ ...schema, name });
