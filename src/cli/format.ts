/** Pure text formatting for human output: tables, sizes, times, errors. */
import type { Issue } from '../errors/catalogue.ts';
import { style as makeStyle, visibleLength, type Style } from './io.ts';

/**
 * Left-aligned columns separated by two spaces; the header row is bold. Cells may carry colour: widths
 * count visible characters. The last column is not padded, so lines carry no trailing spaces.
 */
export function formatTable(headers: string[], rows: string[][], style: Style = makeStyle(false)): string {
  const widths = headers.map((header, column) => Math.max(visibleLength(header), ...rows.map((row) => visibleLength(row[column] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column] - visibleLength(cell))))
      .join('  ')
      .trimEnd();
  return [style.bold(line(headers)), ...rows.map(line)].join('\n') + '\n';
}

/** `1536` -> `1.5 KB`; powers of 1024, one decimal below 10. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** Step timings: `0.4s`, `12s`, `2m05s`. */
export function formatElapsed(ms: number): string {
  if (ms < 10_000) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** `just now`, `5s ago`, `3m ago`, `2h ago`, `4d ago`; times in the future (clock skew) read as just now. */
export function formatAgo(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  if (ms < 1000) return 'just now';
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

export interface ErrorLike {
  code?: string;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
}

/**
 * The lines of `error: ...` / `hint: ...` that every failure prints on stderr. Multi-line messages (a
 * manifest's issue list) are kept as they are; issues in `details` that the message does not already
 * mention are listed under it; a usage error shows the command's usage line.
 */
export function formatError(error: ErrorLike, style: Style = makeStyle(false)): string {
  const [first, ...rest] = error.message.split('\n');
  const lines = [`${style.red(style.bold('error:'))} ${first}`, ...rest];
  const issues = Array.isArray(error.details?.issues) ? (error.details.issues as Issue[]) : [];
  for (const issue of issues) {
    if (error.message.includes(issue.message)) continue;
    lines.push(`  - ${issue.path || '(top level)'}: ${issue.message}${issue.fix ? ` (fix: ${issue.fix})` : ''}`);
  }
  if (typeof error.details?.usage === 'string') lines.push(`usage: ${error.details.usage}`);
  if (error.hint) lines.push(`${style.yellow('hint:')} ${error.hint}`);
  return lines.join('\n') + '\n';
}

/** The short form of an id for narrow columns: the last 4 characters of `ins_01jd3k9x2m4q7r8s`. */
export function shortId(id: string): string {
  const tail = id.includes('_') ? id.slice(id.indexOf('_') + 1) : id;
  return tail.length <= 4 ? tail : tail.slice(-4);
}

/** `-` for empty cells, so columns never collapse. */
export function orDash(value: string | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : value;
}
