/**
 * How big a berth.yaml berth reads. The file `berth init` writes, every section shown, is about 5 KB and
 * 85 lines; these limits leave ten times that room while keeping the worst file within them (many keys,
 * deep nesting, aliases) a fraction of a second of work. The YAML parser's cost grows faster than the
 * text, so the size is what bounds it: it is checked before the file is read, the lines before parsing,
 * the rest while the parsed document is walked.
 */
import type { Issue } from '../errors/catalogue.ts';

export const MANIFEST_LIMITS = {
  /** Bytes of the file. */
  maxBytes: 64 * 1024,
  maxLines: 2_000,
  /** Keys in all mappings together, counting those that aliases repeat. */
  maxKeys: 2_000,
  /** Mappings and lists inside one another. */
  maxDepth: 32,
  /** Values once aliases are expanded: a few lines of anchors can otherwise expand to gigabytes. */
  maxValues: 10_000,
} as const;

const FIX = 'keep berth.yaml to the settings berth reads: set many or long variables with `berth env set`, and keep other data in files of the app';

/** The file's size, before it is read. */
export function sizeIssue(bytes: number): Issue | undefined {
  if (bytes <= MANIFEST_LIMITS.maxBytes) return undefined;
  return { path: '', message: `the file is ${bytes} bytes, more than the ${MANIFEST_LIMITS.maxBytes} bytes (64 KB) berth reads`, fix: FIX };
}

/** Size and line count of text about to be parsed. */
export function textIssue(text: string): Issue | undefined {
  const size = sizeIssue(Buffer.byteLength(text));
  if (size) return size;
  let lines = 1;
  for (let at = text.indexOf('\n'); at !== -1 && lines <= MANIFEST_LIMITS.maxLines; at = text.indexOf('\n', at + 1)) lines++;
  if (lines <= MANIFEST_LIMITS.maxLines) return undefined;
  return { path: '', message: `the file has more than ${MANIFEST_LIMITS.maxLines} lines, the most berth reads`, fix: FIX };
}

export const keysIssue = (): Issue => ({
  path: '',
  message: `the file has more than ${MANIFEST_LIMITS.maxKeys} keys (counting those that aliases repeat), the most berth reads`,
  fix: 'list only the settings berth reads; an app with that many variables sets them with `berth env set`',
});

export const depthIssue = (path: string): Issue => ({
  path,
  message: `mappings and lists are nested more than ${MANIFEST_LIMITS.maxDepth} levels deep here, deeper than berth.yaml ever goes`,
  fix: 'remove the extra levels of nesting',
});

export const valuesIssue = (): Issue => ({
  path: '',
  message: `the file expands to more than ${MANIFEST_LIMITS.maxValues} values through YAML aliases`,
  fix: 'write the values out instead of repeating them through `*alias`',
});
