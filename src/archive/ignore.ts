/**
 * A subset of .gitignore matching, so `.berthignore` reads the way people already write `.gitignore`:
 *
 * - blank lines and `#` comments are skipped; `\#` and `\!` start a pattern with a literal `#` or `!`
 * - `*` and `?` match within one path segment, `[abc]`, `[a-z]`, `[!abc]` match one character
 * - `**` as a whole segment matches any number of folders, leading, trailing or in the middle
 * - a leading `/`, or a `/` in the middle, anchors the pattern to the root; otherwise it matches at any depth
 * - a trailing `/` matches folders only
 * - `!` re-includes what an earlier pattern excluded (the last matching rule wins), but, as in git,
 *   nothing inside an excluded folder can be re-included
 *
 * Not supported: nested ignore files, POSIX classes like `[[:alpha:]]`, escaped trailing spaces.
 * Paths are relative to the root, `/`-separated, without a leading `./` or trailing `/`.
 */

export interface IgnoreRule {
  /** The line as written. */
  source: string;
  negate: boolean;
  dirOnly: boolean;
  regex: RegExp;
}

/** Parses a whole ignore file. */
export function parseIgnore(text: string): IgnoreRule[] {
  return text.split('\n').flatMap((line) => compileIgnoreRule(line) ?? []);
}

/** One line to one rule; undefined for blank lines and comments. */
export function compileIgnoreRule(line: string): IgnoreRule | undefined {
  const source = line.replace(/\r$/, '');
  let pattern = source.replace(/[ \t]+$/, '');
  if (pattern === '' || pattern.startsWith('#')) return undefined;
  const negate = pattern.startsWith('!');
  if (negate) pattern = pattern.slice(1);
  else if (pattern.startsWith('\\#') || pattern.startsWith('\\!')) pattern = pattern.slice(1);
  const dirOnly = pattern.endsWith('/');
  if (dirOnly) pattern = pattern.replace(/\/+$/, '');
  const anchored = pattern.includes('/');
  pattern = pattern.replace(/^\/+/, '');
  if (pattern === '') return undefined;
  const body = pattern
    .split('/')
    .map((segment, i, all) => {
      if (segment !== '**') return segmentRegex(segment) + (i < all.length - 1 ? '/' : '');
      return i === all.length - 1 ? '.*' : '(?:.*/)?';
    })
    .join('');
  return { source, negate, dirOnly, regex: new RegExp(`^${anchored ? '' : '(?:.*/)?'}${body}$`, 's') };
}

/** The rule that decides `path` on its own (last match wins), or undefined when none matches. */
function decidingRule(rules: readonly IgnoreRule[], path: string, isDir: boolean): IgnoreRule | undefined {
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i];
    if (rule.dirOnly && !isDir) continue;
    if (rule.regex.test(path)) return rule;
  }
  return undefined;
}

/** The rule that excludes `path`, itself or through an excluded parent folder; undefined when `path` is kept. */
export function ignoredBy(rules: readonly IgnoreRule[], path: string, isDir: boolean): IgnoreRule | undefined {
  const segments = path.split('/');
  for (let i = 1; i <= segments.length; i++) {
    const last = i === segments.length;
    const rule = decidingRule(rules, segments.slice(0, i).join('/'), last ? isDir : true);
    if (rule && !rule.negate) return rule;
  }
  return undefined;
}

/** One path segment's glob as a regular expression that never matches `/`. */
function segmentRegex(segment: string): string {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i];
    if (char === '*') out += '[^/]*';
    else if (char === '?') out += '[^/]';
    else if (char === '\\' && i + 1 < segment.length) out += escapeRegex(segment[++i]);
    else if (char === '[') {
      const parsed = characterClass(segment, i);
      if (!parsed) return '(?!)'; // git's wildmatch gives up on an unclosed class: the pattern matches nothing
      out += parsed.regex;
      i = parsed.end;
    } else out += escapeRegex(char);
  }
  return out;
}

/** `[...]` starting at `start`, or undefined when it is not closed. */
function characterClass(segment: string, start: number): { regex: string; end: number } | undefined {
  let i = start + 1;
  const negate = segment[i] === '!' || segment[i] === '^';
  if (negate) i++;
  let body = '';
  for (let first = true; i < segment.length; i++, first = false) {
    const char = segment[i];
    if (char === ']' && !first) return { regex: negate ? `[^/${body}]` : `[${body}]`, end: i };
    if (char === '\\' && i + 1 < segment.length) body += '\\' + segment[++i];
    else body += char === '-' ? '-' : char.replace(/[\\\]\[^]/, '\\$&');
  }
  return undefined;
}

function escapeRegex(char: string): string {
  return char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
