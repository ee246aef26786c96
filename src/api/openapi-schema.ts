/**
 * JSON Schema (2020-12, as OpenAPI 3.1 uses it) from berth's two plain-data descriptions: the wire
 * schemas of what the API answers (../model/wire-schema.ts), with named ones as components, and the
 * input specs of what it accepts (./input-spec.ts).
 */
import { nodeOf, type Schema } from '../model/wire-schema.ts';
import type { BodyField, FieldSpec } from './input-spec.ts';

export type JsonSchema = { [key: string]: unknown };

/** Named wire schemas become `#/components/schemas/<name>`, each defined once, in the order first met. */
export class SchemaComponents {
  readonly #defined = new Map<string, JsonSchema>();

  /** The JSON Schema of `schema`: a reference when it is named, else inline. */
  of(schema: Schema): JsonSchema {
    if (schema.name === undefined) return this.#inline(schema);
    if (!this.#defined.has(schema.name)) {
      // Reserved before converting, so a schema that refers to itself ends instead of recursing.
      this.#defined.set(schema.name, {});
      this.#defined.set(schema.name, this.#inline(schema));
    }
    return { $ref: `#/components/schemas/${schema.name}` };
  }

  /** The components met so far, by name. */
  all(): Record<string, JsonSchema> {
    return Object.fromEntries(this.#defined);
  }

  #inline(schema: Schema): JsonSchema {
    const body = this.#body(schema);
    return schema.doc === undefined ? body : { description: schema.doc, ...body };
  }

  #body(schema: Schema): JsonSchema {
    const node = nodeOf(schema);
    switch (node.type) {
      case 'string':
        return node.format ? { type: 'string', format: node.format } : { type: 'string' };
      case 'integer':
      case 'number':
      case 'boolean':
        return { type: node.type };
      case 'enum':
        return node.values.length === 1 ? { const: node.values[0] } : { type: 'string', enum: [...node.values] };
      case 'array':
        return { type: 'array', items: this.of(node.items) };
      case 'record':
        return { type: 'object', additionalProperties: this.of(node.values) };
      case 'nullable':
        return { anyOf: [this.of(node.of), { type: 'null' }] };
      case 'optional':
        return this.of(node.of);
      case 'union':
        return { oneOf: node.of.map((member) => this.of(member)) };
      case 'unknown':
        return {};
      case 'object': {
        const entries = Object.entries(node.fields);
        const required = entries.filter(([, field]) => nodeOf(field).type !== 'optional').map(([key]) => key);
        return {
          type: 'object',
          properties: Object.fromEntries(entries.map(([key, field]) => [key, this.of(field)])),
          ...(required.length ? { required } : {}),
          ...(node.open ? {} : { additionalProperties: false }),
        };
      }
    }
  }
}

/** A query parameter or body field as its operation declares it, with its bounds, default and example. */
export function inputSchema(field: FieldSpec): JsonSchema {
  const doc = field.doc === undefined ? {} : { description: field.doc };
  switch (field.type) {
    case 'string':
      return {
        ...doc,
        type: 'string',
        ...(field.minLength !== undefined ? { minLength: field.minLength } : {}),
        maxLength: field.maxLength,
        ...(field.pattern !== undefined ? { pattern: field.pattern } : {}),
        examples: [field.example],
      };
    case 'integer':
    case 'number':
      return { ...doc, type: field.type, minimum: field.min, maximum: field.max, ...(field.default !== undefined ? { default: field.default } : {}), examples: [field.example] };
    case 'boolean':
      return { ...doc, type: 'boolean', examples: [field.example] };
    case 'flag':
      return { ...doc, type: 'string', enum: ['1', '0'], default: '0' };
    case 'list':
      return { ...doc, type: 'array', items: inputSchema(field.items), maxItems: field.maxItems, examples: [field.example] };
    case 'map':
      return {
        ...doc,
        type: 'object',
        propertyNames: { maxLength: field.keyMaxLength },
        additionalProperties: inputSchema(field.values),
        maxProperties: field.maxEntries,
        examples: [field.example],
      };
  }
}

/** A JSON body of these fields: nothing else, the required ones present. */
export function bodySchema(fields: Readonly<Record<string, BodyField>>): JsonSchema {
  const required = Object.entries(fields).filter(([, field]) => field.required === true).map(([key]) => key);
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(fields).map(([key, field]) => [key, inputSchema(field)])),
    ...(required.length ? { required } : {}),
    additionalProperties: false,
  };
}
