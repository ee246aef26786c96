/**
 * build() of the fake driver: plans the build like every driver (shared build plan, so the failing
 * command and the inferred start command are the real ones), but "runs" it by following the source's
 * `.berth-fake.json`: log its buildLog lines, take buildDelayMs, fail when it says so.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../../errors/catalogue.ts';
import type { Clock } from '../../lib/clock.ts';
import { planBuild, readSource, stepFailure } from '../build-plan.ts';
import type { BuildRequest, BuildResult } from '../driver.ts';
import { FAKE_BEHAVIOUR_FILE, type FakeBehaviour } from './behaviour.ts';
import type { FakeArtifact } from './state.ts';

export async function fakeBuild(options: { request: BuildRequest; clock: Clock }): Promise<{ artifact: FakeArtifact; result: BuildResult }> {
  const { request, clock } = options;
  request.signal.throwIfAborted();
  const source = readSource(request.sourceDir);
  const plan = planBuild({ packageJson: source.packageJson, files: source.files, command: request.command });
  const behaviour = readBehaviour(request.sourceDir);
  if (behaviour.buildDelayMs) await clock.sleep(behaviour.buildDelayMs, request.signal);
  for (const step of plan.steps) request.log(`$ ${step.command}`);
  for (const line of behaviour.buildLog ?? []) request.log(line);
  if (behaviour.build === 'fail') {
    const step = plan.steps.find((s) => s.kind === 'build') ?? plan.steps[0];
    throw fail('BUILD_FAILED', {
      reason: step ? stepFailure(step, { code: 1, signal: null }) : `${FAKE_BEHAVIOUR_FILE} says the build fails`,
    });
  }
  return {
    artifact: { behaviour },
    result: { artifact: `fake://${request.app}/${request.buildId}`, ...(plan.inferredCommand ? { inferredCommand: plan.inferredCommand } : {}) },
  };
}

function readBehaviour(dir: string): FakeBehaviour {
  const path = join(dir, FAKE_BEHAVIOUR_FILE);
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as FakeBehaviour;
  } catch (error) {
    throw fail('BUILD_FAILED', { reason: `${FAKE_BEHAVIOUR_FILE} is not valid JSON (${(error as Error).message})` }).because(error);
  }
}
