import { followAppLogs, readAppLogs, type InstanceLine } from '../../deploy/app-logs.ts';
import { requireApp } from '../../deploy/apps.ts';
import { fail } from '../../errors/catalogue.ts';
import { parseDuration } from '../../lib/duration.ts';
import type { ApiDeps } from '../deps.ts';
import { operations } from '../operations.ts';
import type { LogLine } from '../../model/wire.ts';
import { answer } from '../responses.ts';
import type { Router } from '../router.ts';
import { EventStream } from '../sse.ts';

/** GET /v1/apps/:app/logs: the app's output across its instances, merged by time; `follow=1` streams. */
export function logRoutes(router: Router, deps: ApiDeps): void {
  const { store, clock } = deps.ctx;

  router.on(operations.logs, async ({ res, params: { app }, query }) => {
    requireApp(deps.ctx, app);
    const { tail, process, follow } = query;
    const sinceMs = parseSince(query.since, clock.now());

    const releaseNames = new Map(store.releases.listByApp(app).map((r) => [r.id, `v${r.version}`]));
    const view = ({ instance, line }: InstanceLine): LogLine => ({
      ts: new Date(line.ts).toISOString(),
      stream: line.stream,
      line: line.line,
      instance: instance.id,
      process: instance.process,
      release: releaseNames.get(instance.releaseId) ?? instance.releaseId,
    });
    const read = await readAppLogs(deps.ctx, app, { tail, process, sinceMs });
    if (!follow) return answer(res, 'logs', 200, { lines: read.lines.map(view) });

    const stream = new EventStream(res);
    for (const line of read.lines) stream.send('log', view(line));
    await followAppLogs(deps.ctx, app, read, { process, signal: stream.signal, onLine: (line) => stream.send('log', view(line)) });
  });
}

/** `since` as an ISO time or a duration back from now (`10m`). */
function parseSince(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const duration = parseDuration(value);
  if (duration !== undefined) return now - duration;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw fail('REQUEST_INVALID', { issues: [{ path: 'since', message: `${JSON.stringify(value)} is neither a time nor a duration`, fix: 'since=10m or since=2026-11-22T10:00:00Z' }] });
  return time;
}
