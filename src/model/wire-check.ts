/**
 * Checks a JSON value against a wire schema (./wire-schema.ts): what the OpenAPI test asks of every
 * answer of a running API, so the document cannot promise a shape the daemon does not send. Strict:
 * a field the schema does not list is a problem too (unless the object is `open`).
 */
import { nodeOf, type Schema } from './wire-schema.ts';

/** `2024-05-01T12:00:00.000Z`: what `Date.prototype.toISOString` writes. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

/** Every way `value` differs from `schema`, as `path: problem` (`instances[0].run: ...`); empty when it fits. */
export function wireIssues(schema: Schema, value: unknown, path = '(answer)'): string[] {
  const node = nodeOf(schema);
  switch (node.type) {
    case 'unknown':
      return [];
    case 'string':
      if (typeof value !== 'string') return [`${path}: expected a string, got ${describe(value)}`];
      return node.format === 'date-time' && !ISO_TIME.test(value) ? [`${path}: expected an ISO time in UTC, got ${JSON.stringify(value)}`] : [];
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return [`${path}: expected a number, got ${describe(value)}`];
      return node.type === 'integer' && !Number.isInteger(value) ? [`${path}: expected a whole number, got ${value}`] : [];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: expected true or false, got ${describe(value)}`];
    case 'enum':
      return typeof value === 'string' && node.values.includes(value) ? [] : [`${path}: expected one of ${node.values.join(', ')}, got ${JSON.stringify(value)}`];
    case 'nullable':
      return value === null ? [] : wireIssues(node.of, value, path);
    case 'optional':
      return value === undefined ? [] : wireIssues(node.of, value, path);
    case 'array':
      if (!Array.isArray(value)) return [`${path}: expected an array, got ${describe(value)}`];
      return value.flatMap((item, i) => wireIssues(node.items, item, `${path}[${i}]`));
    case 'record':
      if (!isObject(value)) return [`${path}: expected an object, got ${describe(value)}`];
      return Object.entries(value).flatMap(([key, item]) => wireIssues(node.values, item, `${path}.${key}`));
    case 'object': {
      if (!isObject(value)) return [`${path}: expected an object, got ${describe(value)}`];
      const issues = Object.entries(node.fields).flatMap(([key, field]) => {
        if (value[key] === undefined && nodeOf(field).type !== 'optional') return [`${path}.${key}: missing`];
        return wireIssues(field, value[key], `${path}.${key}`);
      });
      const extra = node.open ? [] : Object.keys(value).filter((key) => !Object.hasOwn(node.fields, key));
      return [...issues, ...extra.map((key) => `${path}.${key}: not in the schema`)];
    }
    case 'union': {
      // A fit for any member will do; otherwise the problems of the closest member say the most.
      const tries = node.of.map((member) => wireIssues(member, value, path));
      if (tries.some((issues) => issues.length === 0)) return [];
      return tries.reduce((best, issues) => (issues.length < best.length ? issues : best));
    }
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
