/** Walks a schema's keys: for the reference, the `berth init` file and "this key belongs under ...". */
import type { AnyNode } from './dsl-node.ts';
import type { Segment } from './path.ts';
import { looseKey } from './suggest.ts';

export interface KeyEntry {
  /** The path as documented: `processes.<name>.replicas`, `env.<NAME>`. */
  readonly path: string;
  /** A concrete path for showing an example in place: `['processes', 'worker', 'replicas']`. */
  readonly examplePath: readonly Segment[];
  /** The last key as written in berth.yaml. */
  readonly key: string;
  readonly node: AnyNode;
  /** Nesting level: 0 for top-level keys. */
  readonly depth: number;
  /** True under a record's specific key (`processes.web`) rather than its placeholder (`processes.<name>`). */
  readonly specific: boolean;
  /** True for an entry of a record (`processes.web`, `env.<NAME>`) rather than a fixed key. */
  readonly inRecord: boolean;
}

/** Every documented key below `root`, parents before children, in schema order. */
export function keyEntries(root: AnyNode): KeyEntry[] {
  const entries: KeyEntry[] = [];
  const visit = (node: AnyNode, at: { path: string; examplePath: Segment[]; depth: number; specific: boolean }) => {
    const shape = node.shape;
    const add = (child: AnyNode, key: string, display: string, concrete: Segment, specific: boolean) => {
      const inRecord = shape.kind === 'record';
      const entry: KeyEntry = {
        path: at.path === '' ? display : `${at.path}.${display}`,
        examplePath: [...at.examplePath, concrete],
        key,
        node: child,
        depth: at.depth,
        specific: at.specific || specific,
        inRecord,
      };
      entries.push(entry);
      visit(child, { path: entry.path, examplePath: [...entry.examplePath], depth: at.depth + 1, specific: entry.specific });
    };
    if (shape.kind === 'object') {
      for (const field of shape.fields) add(field.node, field.key, field.key, field.key, false);
    } else if (shape.kind === 'record') {
      for (const [key, child] of Object.entries(shape.known)) add(child, key, key, key, true);
      add(shape.value, shape.placeholder, shape.placeholder, exampleKey(node), false);
    } else if (shape.kind === 'shorthand') {
      visit(shape.object, at);
    } else if (shape.kind === 'array' && shape.items.shape.kind !== 'scalar') {
      visit(shape.items, { ...at, path: `${at.path}[]`, examplePath: [...at.examplePath, 0] });
    }
  };
  visit(root, { path: '', examplePath: [], depth: 0, specific: false });
  return entries;
}

/** A key of the record's example that is not one of its specific keys (`worker` rather than `web`). */
function exampleKey(record: AnyNode): string {
  const shape = record.shape;
  const keys = Object.keys((record.example ?? {}) as object);
  const known = shape.kind === 'record' ? Object.keys(shape.known) : [];
  return keys.find((k) => !known.includes(k)) ?? keys[0] ?? 'name';
}

/**
 * Where in the schema a key exists, for a key found in the wrong place: `replicas` ->
 * [`processes.<name>.replicas`]. Placeholder paths win over specific ones saying the same.
 */
export function placesOf(root: AnyNode, key: string): string[] {
  const loose = looseKey(key);
  const matches = (fixedKeys.get(root) ?? cacheFixedKeys(root)).get(loose) ?? [];
  const general = matches.filter((e) => !e.specific);
  return (general.length > 0 ? general : matches).map((e) => e.path);
}

/** Per schema, its fixed keys by their loose spelling: a file of many unknown keys asks once per key. */
const fixedKeys = new WeakMap<AnyNode, Map<string, KeyEntry[]>>();

function cacheFixedKeys(root: AnyNode): Map<string, KeyEntry[]> {
  const byLoose = new Map<string, KeyEntry[]>();
  for (const entry of keyEntries(root)) {
    if (entry.inRecord) continue;
    const loose = looseKey(entry.key);
    byLoose.set(loose, [...(byLoose.get(loose) ?? []), entry]);
  }
  fixedKeys.set(root, byLoose);
  return byLoose;
}
