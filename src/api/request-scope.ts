import { AsyncLocalStorage } from 'node:async_hooks';
import type { ServerResponse } from 'node:http';
import type { Logger } from '../lib/log.ts';

/** The request a piece of work runs for, across awaits, timers and listeners it sets up. */
export interface RequestScope {
  readonly method: string;
  readonly path: string;
  readonly res: ServerResponse;
  readonly log: Logger;
  /** Server paths (the data directory, berth's own files) out of text that goes to the client. */
  readonly redact: (text: string) => string;
}

const storage = new AsyncLocalStorage<RequestScope>();

/** Runs `handle` as the work of one request: errors its callbacks throw later are still tied to it. */
export function runInRequestScope<T>(scope: RequestScope, handle: () => T): T {
  return storage.run(scope, handle);
}

/**
 * Runs `work` as nobody's request: what it starts in the background (a deployment, the shutdown) outlives
 * the request, so its errors are not the request's to swallow.
 */
export function runOutsideRequestScope<T>(work: () => T): T {
  return storage.exit(work);
}

/** The request the current code runs for, if any. */
export function currentRequest(): RequestScope | undefined {
  return storage.getStore();
}
