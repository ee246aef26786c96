/** The variables berth sets for every instance; they win over the app's own env (ENV_NAME_RESERVED). */
import type { InstanceSpec } from './driver.ts';

export function berthVariables(spec: Pick<InstanceSpec, 'id' | 'app' | 'release' | 'process'>): Record<string, string> {
  return { BERTH_APP: spec.app, BERTH_RELEASE: spec.release, BERTH_PROCESS: spec.process, BERTH_INSTANCE: spec.id };
}
