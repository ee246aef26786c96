/** What every node kind shares: unset handling, JSON Schema annotations, issue helpers. */
import type { Common, JsonSchema, Kind, Node, Result, Shape, ValidateContext, Issue } from './schema-dsl.ts';
import { lastSegment } from './path.ts';
import { snippet } from './show.ts';

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
