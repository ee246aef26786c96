/**
 * The calls whose answer is a container's multiplexed output: GET /containers/{id}/logs and exec
 * (POST /containers/{id}/exec, POST /exec/{id}/start, GET /exec/{id}/json).
 */
import type { LogEntry } from './engine.ts';
import { engineTime, frameDemuxer, logAssembler } from './engine-streams.ts';
import { EngineError, segment, type EngineTransport } from './engine-transport.ts';

export interface LogsOptions {
  /** Unix time in seconds, fractions allowed (the engine's own unit); lines stamped at exactly this time are included. */
  since?: number;
  tail?: number;
  follow?: boolean;
  signal?: AbortSignal;
}

export async function* containerLogs(transport: EngineTransport, id: string, options: LogsOptions): AsyncGenerator<LogEntry> {
  const { signal } = options;
  if (signal?.aborted) return;
  let res;
  try {
    res = await transport.open('GET', `/containers/${segment(id)}/logs`, {
      query: {
        stdout: true,
        stderr: true,
        timestamps: true,
        since: options.since === undefined ? undefined : engineTime(options.since * 1000),
        tail: options.tail === undefined ? 'all' : Math.max(0, Math.floor(options.tail)),
        follow: options.follow ?? false,
      },
      signal,
    });
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  }
  const demux = frameDemuxer();
  const lines = logAssembler({ timestamps: true });
  try {
    for await (const chunk of res) {
      for (const frame of demux.push(chunk as Buffer)) yield* lines.push(frame);
    }
    yield* lines.end();
  } catch (error) {
    // An abort is the caller saying "enough": the stream simply ends.
    if (signal?.aborted) return;
    throw error;
  } finally {
    res.destroy();
  }
}

/** Output kept from an exec: health check commands say little, and a runaway one must not fill memory. */
const MAX_EXEC_OUTPUT = 1024 * 1024;

export async function exec(transport: EngineTransport, id: string, cmd: string[], timeoutMs: number, user?: string): Promise<{ exitCode: number; output: string }> {
  const deadline = Date.now() + timeoutMs;
  const timedOut = () => new EngineError(0, `exec ${JSON.stringify(cmd)} in ${id} did not finish within ${timeoutMs} ms`);
  const created = await transport.call<{ Id: string }>('POST', `/containers/${segment(id)}/exec`, {
    body: { Cmd: cmd, AttachStdin: false, AttachStdout: true, AttachStderr: true, Tty: false, ...(user !== undefined ? { User: user } : {}) },
    timeoutMs,
  });
  const execId = created.body.Id;

  // The engine hijacks the start call's connection and closes it when the command ends: never a pooled socket.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(timedOut()), timeoutMs);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    const res = await transport.open('POST', `/exec/${segment(execId)}/start`, { body: { Detach: false, Tty: false }, signal: controller.signal });
    const demux = frameDemuxer();
    try {
      for await (const chunk of res) {
        for (const frame of demux.push(chunk as Buffer)) {
          if (frame.stream !== 'stdout' && frame.stream !== 'stderr') continue;
          if (size >= MAX_EXEC_OUTPUT) continue;
          const kept = frame.payload.subarray(0, MAX_EXEC_OUTPUT - size);
          chunks.push(kept);
          size += kept.length;
        }
      }
    } finally {
      res.destroy();
    }
  } catch (error) {
    // The command may still run inside the container: the engine has no call to stop an exec.
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    clearTimeout(timer);
  }

  // The output closes a moment before the engine records the exit code.
  for (;;) {
    const state = await transport.call<{ Running: boolean; ExitCode: number | null }>('GET', `/exec/${segment(execId)}/json`);
    if (!state.body.Running && state.body.ExitCode !== null) return { exitCode: state.body.ExitCode, output: Buffer.concat(chunks).toString('utf8') };
    if (Date.now() >= deadline) throw timedOut();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
