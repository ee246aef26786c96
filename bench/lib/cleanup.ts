/**
 * Undo actions registered as things start, run in reverse order once, whatever happened: a failed or
 * interrupted benchmark must not leave a proxy holding ports or eating CPU.
 */
export class Cleanup {
  #steps: { what: string; undo: () => void | Promise<void> }[] = [];
  #ran = false;

  add(what: string, undo: () => void | Promise<void>): void {
    this.#steps.push({ what, undo });
  }

  async run(log: (line: string) => void): Promise<void> {
    if (this.#ran) return;
    this.#ran = true;
    for (const step of this.#steps.reverse()) {
      try {
        await step.undo();
      } catch (error) {
        log(`cleanup: ${step.what} failed: ${(error as Error).message}`);
      }
    }
  }
}
