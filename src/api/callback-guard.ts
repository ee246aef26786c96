import { fail } from '../errors/catalogue.ts';
import { sendJson } from '../lib/json-http.ts';
import type { Logger } from '../lib/log.ts';
import { currentRequest } from './request-scope.ts';

/**
 * The daemon's last line of defence against a bug in the API: an error thrown by a callback that a
 * request set up (a timer, a stream listener, a promise nobody awaited) would end the process, and with
 * it every app's control plane. While the API listens, such an error is logged with its stack as
 * "request failed", that request is answered (or its connection cut), and the daemon keeps serving.
 * Any other uncaught error still ends the process exactly as before: it is not the API's to judge.
 * Returns the function that removes the guard.
 */
export function guardRequestCallbacks(log: Logger): () => void {
  const onUncaught = (error: unknown, origin: string) => {
    const scope = currentRequest();
    if (!scope) {
      process.off('uncaughtException', onUncaught);
      // Thrown again with no listener left: Node prints it and exits with code 1, as without the guard.
      process.nextTick(() => {
        throw error;
      });
      return;
    }
    log.error('request failed', { method: scope.method, path: scope.path, origin, error: error as Error, stack: (error as Error)?.stack });
    try {
      if (scope.res.headersSent) scope.res.destroy();
      else sendJson(scope.res, 500, { error: fail('INTERNAL', { reason: 'unexpected error' }).toJSON() });
    } catch (answering) {
      log.error('request failed', { method: scope.method, path: scope.path, origin: 'answering after an uncaught error', error: answering as Error });
      scope.res.destroy();
    }
  };
  process.on('uncaughtException', onUncaught);
  return () => process.off('uncaughtException', onUncaught);
}
