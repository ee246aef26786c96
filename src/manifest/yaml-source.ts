/**
 * YAML text to plain data, keeping what messages need: the line of every key path, and the text of each
 * scalar as written. Syntax errors become issues that say `line L, column C`.
 *
 * The walk is ours rather than yaml's toJS() so that aliases are expanded under a budget (a few lines of
 * anchors can expand to gigabytes), keys like `__proto__` stay plain keys of null-prototype mappings, and
 * a non-text key is an issue instead of a process warning. It also does, in linear time, two things yaml
 * does in quadratic time: the duplicate-key check (yaml compares each key with every earlier one) and
 * alias resolution (yaml's Alias.resolve walks the whole document once per alias).
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Document, type Node as YamlNode } from 'yaml';
import type { Issue } from '../errors/catalogue.ts';
import { depthIssue, keysIssue, MANIFEST_LIMITS, valuesIssue } from './limits.ts';
import { formatPath, parsePath, type Segment } from './path.ts';

export interface YamlSource {
  /** The content as plain data: null for an empty file. Unreliable when `fatal`. */
  readonly value: unknown;
  /** Syntax errors, duplicate keys and unusable keys. */
  readonly issues: Issue[];
  /** True when the text could not be read as YAML, so validating `value` would only add noise. */
  readonly fatal: boolean;
  /** 1-based line of the key (or list item) at `path`, else of its nearest ancestor that exists. */
  lineOf(path: string): number | undefined;
  /** The text of the scalar at `path` as written, such as `3.10` for what YAML reads as 3.1. */
  sourceText(path: string): string | undefined;
}

const SYNTAX_FIXES: Record<string, string> = {
  TAB_AS_INDENT: 'indent with spaces; YAML does not allow tabs',
  BAD_INDENT: 'indent each nested key by the same number of spaces (two per level), for example `health:` then `  path: /health`',
  MULTIPLE_DOCS: 'keep one document: remove the `---` line and what follows, or merge it into the first',
  BAD_ALIAS: 'define an anchor (`&name`) before using it (`*name`)',
};
/** yaml's wording where it speaks to programmers rather than to someone editing a file. */
const SYNTAX_MESSAGES: Record<string, string> = {
  MULTIPLE_DOCS: 'the file holds more than one YAML document (a `---` line starts another)',
  BLOCK_AS_IMPLICIT_KEY: 'this value contains `: `, which YAML reads as the start of another key',
};
const UNCLOSED_FIX = 'close every `[` with `]` and every `{` with `}`, or write the list as `- item` lines';
const DEFAULT_SYNTAX_FIX = 'quote values that contain `: ` or ` #` (such as `command: "echo a: b"`) and close every quote and bracket';

