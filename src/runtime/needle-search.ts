/**
 * Finds where any of a fixed set of strings occurs in a text, in one pass (Wu-Manber): a table built once
 * per set says, for the last two characters of a window as long as the shortest string, how far the
 * window can move without passing an occurrence. Most windows of ordinary text end in a pair no string
 * has, so the scan moves nearly a shortest-string length at a time and rarely compares strings at all.
 * A single RegExp alternation of the same strings is tried at every position, and with a hundred
 * strings (a PEM key's lines, in several spellings) it was 50 times slower per line.
 */

/** Table slots per pair the strings hold, so few pairs of ordinary text share a slot with one of theirs. */
const SLOTS_PER_PAIR = 64;
const MIN_BITS = 12;
const MAX_BITS = 16;
/** Shifts are kept in bytes: a window longer than this moves at most this far (still correct, a bit slower). */
const MAX_SHIFT = 255;

export class NeedleSearch {
  /** The shortest string's length: the window. At least 2. */
  readonly #window: number;
  readonly #bits: number;
  /** How far the window may move when it ends in a pair with this hash. */
  readonly #shift: Uint8Array;
  /** Strings whose first #window characters end in a pair with this hash, longest first. */
  readonly #candidates = new Map<number, string[]>();

  /** `needles`: at least two characters each. */
  constructor(needles: readonly string[]) {
    if (needles.some((n) => n.length < 2)) throw new Error('NeedleSearch: every string needs at least two characters');
    const window = Math.min(...needles.map((n) => n.length));
    const pairs = needles.length * (window - 1);
    this.#window = window;
    this.#bits = Math.min(MAX_BITS, Math.max(MIN_BITS, Math.ceil(Math.log2(pairs * SLOTS_PER_PAIR))));
    this.#shift = new Uint8Array(1 << this.#bits).fill(Math.min(window - 1, MAX_SHIFT));
    for (const needle of [...new Set(needles)].sort((a, b) => b.length - a.length)) {
      for (let j = 1; j < window; j++) {
        const hash = this.#hash(needle.charCodeAt(j - 1), needle.charCodeAt(j));
        this.#shift[hash] = Math.min(this.#shift[hash], window - 1 - j);
      }
      const end = this.#hash(needle.charCodeAt(window - 2), needle.charCodeAt(window - 1));
      const list = this.#candidates.get(end);
      if (list) list.push(needle);
      else this.#candidates.set(end, [needle]);
    }
  }

  #hash(a: number, b: number): number {
    return Math.imul((a << 16) | b, 0x9e3779b1) >>> (32 - this.#bits);
  }

  /**
   * Calls `found(start, end)` for each position where a string starts, with the longest one there, in
   * increasing order of start (occurrences may overlap).
   */
  scan(text: string, found: (start: number, end: number) => void): void {
    const window = this.#window;
    const shift = this.#shift;
    for (let last = window - 1; last < text.length; ) {
      const hash = this.#hash(text.charCodeAt(last - 1), text.charCodeAt(last));
      const step = shift[hash];
      if (step > 0) {
        last += step;
        continue;
      }
      const start = last - window + 1;
      for (const needle of this.#candidates.get(hash) ?? []) {
        if (text.startsWith(needle, start)) {
          found(start, start + needle.length);
          break;
        }
      }
      last += 1;
    }
  }
}
