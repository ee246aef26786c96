import type { Logger } from '../lib/log.ts';

/**
 * Each runbook step registers how to undo its own work; a failure undoes in reverse order and only
 * what was done. An undo that fails is logged and the rest still run.
 */
export class UndoStack {
  readonly #steps: { what: string; undo: () => Promise<void> | void }[] = [];

  push(what: string, undo: () => Promise<void> | void): void {
    this.#steps.push({ what, undo });
  }

  async run(log: Logger): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step.undo();
      } catch (error) {
        log.error('undo failed', { step: step.what, error: error as Error });
      }
    }
  }
}

/** The last lines of output, for the failure report. */
export class Tail {
  readonly #lines: string[] = [];
  readonly #size: number;
  constructor(size = 30) {
    this.#size = size;
  }
  push(line: string): void {
    this.#lines.push(line.length > 500 ? line.slice(0, 500) + '…' : line);
    if (this.#lines.length > this.#size) this.#lines.shift();
  }
  lines(): string[] {
    return [...this.#lines];
  }
}
