/** Markdown output: tables, number formats, and rewriting one benchmark's section of BENCHMARKS.md. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export function table(header: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const rule = header.map((_, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'r' ? '---:' : '---'));
  return [header, rule, ...rows.map((r) => r.map(String))].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export const fixed = (n: number | undefined, digits = 0): string => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits));

export const thousands = (n: number): string => Math.round(n).toLocaleString('en-US');

export const ratio = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? '–' : `${n.toFixed(2)}×`);

/** Microseconds as `850 us` or `1.23 ms`. */
export function micros(us: number | undefined): string {
  if (us === undefined || !Number.isFinite(us)) return '–';
  return Math.abs(us) < 1000 ? `${Math.round(us)} us` : `${(us / 1000).toFixed(2)} ms`;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Replaces the text between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->` (markers kept),
 * or appends the section; the rest of the file, other benchmarks included, is left as it was.
 */
export function writeSection(file: string, name: string, body: string): void {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nEach section is written by the command it names; rerun that command to refresh it.\n';
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from !== -1 && to > from ? current.slice(0, from) + section + current.slice(to + end.length) : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
}
