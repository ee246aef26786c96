/**
 * What the fake driver's health checks and one-off runs answer, as the artifact's `.berth-fake.json`
 * scripts them (./behaviour.ts): a heartbeat is fresh unless the process hangs, a check command is `exit N`
 * or what the behaviour says, and a one-off run prints its lines, takes its time and exits with its code.
 */
import { fail } from '../../errors/catalogue.ts';
import type { Clock } from '../../lib/clock.ts';
import type { HealthCheck, HealthResult, OneOffResult, OneOffSpec } from '../driver.ts';
import { createMasker } from '../mask-secrets.ts';
import { expand } from './behaviour.ts';
import type { FakeArtifact, FakeInstance } from './state.ts';

/** checkHealth() of one instance at `now` (pure). */
export function fakeHealth(id: string, r: FakeInstance | undefined, check: HealthCheck, now: number): HealthResult {
  if (!r || r.state !== 'running') return { ok: false, detail: `instance ${id} is not running` };
  if (check.heartbeat) {
    if (check.heartbeat.file !== r.behaviour.heartbeatFile) return { ok: false, detail: `heartbeat ${check.heartbeat.file} does not exist yet` };
    const hung = r.behaviour.hangAfterMs !== undefined && now - (r.processStartedAt ?? 0) > r.behaviour.hangAfterMs;
    return hung ? { ok: false, detail: `heartbeat ${check.heartbeat.file} is stale` } : { ok: true, detail: 'heartbeat fresh' };
  }
  const literal = /^exit (\d+)$/.exec(check.command ?? '');
  if (literal) return literal[1] === '0' ? { ok: true, detail: 'exited 0' } : { ok: false, detail: `exited with code ${literal[1]}` };
  return r.behaviour.check === 'fail' ? { ok: false, detail: 'the check failed' } : { ok: true, detail: 'ok' };
}

/** runOnce() from an artifact, on the driver's clock. */
export async function runFakeOneOff(artifact: FakeArtifact | undefined, spec: OneOffSpec, clock: Clock): Promise<OneOffResult> {
  if (!artifact) throw fail('START_FAILED', { reason: `artifact ${spec.artifact} does not exist` });
  const mask = createMasker(spec.secrets);
  const plan = artifact.behaviour.oneOff?.[spec.command] ?? {};
  for (const line of plan.output ?? []) spec.onLine({ stream: 'stdout', line: mask(expand(line, spec.env)) });
  const delay = plan.delayMs ?? 0;
  if (delay > spec.timeoutMs) {
    await clock.sleep(spec.timeoutMs, spec.signal);
    return { exitCode: null, timedOut: true };
  }
  if (delay > 0) await clock.sleep(delay, spec.signal);
  return { exitCode: plan.exitCode ?? 0, timedOut: false };
}
