import { fail } from '../errors/catalogue.ts';
import type { Manifest } from '../manifest/schema.ts';
import { closest } from '../manifest/suggest.ts';

export type Strategy = Manifest['deploy']['strategy'];
export const STRATEGIES: readonly Strategy[] = ['blue-green', 'rolling', 'canary'];

/** What `berth deploy` may change for one deploy, beside berth.yaml. */
export interface DeployOptions {
  /** `--strategy`: replaces `deploy.strategy` for this deploy only. */
  strategy?: Strategy;
  /** `--skip-checks`: the check pipeline does not run; the deployment's events and the audit say so. */
  skipChecks?: boolean;
}

/** The strategy a query string asked for, checked (REQUEST_INVALID naming `strategy`); undefined: berth.yaml's. */
export function checkStrategy(value: string | undefined): Strategy | undefined {
  if (value === undefined) return undefined;
  if ((STRATEGIES as readonly string[]).includes(value)) return value as Strategy;
  const guess = closest(value, STRATEGIES);
  throw fail('REQUEST_INVALID', {
    issues: [{ path: 'strategy', message: `unknown strategy ${JSON.stringify(value.slice(0, 40))}`, fix: guess ? `did you mean ${guess}?` : `one of: ${STRATEGIES.join(', ')}` }],
  });
}

/** The strategy a deployment runs with: the option, else the release's berth.yaml. */
export const strategyOf = (manifest: Manifest, options: DeployOptions | undefined): Strategy => options?.strategy ?? manifest.deploy.strategy;
