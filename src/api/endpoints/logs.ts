import { fail } from '../../errors/catalogue.ts';
import { parseDuration } from '../../lib/duration.ts';
import type { LogLine } from '../../runtime/driver.ts';
import type { InstanceRecord } from '../../model/records.ts';
import type { ApiDeps } from '../deps.ts';
import { sendJson } from '../http.ts';
import { operations } from '../operations.ts';
import type { Router } from '../router.ts';
import { EventStream } from '../sse.ts';
import { requireApp } from './common.ts';

/** GET /v1/apps/:app/logs: the app's output across its instances, merged by time; `follow=1` streams. */
export function logRoutes(router: Router, deps: ApiDeps): void {
  const { store, driver, clock } = deps.ctx;

  router.on(operations.logs, async ({ res, params: { app }, query }) => {
    requireApp(deps, app);
    const { tail, process, follow } = query;
    const sinceMs = parseSince(query.since, clock.now());

    const releaseNames = new Map(store.releases.listByApp(app).map((r) => [r.id, `v${r.version}`]));
    const view = (instance: InstanceRecord, line: LogLine) => ({
      ts: new Date(line.ts).toISOString(),
      stream: line.stream,
      line: line.line,
      instance: instance.id,
      process: instance.process,
      release: releaseNames.get(instance.releaseId) ?? instance.releaseId,
    });
    const instances = store.instances
      .all(app)
      .filter((i) => !process || i.process === process)
      .slice(-40);
    const past: { instance: InstanceRecord; line: LogLine }[] = [];
    for (const instance of instances) {
      for await (const line of driver.logs(instance.id, { sinceMs, tail })) past.push({ instance, line });
    }
    past.sort((a, b) => a.line.ts - b.line.ts);
    const lines = past.slice(Math.max(0, past.length - tail)).map((x) => view(x.instance, x.line));
    if (!follow) return sendJson(res, 200, { lines });

    const stream = new EventStream(res);
    for (const line of lines) stream.send('log', line);
    // Instances already known continue after the lines just sent; ones that appear later (a deploy, a
    // restart) are followed from their first line.
    const seenUntil = new Map<string, number>();
    for (const { instance, line } of past) seenUntil.set(instance.id, Math.max(seenUntil.get(instance.id) ?? 0, line.ts + 1));
    const startedAt = clock.now();
    const followed = new Set<string>();
    const followInstance = async (instance: InstanceRecord, sinceMs: number | undefined) => {
      followed.add(instance.id);
      try {
        for await (const line of driver.logs(instance.id, { follow: true, sinceMs, signal: stream.signal })) stream.send('log', view(instance, line));
      } catch {}
    };
    for (const instance of store.instances.live(app)) {
      if (!process || instance.process === process) void followInstance(instance, seenUntil.get(instance.id) ?? startedAt);
    }
    while (!stream.closed) {
      await clock.sleep(1000, stream.signal).catch(() => {});
      for (const instance of store.instances.live(app)) {
        if (!followed.has(instance.id) && (!process || instance.process === process)) void followInstance(instance, undefined);
      }
    }
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
