/**
 * One series' last hour, as per-interval deltas in typed arrays: a fixed block of memory per series
 * (720 slots of 5 s), whatever the traffic. A slot is stamped with its interval number, so a slot left
 * from an earlier lap reads as empty without being swept.
 */
import type { Reading } from './counters.ts';
import { CODE_CLASSES, emptySums, type WindowSums } from './windows.ts';

export const INTERVAL_MS = 5_000;
export const SPAN_MS = 3_600_000;

const U32_MAX = 0xffff_ffff;
/** Per slot: requests, then one count per status class, then the buckets. */
const HEAD = 1 + CODE_CLASSES.length;

export class SeriesRing {
  readonly bounds: readonly number[];
  readonly #slots: number;
  readonly #width: number;
  readonly #counts: Uint32Array;
  readonly #sumMs: Float64Array;
  /** The interval number each slot holds; -1: never written. */
  readonly #stamps: Float64Array;

  constructor(bounds: readonly number[], spanMs = SPAN_MS) {
    this.bounds = bounds;
    this.#slots = Math.ceil(spanMs / INTERVAL_MS);
    this.#width = HEAD + bounds.length + 1;
    this.#counts = new Uint32Array(this.#slots * this.#width);
    this.#sumMs = new Float64Array(this.#slots);
    this.#stamps = new Float64Array(this.#slots).fill(-1);
  }

  /** Bytes this ring holds (for the memory budget test). */
  get bytes(): number {
    return this.#counts.byteLength + this.#sumMs.byteLength + this.#stamps.byteLength;
  }

  /** Adds a delta (same bounds) into the interval `now` falls in. */
  add(now: number, d: Reading): void {
    const interval = Math.floor(now / INTERVAL_MS);
    const slot = interval % this.#slots;
    const base = slot * this.#width;
    if (this.#stamps[slot] !== interval) {
      this.#counts.fill(0, base, base + this.#width);
      this.#sumMs[slot] = 0;
      this.#stamps[slot] = interval;
    }
    const put = (i: number, n: number) => (this.#counts[base + i] = Math.min(U32_MAX, this.#counts[base + i] + Math.max(0, Math.round(n))));
    put(0, d.requests);
    CODE_CLASSES.forEach((c, i) => put(1 + i, d.status[c]));
    for (let i = 0; i <= this.bounds.length; i++) put(HEAD + i, d.buckets[i] ?? 0);
    this.#sumMs[slot] += Math.max(0, d.sumMs);
  }

  /** The sums of the intervals within `windowMs` before `now` (the interval `now` is in counts as the newest). */
  sum(now: number, windowMs: number): WindowSums {
    const sums = emptySums(this.bounds);
    const newest = Math.floor(now / INTERVAL_MS);
    const oldest = newest - Math.min(this.#slots, Math.ceil(windowMs / INTERVAL_MS)) + 1;
    for (let slot = 0; slot < this.#slots; slot++) {
      const stamp = this.#stamps[slot];
      if (stamp < oldest || stamp > newest) continue;
      const base = slot * this.#width;
      sums.requests += this.#counts[base];
      CODE_CLASSES.forEach((c, i) => (sums.status[c] += this.#counts[base + 1 + i]));
      for (let i = 0; i <= this.bounds.length; i++) sums.buckets[i] += this.#counts[base + HEAD + i];
      sums.sumMs += this.#sumMs[slot];
    }
    return sums;
  }
}
