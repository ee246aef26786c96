import { emit } from '../../deploy/emit.ts';
import { oneOffSpecFor } from '../../deploy/instance-spec.ts';
import { releaseVars, requireCurrentRelease } from '../../deploy/releases.ts';
import { newId } from '../../lib/ids.ts';
import { createMasker } from '../../runtime/mask-secrets.ts';
import type { ApiDeps } from '../deps.ts';
import { readJsonBody } from '../http.ts';
import type { Router } from '../router.ts';
import { EventStream } from '../sse.ts';
import { asObject, invalid, requireApp } from './common.ts';

const DEFAULT_TIMEOUT_S = 30 * 60;
const MAX_TIMEOUT_S = 24 * 60 * 60;

/**
 * POST /v1/apps/:app/run `{ "command": "node scripts/seed.js", "timeoutSeconds": 600 }`: the command runs
 * once in a fresh instance of the current release, with its env (a one-off container on the docker
 * runtime, on the app's network). The answer is an event stream: `output` lines, then one `exit`.
 * Closing the stream stops the command.
 */
export function runRoutes(router: Router, deps: ApiDeps): void {
  const { store, driver } = deps.ctx;
  router.on('POST', '/v1/apps/:app/run', async (req, res, { app }) => {
    requireApp(deps, app);
    const release = requireCurrentRelease(deps.ctx, app);
    const body = asObject(await readJsonBody(req));
    if (typeof body.command !== 'string' || !body.command.trim()) invalid([{ path: 'command', message: 'must be a non-empty command line', fix: '{"command": "node scripts/seed.js"}' }]);
    const timeoutSeconds = body.timeoutSeconds === undefined ? DEFAULT_TIMEOUT_S : body.timeoutSeconds;
    if (typeof timeoutSeconds !== 'number' || !(timeoutSeconds >= 1 && timeoutSeconds <= MAX_TIMEOUT_S)) {
      invalid([{ path: 'timeoutSeconds', message: `must be a number of seconds from 1 to ${MAX_TIMEOUT_S}`, fix: '{"timeoutSeconds": 600}' }]);
    }
    const build = store.builds.get(release.buildId)!;
    const command = body.command as string;
    const vars = releaseVars(deps.ctx, release);
    const stream = new EventStream(res);
    const id = newId('run');
    const spec = oneOffSpecFor({
      id,
      release,
      build,
      command,
      vars,
      timeoutMs: (timeoutSeconds as number) * 1000,
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
      const reason = stream.closed ? 'the client went away' : mask((error as Error).message);
      const result = { exitCode: null, timedOut: false, error: reason };
      emit(deps.ctx, { app, deploymentId: null }, 'run.finished', `run stopped (${reason}): ${masked}`, { run: id, ...result });
      stream.send('exit', result);
    } finally {
      stream.close();
    }
  });
}
