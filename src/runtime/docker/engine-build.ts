/**
 * POST /build with the legacy builder: the context tar is the request body, the answer a stream of JSON
 * messages (`stream` output text, `aux` with the image id, `error` when a step fails).
 */
import type { Readable } from 'node:stream';
import type { BuildOptions, BuildResult, ImageSummary } from './engine.ts';
import { jsonObjects, lineSink } from './engine-streams.ts';
import { EngineError, type EngineTransport } from './engine-transport.ts';

export async function buildImage(
  transport: EngineTransport,
  inspectImage: (ref: string) => Promise<ImageSummary | undefined>,
  context: Readable,
  options: BuildOptions,
  onLine: (line: string) => void,
): Promise<BuildResult> {
  const { signal } = options;
  const res = await transport.open('POST', '/build', {
    query: {
      t: options.tags,
      labels: JSON.stringify(options.labels),
      dockerfile: options.dockerfile,
      buildargs: options.buildArgs ? JSON.stringify(options.buildArgs) : undefined,
      memory: options.memoryBytes,
      // Without memswap the engine allows as much swap again as memory; equal values mean no swap.
      memswap: options.memoryBytes,
      cpuquota: options.cpuQuota,
      cpuperiod: options.cpuPeriod,
      rm: true,
      forcerm: true,
      pull: false,
    },
    body: context,
    contentType: 'application/x-tar',
    signal,
  });

  const lines = lineSink(onLine);
  let imageId: string | undefined;
  try {
    for await (const message of jsonObjects(res)) {
      if (message.error !== undefined) {
        lines.end();
        const detail = (message.errorDetail as { message?: string } | undefined)?.message;
        throw new EngineError(500, String(detail || message.error).trim());
      }
      if (typeof message.stream === 'string') lines.push(message.stream);
      const aux = message.aux as { ID?: unknown } | undefined;
      if (typeof aux?.ID === 'string') imageId = aux.ID;
    }
  } catch (error) {
    // Destroying the request on abort surfaces here as a connection error; the abort is what happened.
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    res.destroy();
  }
  lines.end();
  if (signal?.aborted) throw signal.reason;

  if (!imageId && options.tags.length > 0) imageId = (await inspectImage(options.tags[0]))?.Id;
  if (!imageId) throw new EngineError(500, 'the build finished without saying which image it made');
  return { imageId };
}
