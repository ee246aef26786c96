/**
 * The collected log of one instance: JSON lines `{ts, stream, line}` in <base>.jsonl, rotated to
 * <base>.jsonl.1 (one old file kept) when it grows past the rotation size.
 */
import { appendFileSync, readFileSync, renameSync, statSync } from 'node:fs';
import type { LogLine } from './driver.ts';

export type StoredLine = Omit<LogLine, 'instance'>;

export function appendToStore(store: string, lines: StoredLine[], rotateBytes: number): void {
  if (lines.length === 0) return;
  const data = lines.map((l) => JSON.stringify({ ts: l.ts, stream: l.stream, line: l.line })).join('\n') + '\n';
  let size = 0;
  try {
    size = statSync(store).size;
  } catch {
    // no store yet
  }
  if (size > 0 && size + Buffer.byteLength(data) > rotateBytes) renameSync(store, `${store}.1`);
  appendFileSync(store, data, { mode: 0o600 });
}

/** Every stored line, oldest first (the rotated file, then the current one); damaged lines are skipped. */
export function readStore(store: string, instance: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const file of [`${store}.1`, store]) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const raw of text.split('\n')) {
      if (!raw) continue;
      try {
        const value = JSON.parse(raw) as StoredLine;
        if (typeof value.ts === 'number' && typeof value.line === 'string' && (value.stream === 'stdout' || value.stream === 'stderr')) {
          lines.push({ ts: value.ts, stream: value.stream, line: value.line, instance });
        }
      } catch {
        // a line cut by a crash mid-append
      }
    }
  }
  return lines;
}
