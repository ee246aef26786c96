/**
 * The policies berth ships (the seed's), written to DATA/policies/defaults.yaml on the first start
 * only: when the policies directory does not exist yet. The user may edit the file or delete it; a
 * deleted file is not written again, as the directory stays.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic-file.ts';

/**
 * The disk threshold is 1 GiB rather than the seed's 10 GB: laptops and CI machines running berth's
 * own tests and `npm run up` often have less than 10 GB free, and a default that blocks every deploy
 * there would be switched off rather than tuned. The seed's value is in the comment, one edit away.
 * The load threshold is 10 x the cores: the deploy's own build (npm ci, a docker build) has just raised the
 * 1-minute load when the gate asks, so only a machine that is truly overloaded refuses.
 */
export const DEFAULT_POLICIES_YAML = `# berth's server policies: CEL expressions, true = allowed. Edit the thresholds here; berth reads
# this file again before each use (no restart). Delete it to drop these rules: it is written only on
# berth's first start. \`berth policy list\` shows every policy; \`berth policy check APP\` tries them.
# Facts: host.diskFreeBytes, host.load1, host.memoryFreeBytes, host.memoryTotalBytes, host.cores,
# app.name, release.version, release.image, release.env (names), release.processes (name -> replicas),
# release.checks; at canary_step and promote also canary.* and stable.* (requests, requestsPerSecond,
# errorRate 0..1, p50, p95, p99 in ms).
policies:
  - name: disk-free
    when: deploy
    # The seed's threshold, 10 GB: host.diskFreeBytes >= 10000000000
    expr: host.diskFreeBytes >= 1073741824
    message: less than 1 GiB free on the data directory's filesystem; free some space (berth prune, docker system prune) before deploying
  - name: load
    when: deploy
    expr: host.load1 <= 10.0 * double(host.cores)
    message: the 1-minute load average is above 10 x the cores; deploy when the machine is less busy
  - name: canary-error-rate
    when: canary_step
    expr: canary.errorRate <= 0.01
    message: the canary's error rate is above 1 %
  - name: canary-p99
    when: canary_step
    expr: canary.p99 <= 500.0
    message: the canary's p99 latency is above 500 ms
  - name: promote-error-rate
    when: promote
    expr: canary.errorRate <= 0.01
    message: the canary's error rate is above 1 %; promotion refused
  - name: promote-p99
    when: promote
    expr: canary.p99 <= 500.0
    message: the canary's p99 latency is above 500 ms; promotion refused
`;

/** Writes the defaults when `dir` (DATA/policies) does not exist yet; true when it wrote them. */
export function writeDefaultPolicies(dir: string): boolean {
  if (existsSync(dir)) return false;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(join(dir, 'defaults.yaml'), DEFAULT_POLICIES_YAML, 0o600);
  return true;
}
