import { planRun, runOneOff } from '../../deploy/run-once.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { pathRedactor } from '../redact-paths.ts';
import type { RunExit, RunOutput } from '../../model/wire.ts';
import type { Router } from '../router.ts';
import { EventStream } from '../sse.ts';

/**
 * POST /v1/apps/:app/run `{ "command": "node scripts/seed.js", "timeoutSeconds": 600 }`: the command runs
 * once in a fresh instance of the current release (../../deploy/run-once.ts). The answer is an event
 * stream: `output` lines, then one `exit`. Closing the stream stops the command.
 */
export function runRoutes(router: Router, deps: ApiDeps): void {
  const redactPaths = pathRedactor(deps.config.dataDir);
  router.on(operations.run, async ({ res, params: { app }, body }) => {
    // Refusals come before the stream opens, as JSON errors with their status.
    const run = planRun(deps.ctx, { app, command: body.command, timeoutSeconds: body.timeoutSeconds });
    const stream = new EventStream(res);
    try {
      const outcome = await runOneOff(deps.ctx, run, { signal: stream.signal, onLine: (line) => stream.send('output', line satisfies RunOutput) });
      // Why a run could not start may name server paths: the client sees them as DATA/...
      stream.send('exit', ('error' in outcome ? { ...outcome, error: redactPaths(outcome.error) } : outcome) satisfies RunExit);
    } finally {
      stream.close();
    }
  });
}
