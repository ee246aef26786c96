import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ACCESS_LOG_CURRENT, ROTATED_ACCESS_LOG, rotatedAccessLogName, type AccessEntry, type AccessLogStats } from '../../dataplane/access-log.ts';
import { accessLine, type AccessSink } from './entry.ts';

export interface AccessLogOptions {
  dir: string;
  /** The current file is rotated before it would pass this size. */
  maxFileBytes: number;
  /** Rotated files older than this are deleted (at each rotation and hourly). */
  keepDays: number;
  /** A write starts this long after the first line waiting (default 100 ms)... */
  flushMs?: number;
  /** ...or as soon as this much waits (default 256 KiB). */
  flushBytes?: number;
  /** Lines waiting or being written, at most (default 8 MiB): past it new lines are dropped and counted. */
  maxBufferedBytes?: number;
  now?: () => number;
  /** Told about failed writes, at most once a minute. */
  warn?: (message: string) => void;
}

const HOUR_MS = 60 * 60_000;
/** Lines are copied into buffers of this size as they come: no string per line outlives the request. */
const CHUNK_BYTES = 256 * 1024;
/** Spare chunks kept for reuse once written. */
const SPARE_CHUNKS = 2;

/** A buffer of whole lines: `bytes` of it used, holding `lines` lines. */
interface Chunk {
  buf: Buffer;
  bytes: number;
  lines: number;
}
const DAY_MS = 24 * HOUR_MS;
const WARN_EVERY_MS = 60_000;

/**
 * The access log, written off the hot path: `add` copies a line into a buffer and returns (the line's
 * string dies young, so the proxy's small young generation does not promote a batch of them); one write
 * at a time takes every buffer waiting (one writev), every `flushMs` or at `flushBytes`. A disk that stalls or fails never
 * blocks a request or grows memory without bound: past `maxBufferedBytes` lines are dropped and counted,
 * and a batch whose write fails is dropped and counted. The file is opened for each batch, so a folder
 * removed under it is made again and a file moved away by another tool is simply started anew.
 */
export class AccessLogWriter implements AccessSink {
  readonly #o: Required<Omit<AccessLogOptions, 'warn'>> & Pick<AccessLogOptions, 'warn'>;
  readonly #current: string;
  /** Full chunks waiting, then the one being filled (`#current` is it, or null). */
  #chunks: Chunk[] = [];
  #filling: Chunk | null = null;
  readonly #spare: Buffer[] = [];
  /** Bytes waiting plus those being written. */
  #pending = 0;
  #writing: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #pruneTimer: NodeJS.Timeout;
  /** Size of the current file, -1 until read. */
  #size = -1;
  #lastRotation = 0;
  #lastWarning = -Infinity;
  #closed = false;
  readonly #stats: AccessLogStats;

  constructor(options: AccessLogOptions) {
    this.#o = { flushMs: 100, flushBytes: 256 * 1024, maxBufferedBytes: 8 * 1024 * 1024, now: Date.now, ...options };
    this.#current = join(options.dir, ACCESS_LOG_CURRENT);
    this.#stats = { dir: options.dir, maxFileBytes: options.maxFileBytes, keepDays: options.keepDays, lines: 0, dropped: 0, failures: 0, rotations: 0 };
    this.#pruneTimer = setInterval(() => void this.#prune().catch(() => {}), HOUR_MS);
    this.#pruneTimer.unref();
  }

