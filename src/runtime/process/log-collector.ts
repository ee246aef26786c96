/**
 * Moves instance output from the raw files the apps append to into the masked, time-stamped store.
 * Runs on a timer in the daemon (unref'd: it never keeps the daemon alive), and on demand before a log
 * read. Progress (byte offset per stream) is kept in <base>.pos after each batch, so a restarted daemon
 * resumes where the last one stopped; a crash between store append and pos write repeats that batch.
 * The pos file is replaced by rename but not fsynced: losing it costs duplicates, not data.
 * A raw file over truncateBytes that has been fully read is truncated: the app writes with O_APPEND, so
 * its next write lands at the new end. A write landing between our size check and the truncate is lost.
 * When a pass masked a secret, the bytes it read from that file are overwritten with zeros once its lines
 * are stored and the new position saved (an O_APPEND writer never writes below the end, so this races
 * with nothing): the app's secret stays in the raw file only until the pass that collects it, not until
 * the file is truncated or removed (unless the daemon dies between saving the position and the scrub).
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import type { Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/log.ts';
import type { LogLine } from '../driver.ts';
import { createMasker, type Masker } from '../mask-secrets.ts';
import type { LogFiles } from './layout.ts';
import { splitLines } from './line-splitter.ts';
import { appendToStore, type StoredLine } from '../log-store.ts';

export interface LogSource {
  id: string;
  files: LogFiles;
  secrets: string[];
}

export interface LogCollectorOptions {
  clock: Clock;
  log: Logger;
  intervalMs?: number;
  maxLineLength?: number;
  rotateBytes?: number;
  truncateBytes?: number;
  /** Most bytes read per stream per pass, so one chatty instance cannot stall the daemon. */
  maxReadBytes?: number;
}

export interface LogCollector {
  /** Starts collecting a source on every tick (replaces an earlier source with the same id). */
  add(source: LogSource): void;
  remove(id: string): void;
  /** Collects one source now; `final` also takes a last line without newline (the writer is gone). */
  collect(source: LogSource, options?: { final?: boolean }): void;
  /** The registered source for an id, if any. */
  source(id: string): LogSource | undefined;
  /** Listens for lines as they are stored. */
  onLines(id: string, listener: (line: LogLine) => void): () => void;
  start(): void;
  stop(): void;
}

type Stream = 'stdout' | 'stderr';
interface Position {
  offset: number;
  skipping: boolean;
}
type Positions = Record<Stream, Position>;

export function createLogCollector(options: LogCollectorOptions): LogCollector {
  const intervalMs = options.intervalMs ?? 200;
  const maxLineLength = options.maxLineLength ?? 16 * 1024;
  const rotateBytes = options.rotateBytes ?? 5 * 1024 * 1024;
  const truncateBytes = options.truncateBytes ?? 1024 * 1024;
  const maxReadBytes = Math.max(options.maxReadBytes ?? 1024 * 1024, maxLineLength * 2);
  const sources = new Map<string, LogSource>();
  const listeners = new Map<string, Set<(line: LogLine) => void>>();
  // Built once per source, not per pass: a masker covers every spelling of every secret (./mask-secrets.ts).
  const maskers = new WeakMap<LogSource, Masker>();
  const maskerFor = (source: LogSource) => {
    let mask = maskers.get(source);
    if (!mask) maskers.set(source, (mask = createMasker(source.secrets)));
    return mask;
  };
  let timer: NodeJS.Timeout | undefined;

  const readPositions = (files: LogFiles): Positions => {
    const start = (): Positions => ({ stdout: { offset: 0, skipping: false }, stderr: { offset: 0, skipping: false } });
    try {
      const value = JSON.parse(readFileSync(files.pos, 'utf8')) as Positions;
      return value?.stdout && value?.stderr ? value : start();
    } catch {
      return start();
    }
  };

  /**
   * Reads and splits what is new in one raw file; returns the still-open fd for a truncate or scrub, and
   * the byte range whose lines had a secret masked (empty when none had).
   */
  const collectStream = (path: string, position: Position, final: boolean, mask: (s: string) => string) => {
    let fd: number;
    try {
      fd = openSync(path, 'r+');
    } catch {
      return { lines: [] as string[], fd: undefined, secretFrom: 0, secretTo: 0 };
    }
    try {
      const size = fstatSync(fd).size;
      // Shorter than what we read: someone else truncated it; start over.
      if (size < position.offset) position.offset = 0;
      const length = Math.min(size - position.offset, maxReadBytes);
      const chunk = Buffer.alloc(length);
      if (length > 0) readSync(fd, chunk, 0, length, position.offset);
      const done = final && position.offset + length === size;
      let masked = false;
      const transform = (line: string) => {
        const out = mask(line);
        if (out !== line) masked = true;
        return out;
      };
      const result = splitLines(chunk, { maxLineLength, skipping: position.skipping, final: done, transform });
      const from = position.offset;
      position.offset += result.consumed;
      position.skipping = result.skipping;
      return { lines: result.lines, fd, secretFrom: from, secretTo: masked ? position.offset : from };
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  };

  const collect = (source: LogSource, opts: { final?: boolean } = {}) => {
    const mask = maskerFor(source);
    const positions = readPositions(source.files);
    const before = JSON.stringify(positions);
    const ts = options.clock.now();
    const stored: StoredLine[] = [];
    const fds: { stream: Stream; fd: number; secretFrom: number; secretTo: number }[] = [];
    try {
      for (const stream of ['stdout', 'stderr'] as const) {
        const { lines, ...read } = collectStream(source.files[stream], positions[stream], opts.final ?? false, mask);
        if (read.fd !== undefined) fds.push({ stream, ...read, fd: read.fd });
        for (const line of lines) stored.push({ ts, stream, line });
      }
      appendToStore(source.files.store, stored, rotateBytes);
      const truncated = new Set<Stream>();
      for (const { stream, fd } of fds) {
        const position = positions[stream];
        if (position.offset < truncateBytes || fstatSync(fd).size !== position.offset) continue;
        ftruncateSync(fd, 0);
        position.offset = 0;
        truncated.add(stream);
      }
      if (JSON.stringify(positions) !== before) writePositions(source.files.pos, positions);
      for (const { stream, fd, secretFrom, secretTo } of fds) {
        if (secretTo > secretFrom && !truncated.has(stream)) writeSync(fd, Buffer.alloc(secretTo - secretFrom), 0, secretTo - secretFrom, secretFrom);
      }
    } finally {
      for (const { fd } of fds) closeSync(fd);
    }
    for (const line of stored) {
      for (const listener of listeners.get(source.id) ?? []) listener({ ...line, instance: source.id });
    }
  };

  const tick = () => {
    for (const source of sources.values()) {
      try {
        collect(source);
      } catch (error) {
        options.log.warn('log collection failed', { instance: source.id, error: error as Error });
      }
    }
  };

  return {
    add: (source) => void sources.set(source.id, source),
    remove: (id) => void sources.delete(id),
    collect,
    source: (id) => sources.get(id),
    onLines(id, listener) {
      const set = listeners.get(id) ?? new Set();
      set.add(listener);
      listeners.set(id, set);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(id);
      };
    },
    start() {
      if (timer) return;
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      tick();
    },
  };
}

function writePositions(path: string, positions: Positions): void {
  const temp = `${path}.tmp`;
  writeFileSync(temp, JSON.stringify(positions), { mode: 0o600 });
  renameSync(temp, path);
}
