/**
 * GitHub-flavoured Markdown from text berth does not control (event messages, app output quoted in a
 * failure, a policy's reason): every such text goes through `cell` or `inline`, so it can neither end a
 * table cell, start a code span, link, emphasis or HTML tag, nor break the report's structure. Pure.
 */

/** The longest text a cell shows (characters); the rest is cut with an ellipsis. */
export const MAX_CELL_CHARS = 300;

/** C0 controls but tab and line ends, DEL and C1: a terminal escape or a NUL in a message shows as U+FFFD. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;
/**
 * The marks inline Markdown reads as syntax (code spans, emphasis, strike-through, links and images, cell
 * ends); a backslash makes each literal (CommonMark 2.4). Block syntax (`#`, `-`, `1.`) only counts at
 * the start of a line, and `inline`/`cell` text never starts one: line ends are replaced.
 */
const PUNCTUATION = /[\\`*_[\]~|]/g;

/** At most `max` characters of `text`, never splitting a surrogate pair; `…` marks a cut. */
export function bound(text: string, max = MAX_CELL_CHARS): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/**
 * `text` as literal Markdown inside a line berth writes: HTML's `&`, `<`, `>` as entities, the marks of
 * inline syntax backslash-escaped, controls replaced, line ends as spaces.
 */
export function inline(text: string): string {
  return escape(text.replace(/\r\n?|\n/g, ' '));
}

/**
 * `text` as one table cell: bounded first (so a cut never splits an escape), then escaped as `inline`,
 * its line ends kept as `<br>` (the one HTML berth writes itself; GitHub shows it as a line break).
 */
export function cell(text: string, max = MAX_CELL_CHARS): string {
  const lines = bound(text.trim(), max).split(/\r\n?|\n/);
  const escaped = lines.map((line) => escape(line.trim())).join('<br>');
  // An empty cell is valid GFM, but a visible mark says "nothing" more clearly than a blank.
  return escaped === '' ? '-' : escaped;
}

function escape(text: string): string {
  return text
    .replace(CONTROL, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(PUNCTUATION, (mark) => `\\${mark}`);
}

/** A GFM table: the header row, the delimiter row, one row per entry; cells already escaped with `cell`. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}
