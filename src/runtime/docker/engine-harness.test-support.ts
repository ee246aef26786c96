/**
 * What the engine tests share: a real engine, a random run id put on everything they create as the label
 * `berth.test=<run id>`, and a cleanup (for an `after` hook, so it also runs when a test failed) that
 * removes whatever carries the label and then fails if anything is left. Test-only.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { ensureBusyboxImage } from '../../../test/support/docker-images.ts';
import { dataPadding, endOfArchive, entryHeaders } from '../../archive/tar-writer.ts';
import type { ContainerCreate, DockerEngine, Filters, Labels } from './engine.ts';
import { createDockerEngine } from './engine-http.ts';

export interface EngineHarness {
  engine: DockerEngine;
  runId: string;
  labels: Labels;
  /** `{ label: ['berth.test=<run id>'] }` */
  filters: Filters;
  /** A name unique to this run: `berth-test-<run id>-<what>`. */
  name(what: string): string;
  /** A tiny busybox image (shell, sleep, nslookup, wget, ...). */
  base: string;
  /** Creates (labelled) and starts a container from `base` unless `body.Image` says otherwise. */
  run(what: string, body: Partial<ContainerCreate>, options?: { start?: boolean }): Promise<string>;
  /** Removes everything this run created, then fails if the engine still lists any of it. */
  cleanup(): Promise<void>;
}

export async function engineHarness(): Promise<EngineHarness> {
  const engine = createDockerEngine();
  const runId = randomBytes(5).toString('hex');
  const labels = { 'berth.test': runId };
  const filters = { label: [`berth.test=${runId}`] };
  const base = await ensureBusyboxImage();
  const name = (what: string) => `berth-test-${runId}-${what}`;
  return {
    engine,
    runId,
    labels,
    filters,
    name,
    base,
    async run(what, body, options = {}) {
      const id = await engine.createContainer(name(what), { Image: base, ...body, Labels: { ...body.Labels, ...labels } });
      if (options.start !== false) await engine.startContainer(id);
      return id;
    },
    async cleanup() {
      for (const c of await engine.listContainers({ all: true, filters })) await engine.removeContainer(c.Id, { force: true, volumes: true });
      for (const n of await engine.listNetworks(filters)) await engine.removeNetwork(n.Id);
      for (const v of await engine.listVolumes(filters)) await engine.removeVolume(v.Name);
      for (const i of await engine.listImages(filters)) await engine.removeImage(i.Id, { force: true });
      const left = {
        containers: (await engine.listContainers({ all: true, filters })).map((c) => c.Names[0]),
        networks: (await engine.listNetworks(filters)).map((n) => n.Name),
        volumes: (await engine.listVolumes(filters)).map((v) => v.Name),
        images: (await engine.listImages(filters)).map((i) => i.Id),
      };
      assert.deepEqual(left, { containers: [], networks: [], volumes: [], images: [] }, `resources of test run ${runId} were left behind`);
    },
  };
}

/** A build context: an uncompressed tar of `files` (path -> content). */
export function contextTar(files: Record<string, string>): Readable {
  const parts: Buffer[] = [];
  for (const [path, content] of Object.entries(files)) {
    const data = Buffer.from(content);
    parts.push(entryHeaders({ path, type: 'file', size: data.length, mode: 0o644, mtime: 0 }), data, dataPadding(data.length));
  }
  parts.push(endOfArchive());
  return Readable.from([Buffer.concat(parts)]);
}

/** Collects an async iterable into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
