import { fail } from '../../errors/catalogue.ts';
import { parseDuration } from '../../lib/duration.ts';
import type { LogLine } from '../../runtime/driver.ts';
import type { InstanceRecord } from '../../store/records.ts';
import type { ApiDeps } from '../deps.ts';
import { sendJson } from '../http.ts';
import type { Router } from '../router.ts';
import { EventStream } from '../sse.ts';
import { requireApp } from './common.ts';

const MAX_TAIL = 10_000;

/** GET /v1/apps/:app/logs: the app's output across its instances, merged by time; `follow=1` streams. */
export function logRoutes(router: Router, deps: ApiDeps): void {
  const { store, driver, clock } = deps.ctx;

  router.on('GET', '/v1/apps/:app/logs', async (req, res, { app }, url) => {
    requireApp(deps, app);
    const tail = Math.min(Number(url.searchParams.get('tail') ?? 100), MAX_TAIL);
    if (!Number.isInteger(tail) || tail < 0) throw fail('REQUEST_INVALID', { issues: [{ path: 'tail', message: 'must be a whole number', fix: 'tail=100' }] });
    const sinceMs = parseSince(url.searchParams.get('since'), clock.now());
    const process = url.searchParams.get('process') ?? undefined;
    const follow = url.searchParams.get('follow') === '1';

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
    const controller = new AbortController();
    req.on('close', () => controller.abort());
    const followed = new Set<string>();
    const followInstance = async (instance: InstanceRecord) => {
      followed.add(instance.id);
      try {
        for await (const line of driver.logs(instance.id, { follow: true, tail: 0, signal: controller.signal })) stream.send('log', view(instance, line));
      } catch {}
    };
    // New instances (a deploy, a restart) join the stream as they appear.
    while (!controller.signal.aborted && !stream.closed) {
      for (const instance of store.instances.live(app)) {
        if (!followed.has(instance.id) && (!process || instance.process === process)) void followInstance(instance);
      }
      await clock.sleep(1000, controller.signal).catch(() => {});
    }
  });
}

/** `since` as an ISO time or a duration back from now (`10m`). */
function parseSince(value: string | null, now: number): number | undefined {
  if (value === null || value === '') return undefined;
  const duration = parseDuration(value);
  if (duration !== undefined) return now - duration;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw fail('REQUEST_INVALID', { issues: [{ path: 'since', message: `"${value}" is neither a time nor a duration`, fix: 'since=10m or since=2026-11-22T10:00:00Z' }] });
  return time;
}