export function readYaml(text: string): YamlSource {
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  } catch (error) {
    // yaml composes nested collections recursively: thousands of `[` in a row exhaust the stack.
    if (error instanceof RangeError) return unreadable(depthIssue(''));
    throw error;
  }
  const at = (offset: number) => lineCounter.linePos(offset);

  const positions = new Map<string, number>();
  const sources = new Map<string, string>();
  const issues: Issue[] = [];
  let fatal = false;
  let budget = MANIFEST_LIMITS.maxValues;
  let keys = 0;
  /** Set once a limit is hit: the walk stops, and that one issue says why. */
  let stopped: Issue | undefined;
  const stop = (issue: Issue) => {
    stopped ??= issue;
    return null;
  };
  let targets: Map<Alias, YamlNode>;
  try {
    targets = aliasTargets(doc);
  } catch (error) {
    if (error instanceof RangeError) return unreadable(depthIssue(''));
    throw error;
  }
  // A mapping reached again through an alias was checked for duplicate keys the first time.
  const checked = new Set<unknown>();

  const walk = (node: unknown, segments: Segment[]): unknown => {
    if (stopped) return null;
    if (--budget < 0) return stop(valuesIssue());
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const target = targets.get(node);
      if (target) return walk(target, segments);
      const { line, col } = at(node.range?.[0] ?? 0);
      issues.push({ path: formatPath(segments), message: `line ${line}, column ${col}: the alias \`*${node.source}\` has no anchor \`&${node.source}\` before it`, fix: SYNTAX_FIXES.BAD_ALIAS });
      fatal = true;
      return null;
    }
    if (isScalar(node)) {
      if (typeof node.source === 'string') sources.set(formatPath(segments), node.source);
      return node.value;
    }
    if ((isMap(node) || isSeq(node)) && segments.length >= MANIFEST_LIMITS.maxDepth) return stop(depthIssue(formatPath(segments)));
    if (isMap(node)) {
      const firstCheck = !checked.has(node);
      checked.add(node);
      const firstLines = new Map<string, number>();
      const out = Object.create(null) as Record<string, unknown>;
      for (const pair of node.items) {
        if (stopped) break;
        if (++keys > MANIFEST_LIMITS.maxKeys) return stop(keysIssue());
        const keyNode = isAlias(pair.key) ? targets.get(pair.key) : pair.key;
        const offset = (pair.key as YamlNode | null)?.range?.[0] ?? (pair.value as YamlNode | null)?.range?.[0] ?? 0;
        const { line, col } = at(offset);
        if (isAlias(pair.key) && keyNode === undefined) {
          issues.push({ path: formatPath(segments), message: `line ${line}, column ${col}: the alias \`*${pair.key.source}\` has no anchor \`&${pair.key.source}\` before it`, fix: SYNTAX_FIXES.BAD_ALIAS });
          fatal = true;
          continue;
        }
        if (keyNode !== null && keyNode !== undefined && !isScalar(keyNode)) {
          const shown = isSeq(keyNode) ? 'a list' : 'a mapping';
          issues.push({ path: formatPath(segments), message: `line ${line}: a key must be plain text, found ${shown}`, fix: 'write keys as plain names, such as `name:`' });
          continue;
        }
        const raw = isScalar(keyNode) ? keyNode.value : null;
        const key = raw === null || raw === undefined ? '' : String(raw);
        const path = [...segments, key];
        const formatted = formatPath(path);
        const first = firstLines.get(key);
        if (first === undefined) firstLines.set(key, line);
        else if (firstCheck) {
          const seen = first !== line ? ` (first at line ${first})` : '';
          issues.push({
            path: formatted,
            message: `line ${line}, column ${col}: duplicate key \`${key}\`${seen}; YAML keys must be unique within a mapping`,
            fix: `keep one \`${key}:\` and delete the other`,
          });
        }
        if (!positions.has(formatted)) positions.set(formatted, line);
        // On a null-prototype object this defines a key, `__proto__` included. A repeated key keeps its last value.
        out[key] = walk(pair.value, path);
      }
      return out;
    }
    if (isSeq(node)) {
      return node.items.map((item, index) => {
        const path = [...segments, index];
        const offset = (item as YamlNode | null)?.range?.[0];
        if (offset !== undefined) positions.set(formatPath(path), at(offset).line);
        return walk(item, path);
      });
    }
    issues.push({ path: formatPath(segments), message: 'this YAML construct is not supported here', fix: 'write plain mappings, lists and values' });
    return null;
  };

  const value = walk(doc.contents, []);
  if (stopped) {
    issues.push(stopped);
    fatal = true;
  }

  for (const error of doc.errors) {
    const { line, col } = at(error.pos[0]);
    fatal = true;
    const message = SYNTAX_MESSAGES[error.code] ?? error.message.replace(/\.$/, '');
    const unclosed = /flow (sequence|mapping|collection)|end with a [\]}]/i.test(error.message);
    issues.push({ path: '', message: `line ${line}, column ${col}: ${message}`, fix: unclosed ? UNCLOSED_FIX : (SYNTAX_FIXES[error.code] ?? DEFAULT_SYNTAX_FIX) });
  }

  return {
    value,
    issues,
    fatal,
    lineOf(path) {
      const segments = parsePath(path);
      if (!segments) return undefined;
      for (let n = segments.length; n > 0; n--) {
        const line = positions.get(formatPath(segments.slice(0, n)));
        if (line !== undefined) return line;
      }
      return undefined;
    },
    sourceText: (path) => sources.get(path),
  };
}

/**
 * Each alias's node: the last node before it, in document order, with its anchor (as yaml resolves
 * them), found in one pass instead of one pass per alias.
 */
function aliasTargets(doc: Document): Map<Alias, YamlNode> {
  const targets = new Map<Alias, YamlNode>();
  const anchors = new Map<string, YamlNode>();
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (target) targets.set(node, target);
      } else if (node.anchor) {
        anchors.set(node.anchor, node);
      }
    },
  });
  return targets;
}

function unreadable(issue: Issue): YamlSource {
  return { value: null, issues: [issue], fatal: true, lineOf: () => undefined, sourceText: () => undefined };
}
