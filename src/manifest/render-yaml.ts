/**
 * Writes a berth.yaml value as YAML with the schema's doc sentences as comments: one comment block above
 * each top-level key, a trailing comment on each nested line. `berth init` uses it with most sections
 * commented out; the reference uses it for its full example.
 */
import type { AnyNode } from './schema-dsl.ts';
import { inlineYaml, isPlainObject } from './show.ts';

export interface RenderInput {
  /** The schema's top-level object node. */
  root: AnyNode;
  /** Values as written in berth.yaml; top-level keys come out in schema order, others in this order. */
  value: Readonly<Record<string, unknown>>;
  /** Top-level keys to write as comments (`# key: value`), so they document without taking effect. */
  commented?: (key: string) => boolean;
  /** Extra comment lines under a top-level key's doc sentence. */
  notes?: Readonly<Record<string, readonly string[]>>;
}

interface Line {
  text: string;
  comment?: string;
}

const WIDTH = 100;
/** Trailing comments line up, but a long line does not push every comment far right. */
const MAX_COMMENT_COLUMN = 36;

export function renderAnnotatedYaml(input: RenderInput): string {
  const shape = input.root.shape;
  if (shape.kind !== 'object') throw new Error('renderAnnotatedYaml needs an object node');
  const sections: string[] = [];
  for (const field of shape.fields) {
    if (!Object.hasOwn(input.value, field.key)) continue;
    const comments = [...wrap(field.node.doc), ...(input.notes?.[field.key] ?? []).flatMap(wrap)];
    const body = align(renderEntry(field.key, field.node, input.value[field.key], 0));
    const live = input.commented?.(field.key) ? body.map((l) => `# ${l}`) : body;
    sections.push([...comments.map((c) => `# ${c}`), ...live].join('\n'));
  }
  return sections.join('\n\n') + '\n';
}

function renderEntry(key: string, node: AnyNode, value: unknown, indent: number): Line[] {
  const pad = ' '.repeat(indent);
  const comment = indent === 0 ? undefined : leafComment(node);
  const keyText = inlineYaml(key);
  if (Array.isArray(value) && value.length > 0 && value.every((v) => !isPlainObject(v) && !Array.isArray(v))) {
    return [{ text: `${pad}${keyText}:`, comment }, ...value.map((item) => ({ text: `${pad}  - ${inlineYaml(item)}` }))];
  }
  if (!isPlainObject(value) || Object.keys(value).length === 0) return [{ text: `${pad}${keyText}: ${inlineYaml(value)}`, comment }];
  const lines: Line[] = [{ text: `${pad}${keyText}:`, comment }];
  const inRecord = objectOf(node).shape.kind === 'record';
  for (const [childKey, childValue] of orderedEntries(node, value)) {
    const child = childNode(node, childKey);
    const childLines = renderEntry(childKey, child, childValue, indent + 2);
    // Entries of a map of plain values (env) share one doc, already said above the section.
    if (inRecord && child.shape.kind === 'scalar') childLines[0] = { text: childLines[0].text };
    lines.push(...childLines);
  }
  return lines;
}

/** A nested key's trailing comment: its doc, plus the allowed range when that is short. */
function leafComment(node: AnyNode): string {
  if (node.shape.kind !== 'scalar') return node.doc;
  const range = node.allowed && ['int', 'number', 'duration', 'size'].includes(node.kind) ? ` (${node.allowed})` : '';
  return range ? `${node.doc.replace(/\.$/, '')}${range}.` : node.doc;
}

function objectOf(node: AnyNode): AnyNode {
  return node.shape.kind === 'shorthand' ? node.shape.object : node;
}

function childNode(node: AnyNode, key: string): AnyNode {
  const shape = objectOf(node).shape;
  if (shape.kind === 'object') {
    const field = shape.fields.find((f) => f.key === key);
    if (field) return field.node;
  }
  if (shape.kind === 'record') return Object.hasOwn(shape.known, key) ? shape.known[key] : shape.value;
  throw new Error(`no key "${key}" in the schema here`);
}

/** Object keys in schema order, record keys as given. */
function orderedEntries(node: AnyNode, value: Record<string, unknown>): [string, unknown][] {
  const shape = objectOf(node).shape;
  if (shape.kind !== 'object') return Object.entries(value);
  return shape.fields.filter((f) => Object.hasOwn(value, f.key)).map((f) => [f.key, value[f.key]]);
}

function align(lines: Line[]): string[] {
  const width = Math.min(MAX_COMMENT_COLUMN, Math.max(0, ...lines.filter((l) => l.comment).map((l) => l.text.length)));
  return lines.map((l) => (l.comment ? `${l.text.padEnd(width)}  # ${l.comment}` : l.text));
}

/** Splits a sentence into comment lines of at most WIDTH characters. */
function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}
