/**
 * Splits raw output bytes into lines. Pure: the caller keeps the byte offset and the `skipping` flag
 * (set while discarding the rest of an over-long line) between calls, so an incomplete last line is
 * simply read again next time, and a collector restart resumes exactly where it stopped.
 */
export interface SplitOptions {
  maxLineLength: number;
  /** True when the previous call cut an over-long line and its remainder is still to be discarded. */
  skipping: boolean;
  /** True when no more bytes will come (the writer is gone): a last line without newline is emitted too. */
  final: boolean;
  /** Applied to each whole line before it is shortened, so a cut never exposes part of a secret mid-line. */
  transform?: (line: string) => string;
}

export interface SplitResult {
  lines: string[];
  /** Bytes of the chunk that are done with; the rest must be offered again with more data. */
  consumed: number;
  skipping: boolean;
}

export const TRUNCATED = ' [truncated]';

export function splitLines(chunk: Buffer, options: SplitOptions): SplitResult {
  const { maxLineLength } = options;
  const transform = options.transform ?? ((line: string) => line);
  const emit = (bytes: Buffer, cut: boolean) => {
    let line = transform(bytes.toString('utf8').replace(/\r$/, ''));
    if (line.length > maxLineLength) {
      line = line.slice(0, maxLineLength);
      cut = true;
    }
    lines.push(cut ? line + TRUNCATED : line);
  };
  const lines: string[] = [];
  let skipping = options.skipping;
  let start = 0;
  for (;;) {
    const newline = chunk.indexOf(10, start);
    if (newline < 0) break;
    if (skipping) skipping = false;
    else emit(chunk.subarray(start, newline), false);
    start = newline + 1;
  }
  const rest = chunk.length - start;
  if (rest === 0) return { lines, consumed: start, skipping };
  if (skipping) return { lines, consumed: chunk.length, skipping: !options.final };
  // An unterminated line already longer than the cap: keep its head, discard the rest up to the next newline.
  if (rest > maxLineLength) {
    // The whole head goes to emit, which masks before it cuts: a cut must never expose part of a secret.
    emit(chunk.subarray(start), true);
    return { lines, consumed: chunk.length, skipping: !options.final };
  }
  if (options.final) {
    emit(chunk.subarray(start), false);
    return { lines, consumed: chunk.length, skipping: false };
  }
  return { lines, consumed: start, skipping };
}