  add(entry: AccessEntry): void {
    const line = accessLine(entry);
    if (this.#closed) {
      this.#stats.dropped++;
      return;
    }
    // At most 3 UTF-8 bytes per UTF-16 unit: a chunk with that much room takes the line whole.
    let chunk = this.#filling;
    if (chunk === null || chunk.bytes + line.length * 3 > chunk.buf.length) chunk = this.#freshChunk(line.length * 3);
    const bytes = chunk.buf.write(line, chunk.bytes, 'utf8');
    if (this.#pending + bytes > this.#o.maxBufferedBytes) {
      this.#stats.dropped++; // written past `bytes` only: the chunk's used length is not moved
      return;
    }
    chunk.bytes += bytes;
    chunk.lines++;
    this.#pending += bytes;
    if (this.#writing !== null) return; // the running write looks at these when it is done
    if (this.#pending >= this.#o.flushBytes) this.#flushNow();
    else this.#schedule();
  }

  /** A write `flushMs` from now, unless one is planned already. */
  #schedule(): void {
    if (this.#timer !== null) return;
    this.#timer = setTimeout(() => this.#flushNow(), this.#o.flushMs);
    this.#timer.unref();
  }

  /** Seals the chunk being filled (if it has lines) and starts another that has room for `need` bytes. */
  #freshChunk(need: number): Chunk {
    if (this.#filling !== null && this.#filling.lines > 0) this.#chunks.push(this.#filling);
    const buf = need <= CHUNK_BYTES ? (this.#spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES)) : Buffer.allocUnsafeSlow(need);
    this.#filling = { buf, bytes: 0, lines: 0 };
    return this.#filling;
  }

  /** Takes every chunk waiting (the one being filled too), leaving none. */
  #takeWaiting(): Chunk[] {
    const batch = this.#chunks;
    if (this.#filling !== null && this.#filling.lines > 0) batch.push(this.#filling);
    this.#chunks = [];
    this.#filling = null;
    return batch;
  }

  get #waiting(): boolean {
    return this.#chunks.length > 0 || (this.#filling !== null && this.#filling.lines > 0);
  }

  stats(): AccessLogStats {
    return { ...this.#stats };
  }

  /** Writes what waits and stops; lines still waiting after `timeoutMs` (a stalled disk) are dropped and counted. */
  async close(timeoutMs = 2000): Promise<void> {
    this.#closed = true;
    clearInterval(this.#pruneTimer);
    const deadline = Date.now() + timeoutMs;
    while ((this.#waiting || this.#writing !== null) && Date.now() < deadline) {
      if (this.#writing === null) this.#flushNow();
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([this.#writing, new Promise((r) => (timeout = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timeout);
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const chunk of this.#takeWaiting()) this.#stats.dropped += chunk.lines;
  }

  #flushNow(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#writing !== null || !this.#waiting) return;
    const batch = this.#takeWaiting();
    const bytes = batch.reduce((n, c) => n + c.bytes, 0);
    const lines = batch.reduce((n, c) => n + c.lines, 0);
    this.#writing = this.#write(batch)
      .then(
        () => {
          this.#stats.lines += lines;
        },
        (error: Error) => {
          this.#stats.dropped += lines;
          this.#stats.failures++;
          this.#warn(`access log: ${lines} lines dropped: ${error.message}`);
        },
      )
      .finally(() => {
        this.#pending -= bytes;
        for (const chunk of batch) if (chunk.buf.length === CHUNK_BYTES && this.#spare.length < SPARE_CHUNKS) this.#spare.push(chunk.buf);
        this.#writing = null;
        // Lines that came during the write wait for the usual moment (a full batch, or the interval): going
        // again at once would turn a busy proxy's log into a loop of small writes, an open and close each.
        if (this.#pending >= this.#o.flushBytes) this.#flushNow();
        else if (this.#waiting) this.#schedule();
      });
  }

  /**
   * Appends the batch, rotating whenever the next line would take the current file past its size (cut at
   * the last newline that fits: no line is torn; a single line longer than the limit gets a file of its own).
   */
  async #write(batch: Chunk[]): Promise<void> {
    if (this.#size < 0) this.#size = await sizeOf(this.#current);
    const max = this.#o.maxFileBytes;
    let pieces: Buffer[] = [];
    let piecesBytes = 0;
    for (const { buf, bytes } of batch) {
      let start = 0;
      while (start < bytes) {
        const room = max - this.#size - piecesBytes;
        if (bytes - start <= room) {
          pieces.push(buf.subarray(start, bytes));
          piecesBytes += bytes - start;
          break;
        }
        const cut = room > 0 ? buf.lastIndexOf(0x0a, start + room - 1) : -1;
        let end = cut >= start ? cut + 1 : start;
        // Nothing fits and the file is empty: the line is longer than a file may be; it goes whole.
        if (end === start && this.#size + piecesBytes === 0) end = buf.indexOf(0x0a, start) + 1;
        if (end > start) {
          pieces.push(buf.subarray(start, end));
          piecesBytes += end - start;
          start = end;
        }
        await this.#append(pieces, piecesBytes);
        pieces = [];
        piecesBytes = 0;
        await this.#rotate();
      }
    }
    await this.#append(pieces, piecesBytes);
  }

  async #append(pieces: Buffer[], bytes: number): Promise<void> {
    if (bytes === 0) return;
    const file = await openForAppend(this.#current, this.#o.dir);
    try {
      await file.writev(pieces);
    } finally {
      await file.close();
    }
    this.#size += bytes;
  }

  async #rotate(): Promise<void> {
    // Two rotations in one millisecond must not share a name (the second would replace the first).
    const at = Math.max(this.#o.now(), this.#lastRotation + 1);
    this.#lastRotation = at;
    await rename(this.#current, join(this.#o.dir, rotatedAccessLogName(new Date(at)))).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    this.#size = 0;
    this.#stats.rotations++;
    await this.#prune().catch((error: Error) => this.#warn(`access log: old files not pruned: ${error.message}`));
  }

  /** Deletes rotated files older than `keepDays` (by the time in their name: when they were rotated). */
  async #prune(): Promise<void> {
    const oldest = this.#o.now() - this.#o.keepDays * DAY_MS;
    for (const name of await readdir(this.#o.dir)) {
      const stamp = ROTATED_ACCESS_LOG.exec(name)?.[1];
      if (!stamp) continue;
      const at = Date.parse(`${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13)}`);
      if (at < oldest) await unlink(join(this.#o.dir, name)).catch(() => {});
    }
  }

  #warn(message: string): void {
    const now = Date.now();
    if (now - this.#lastWarning < WARN_EVERY_MS) return;
    this.#lastWarning = now;
    this.#o.warn?.(message);
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** The current file, for appending (0600: it names clients' addresses); its folder made again when gone. */
async function openForAppend(path: string, dir: string) {
  try {
    return await open(path, 'a', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return await open(path, 'a', 0o600);
  }
}
