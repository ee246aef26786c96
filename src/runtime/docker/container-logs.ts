/**
 * The docker driver's logs of instances: read from the container while it exists (masked with its secret
 * values), and from berth's archive (./archive-logs.ts) once stop() has removed it, having kept them first.
 */
import type { LogLine, LogPruneResult, LogQuery } from '../driver.ts';
import { selectLogLines } from '../log-query.ts';
import { createMasker } from '../mask-secrets.ts';
import { LogArchive } from './archive-logs.ts';
import type { ContainerInspect, DockerEngine } from './engine.ts';
import { secretValues } from './inspect-info.ts';
import { containerName, LABEL } from './names.ts';

type EngineLogOptions = Parameters<DockerEngine['containerLogs']>[1];

/** What the engine is asked for a query: it counts `since` in seconds; the exact cut is made on each line. */
export function engineLogOptions(query: LogQuery): EngineLogOptions {
  const since = query.sinceMs !== undefined ? query.sinceMs / 1000 : undefined;
  return { ...(since !== undefined ? { since } : {}), ...(query.tail !== undefined ? { tail: query.tail } : {}), follow: query.follow === true, ...(query.signal ? { signal: query.signal } : {}) };
}

export class ContainerLogs {
  readonly #engine: DockerEngine;
  readonly #archive: LogArchive;

  /** `root`: where the logs of stopped instances are kept (DATA/runtime/docker/logs). */
  constructor(engine: DockerEngine, root: string) {
    this.#engine = engine;
    this.#archive = new LogArchive(root);
  }

  /** Copies what a container wrote into berth's archive (masked), so it outlives the container. */
  async keep(info: ContainerInspect): Promise<void> {
    const labels = info.Config.Labels;
    const mask = createMasker(secretValues(info));
    const lines = [];
    for await (const entry of this.#engine.containerLogs(info.Id, {})) lines.push({ ts: entry.ts, stream: entry.stream, line: mask(entry.line) });
    this.#archive.save({ app: labels[LABEL.app] ?? 'unknown', release: labels[LABEL.release] ?? 'unknown', id: labels[LABEL.instance] }, lines);
  }

  /** An instance's lines, oldest first: from its container, or from the archive once the container is gone. */
  read(id: string, query: LogQuery): AsyncIterable<LogLine> {
    const engine = this.#engine;
    const archive = this.#archive;
    return {
      async *[Symbol.asyncIterator]() {
        const info = await engine.inspectContainer(containerName(id));
        if (!info) {
          for (const line of selectLogLines(archive.read(id) ?? [], query)) yield line;
          return;
        }
        const mask = createMasker(secretValues(info));
        const entries = engine.containerLogs(info.Id, engineLogOptions(query));
        try {
          for await (const entry of entries) {
            const line: LogLine = { ts: entry.ts, stream: entry.stream, line: mask(entry.line), instance: id };
            if (query.sinceMs === undefined || line.ts >= query.sinceMs) yield line;
          }
        } catch (error) {
          if (!query.signal?.aborted) throw error;
        }
      },
    };
  }

  /**
   * Retention by age for the archive. Live containers' logs are the engine's: json-file, at most
   * max-size x max-file (./container-spec.ts: LOG_CONFIG), without an age limit; they go with the container.
   */
  prune(cutoff: number): LogPruneResult {
    return this.#archive.prune(cutoff);
  }

  /** Forgets the kept logs of an app, or of one of its releases. */
  remove(app: string, release?: string): void {
    this.#archive.remove(app, release);
  }
}
