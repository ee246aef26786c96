import { fail } from '../errors/catalogue.ts';
import type { Clock } from '../lib/clock.ts';
import type { ProbeResult } from './probe.ts';

export interface GateOptions {
  probe: () => Promise<ProbeResult>;
  clock: Clock;
  intervalMs: number;
  /** Consecutive successes needed. */
  healthyAfter: number;
  deadlineMs: number;
  signal?: AbortSignal;
  /** Checked before every probe: a reason when the instance is gone (exited), so the gate fails at once. */
  gone?: () => string | undefined;
  onProbe?: (result: ProbeResult, consecutive: number) => void;
}

/**
 * The health gate: probe every `intervalMs` until `healthyAfter` probes in a row succeed, or fail with
 * HEALTH_CHECK_FAILED (START_FAILED if the instance exited) once the deadline passes. Pure apart from
 * the injected probe and clock, so its timing is tested without sleeping.
 */
export async function waitHealthy(options: GateOptions): Promise<void> {
  const deadline = options.clock.now() + options.deadlineMs;
  let consecutive = 0;
  let failures = 0;
  let last: ProbeResult | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    const gone = options.gone?.();
    if (gone) throw fail('START_FAILED', { reason: gone });
    last = await options.probe();
    if (last.ok) consecutive++;
    else {
      consecutive = 0;
      failures++;
    }
    options.onProbe?.(last, consecutive);
    if (consecutive >= options.healthyAfter) return;
    const goneAfter = options.gone?.();
    if (goneAfter) throw fail('START_FAILED', { reason: goneAfter });
    if (options.clock.now() + options.intervalMs > deadline) {
      throw fail('HEALTH_CHECK_FAILED', {
        reason: `${failures} of ${failures + consecutive} probes failed within ${Math.round(options.deadlineMs / 1000)} s; the last one: ${last.error ?? 'ok'}`,
      });
    }
    await options.clock.sleep(options.intervalMs, options.signal);
  }
}
