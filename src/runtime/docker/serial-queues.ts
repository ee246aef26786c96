/**
 * One queue per instance: every change to an instance (start, stop, restart, event handling) runs after
 * the ones queued before it, so they never interleave; different instances go on in parallel. A failed
 * operation rejects for its caller only, never for the operations queued after it.
 */
export class SerialQueues {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `op` after everything already queued for `key`. */
  run<T>(key: string, op: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(op);
    const tail = result.then(
      () => {},
      () => {},
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Settles once everything queued so far has run. */
  settled(): Promise<unknown> {
    return Promise.allSettled([...this.#tails.values()]);
  }

  /** Keys with something queued or running. */
  get size(): number {
    return this.#tails.size;
  }
}
