/**
 * Reference programs some tests compare berth with (nginx). Like the Docker engine (./docker.ts): where one
 * is missing, those tests skip with a message saying so; in CI (.ci/run installs them and sets
 * BERTH_REQUIRE_TOOLS=1) a missing one fails them, so CI can never pass by skipping.
 */
import { execFileSync } from 'node:child_process';

export function findTool(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/local/sbin'])) {
    try {
      execFileSync('test', ['-x', `${dir}/${name}`]);
      return `${dir}/${name}`;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The tool's path, or `{ skip }` with the reason; throws when BERTH_REQUIRE_TOOLS=1 and it is missing. */
export function toolSuite(name: string, apt: string, env: NodeJS.ProcessEnv = process.env): { path: string; skip: false } | { path: undefined; skip: string } {
  const path = findTool(name, env);
  if (path) return { path, skip: false };
  if (env.BERTH_REQUIRE_TOOLS === '1') throw new Error(`BERTH_REQUIRE_TOOLS=1 but ${name} is not installed: apt-get install ${apt} (see .ci/run)`);
  return { path: undefined, skip: `${name} is not installed (apt-get install ${apt}; BERTH_REQUIRE_TOOLS=1 fails instead)` };
}
