/**
 * The byte formats of the engine's streaming answers, as pure code over chunks (no I/O):
 * - newline-delimited JSON objects (build output, image import, events);
 * - the multiplexed stream of a container without a TTY (logs, exec output): frames of an 8-byte header
 *   [stream type, 0, 0, 0, uint32 big-endian size] then `size` bytes of payload, split anywhere by the socket;
 * - log lines with the engine's RFC3339Nano timestamp prefix.
 */
import { StringDecoder } from 'node:string_decoder';
import type { LogEntry } from './engine.ts';
import { EngineError } from './engine-transport.ts';

/**
 * Parses each line of a newline-delimited JSON stream as it completes. With `maxLineChars`, a line longer
 * than that many characters fails the stream instead of growing without bound.
 */
export async function* jsonObjects(chunks: AsyncIterable<Buffer | string>, options: { maxLineChars?: number } = {}): AsyncGenerator<Record<string, unknown>> {
  const decoder = new StringDecoder('utf8');
  const max = options.maxLineChars ?? Infinity;
  let pending = '';
  const parse = (line: string) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      throw new EngineError(0, `the engine sent a line that is not JSON: ${line.slice(0, 200)}`, { cause: error });
    }
  };
  for await (const chunk of chunks) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line) yield parse(line);
    }
    if (pending.length > max) throw new EngineError(0, `the engine sent a line longer than ${max} characters`);
  }
  pending += decoder.end();
  if (pending.trim()) yield parse(pending.trim());
}

/** Text that arrives in pieces, handed on as whole lines (without `\n` or `\r`); `end` flushes a last partial line. */
export function lineSink(onLine: (line: string) => void): { push(text: string): void; end(): void } {
  let pending = '';
  return {
    push(text) {
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        onLine(pending.slice(0, newline).replace(/\r$/, ''));
        pending = pending.slice(newline + 1);
      }
    },
    end() {
      if (pending) onLine(pending.replace(/\r$/, ''));
      pending = '';
    },
  };
}

export type FrameStream = 'stdin' | 'stdout' | 'stderr' | 'system';
export interface Frame {
  stream: FrameStream;
  payload: Buffer;
}

const FRAME_HEADER = 8;
const STREAMS: Record<number, FrameStream> = { 0: 'stdin', 1: 'stdout', 2: 'stderr', 3: 'system' };

/** Reassembles frames from chunks cut anywhere (inside a header too). */
export function frameDemuxer(): { push(chunk: Buffer): Frame[]; readonly pendingBytes: number } {
  let buffer: Buffer = Buffer.alloc(0);
  return {
    push(chunk) {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      const frames: Frame[] = [];
      while (buffer.length >= FRAME_HEADER) {
        const type = buffer[0];
        const stream = STREAMS[type];
        if (!stream || buffer[1] !== 0 || buffer[2] !== 0 || buffer[3] !== 0) {
          throw new EngineError(0, `the engine sent a stream that is not multiplexed (header byte ${type}); was the container created with a TTY?`);
        }
        const size = buffer.readUInt32BE(4);
        if (buffer.length < FRAME_HEADER + size) break;
        frames.push({ stream, payload: buffer.subarray(FRAME_HEADER, FRAME_HEADER + size) });
        buffer = buffer.subarray(FRAME_HEADER + size);
      }
      return frames;
    },
    get pendingBytes() {
      return buffer.length;
    },
  };
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2}) /;

/** `2024-05-01T12:34:56.123456789Z ` at the start of `text` -> epoch ms and the length of the prefix. */
export function parseLogTimestamp(text: string): { ts: number; length: number } | undefined {
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  // Date.parse reads at most milliseconds reliably; the engine writes nanoseconds.
  const fraction = (match[2] ?? '').slice(0, 3).padEnd(3, '0');
  const ts = Date.parse(`${match[1]}.${fraction}${match[3]}`);
  return Number.isNaN(ts) ? undefined : { ts, length: match[0].length };
}

/** Epoch ms as the engine's `since`/`until` parameter: seconds and nine digits of nanoseconds. */
export function engineTime(epochMs: number): string {
  const ms = Math.max(0, Math.floor(epochMs));
  return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1_000_000).padStart(9, '0')}`;
}

/**
 * Turns log frames into one entry per line. With timestamps, the engine writes one log message per frame,
 * each prefixed with its time. A line longer than the log driver's buffer (16 KiB for json-file) arrives as
 * several messages, each with its own prefix and only the last ending in `\n`: they are joined into one
 * line carrying the first part's time. A partial line at the very end is flushed by `end`.
 */
export function logAssembler(options: { timestamps: boolean }): { push(frame: Frame): LogEntry[]; end(): LogEntry[] } {
  const state = { stdout: newLineState(), stderr: newLineState() };
  const entries: LogEntry[] = [];

  const emit = (stream: 'stdout' | 'stderr', line: LineState) => {
    const text = Buffer.concat(line.parts).toString('utf8').replace(/\r$/, '');
    entries.push({ stream, ts: line.ts, line: text });
    line.parts = [];
    line.open = false;
  };

  return {
    push(frame) {
      if (frame.stream === 'system') throw new EngineError(500, `the engine reported: ${frame.payload.toString('utf8').trim()}`);
      if (frame.stream === 'stdin') return [];
      const line = state[frame.stream];
      let data = frame.payload;
      let frameStart = true;
      while (data.length > 0) {
        // Every message starts with a timestamp; a continuation of an open line keeps the first part's time.
        if (options.timestamps && (frameStart || !line.open)) {
          const head = data.subarray(0, 64).toString('latin1');
          const parsed = parseLogTimestamp(head);
          if (parsed) {
            if (!line.open) line.ts = parsed.ts;
            data = data.subarray(parsed.length);
          }
        }
        if (!line.open && !options.timestamps) line.ts = Date.now();
        frameStart = false;
        line.open = true;
        const newline = data.indexOf(10);
        if (newline < 0) {
          line.parts.push(data);
          break;
        }
        line.parts.push(data.subarray(0, newline));
        emit(frame.stream, line);
        data = data.subarray(newline + 1);
      }
      return entries.splice(0);
    },
    end() {
      for (const stream of ['stdout', 'stderr'] as const) if (state[stream].open) emit(stream, state[stream]);
      return entries.splice(0);
    },
  };
}

interface LineState {
  parts: Buffer[];
  ts: number;
  open: boolean;
}

function newLineState(): LineState {
  return { parts: [], ts: 0, open: false };
}
