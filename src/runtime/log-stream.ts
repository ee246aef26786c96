/**
 * Turns "what is stored now" plus "lines as they arrive" into the AsyncIterable a LogQuery asks for.
 * The subscription is made in the same synchronous step as the read, so in follow mode no line can fall
 * between the stored lines and the followed ones, and none is yielded twice.
 */
import type { LogLine, LogQuery } from './driver.ts';
import { selectLogLines } from './log-query.ts';

export function logStream(options: {
  /** Synchronously returns every stored line, oldest first. */
  read: () => LogLine[];
  /** Registers a listener for new lines; returns the unsubscribe function. */
  subscribe: (push: (line: LogLine) => void) => () => void;
  query: LogQuery;
}): AsyncIterable<LogLine> {
  const { read, subscribe, query } = options;
  return {
    async *[Symbol.asyncIterator]() {
      const queue: LogLine[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = query.follow
        ? subscribe((line) => {
            if (query.sinceMs === undefined || line.ts >= query.sinceMs) queue.push(line);
            wake?.();
          })
        : () => {};
      try {
        for (const line of selectLogLines(read(), query)) yield line;
        if (!query.follow) return;
        const signal = query.signal;
        while (!signal?.aborted) {
          const next = queue.shift();
          if (next) {
            yield next;
            continue;
          }
          await new Promise<void>((resolve) => {
            const done = () => {
              signal?.removeEventListener('abort', done);
              wake = undefined;
              resolve();
            };
            wake = done;
            signal?.addEventListener('abort', done, { once: true });
          });
        }
      } finally {
        unsubscribe();
      }
    },
  };
}
