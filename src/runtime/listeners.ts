/**
 * What every driver shares behind RuntimeDriver.subscribe() and inspect(): the listener set (a failing
 * listener never breaks supervision or the listeners after it) and the answer for an unknown instance.
 */
import type { Logger } from '../lib/log.ts';
import type { DriverEvent, InstanceInfo } from './driver.ts';

export interface DriverListeners {
  emit(...events: DriverEvent[]): void;
  subscribe(listener: (event: DriverEvent) => void): () => void;
  clear(): void;
}

/** Without a logger a failing listener is skipped silently (the fake driver). */
export function driverListeners(log?: Logger): DriverListeners {
  const listeners = new Set<(event: DriverEvent) => void>();
  return {
    emit(...events) {
      for (const event of events) {
        for (const listener of listeners) {
          try {
            listener(event);
          } catch (error) {
            log?.error('runtime event listener failed', { type: event.type, error: error as Error });
          }
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    clear: () => listeners.clear(),
  };
}

/** inspect() of an instance the driver knows nothing of. */
export const missingInstance = (id: string): InstanceInfo => ({ id, app: '', release: '', process: '', state: 'missing', address: null, restarts: 0 });
