import { writeFileAtomicAsync } from '../lib/atomic-file.ts';

/**
 * Saves what the proxy serves (its route table, its certificate set) for its own restart, without
 * stalling traffic on the disk: one write at a time, and of the values that arrive meanwhile only the
 * newest is written next. `serialize` runs at write time and may refuse (throw) with a reason.
 */
export function latestSaver<T>(options: { path: string; mode: number; serialize(value: T): string; warn(message: string): void }) {
  const { path } = options;
  let next: T | null = null;
  let writing: Promise<void> | null = null;
  const drain = async () => {
    while (next !== null) {
      const value = next;
      next = null;
      try {
        await writeFileAtomicAsync(path, options.serialize(value), options.mode);
      } catch (error) {
        options.warn(`not saved to ${path}: ${(error as Error).message}`);
      }
    }
    writing = null;
  };
  return {
    save(value: T): void {
      next = value;
      writing ??= drain();
    },
    saved: (): Promise<void> => writing ?? Promise.resolve(),
  };
}
