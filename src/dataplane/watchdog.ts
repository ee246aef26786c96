import type { Logger } from '../lib/log.ts';

/**
 * Keeps the data plane up: checks it every few seconds and, when it stops answering, starts it again
 * and republishes the routes. The proxy outliving the daemon is the normal case; this covers the
 * proxy dying while the daemon runs.
 */
export function watchDataPlane(options: {
  alive: () => Promise<boolean>;
  restart: () => Promise<void>;
  log: Logger;
  everyMs?: number;
}): () => void {
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      if (!(await options.alive())) {
        options.log.warn('the proxy stopped answering; starting it again');
        await options.restart();
      }
    } catch (error) {
      options.log.error('restarting the proxy failed', { error: error as Error });
    } finally {
      busy = false;
    }
  }, options.everyMs ?? 2000);
  timer.unref();
  return () => clearInterval(timer);
}
