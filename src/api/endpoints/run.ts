import { emit } from '../../deploy/emit.ts';
import { oneOffSpecFor } from '../../deploy/instance-spec.ts';
import { releaseVars, requireCurrentRelease } from '../../deploy/releases.ts';
import { newId } from '../../lib/ids.ts';
import { createMasker } from '../../runtime/mask-secrets.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import { pathRedactor } from '../redact-paths.ts';
import type { Router } from '../router.ts';
import { EventStream } from '../sse.ts';
import { invalid, requireApp } from './common.ts';

const DEFAULT_TIMEOUT_S = 30 * 60;

/**
 * POST /v1/apps/:app/run `{ "command": "node scripts/seed.js", "timeoutSeconds": 600 }`: the command runs
 * once in a fresh instance of the current release, with its env (a one-off container on the docker
 * runtime, on the app's network). The answer is an event stream: `output` lines, then one `exit`.
 * Closing the stream stops the command.
 */
export function runRoutes(router: Router, deps: ApiDeps): void {
  const { store, driver } = deps.ctx;
  const redactPaths = pathRedactor(deps.config.dataDir);
  router.on(operations.run, async ({ res, params: { app }, body }) => {
    requireApp(deps, app);
    const release = requireCurrentRelease(deps.ctx, app);
    if (!body.command.trim()) invalid([{ path: 'command', message: 'must be a command line, not only spaces', fix: '{"command": "node scripts/seed.js"}' }]);
    const timeoutSeconds = body.timeoutSeconds ?? DEFAULT_TIMEOUT_S;
    const build = store.builds.get(release.buildId)!;
    const { command } = body;
    const vars = releaseVars(deps.ctx, release);
    const stream = new EventStream(res);
    const id = newId('run');
    const spec = oneOffSpecFor({
      id,
      release,
      build,
      command,
      vars,
      timeoutMs: timeoutSeconds * 1000,
      signal: stream.signal,
      onLine: (line) => stream.send('output', line),
    });
    // The audit trail names the command, with any secret in it masked.
    const mask = createMasker(spec.secrets);
    const masked = mask(command);
    emit(deps.ctx, { app, deploymentId: null }, 'run.started', `run: ${masked}`, { run: id, release: `v${release.version}` });
    try {
      const result = await driver.runOnce(spec);
      emit(deps.ctx, { app, deploymentId: null }, 'run.finished', `run ${result.timedOut ? 'timed out' : `exited with code ${result.exitCode}`}: ${masked}`, { run: id, ...result });
      stream.send('exit', result);
    } catch (error) {
      // Stopped because the client went away (Ctrl-C), or it could not run at all: the trail says which.
      const reason = stream.closed ? 'the client went away' : redactPaths(mask((error as Error).message));
      const result = { exitCode: null, timedOut: false, error: reason };
      emit(deps.ctx, { app, deploymentId: null }, 'run.finished', `run stopped (${reason}): ${masked}`, { run: id, ...result });
      stream.send('exit', result);
    } finally {
      stream.close();
    }
  });
}
