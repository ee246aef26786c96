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
const DAY_MS = 24 * HOUR_MS;
const WARN_EVERY_MS = 60_000;

/**
 * The access log, written off the hot path: `add` appends a line to memory and returns; one write at a
 * time takes everything waiting, every `flushMs` or at `flushBytes`. A disk that stalls or fails never
 * blocks a request or grows memory without bound: past `maxBufferedBytes` lines are dropped and counted,
 * and a batch whose write fails is dropped and counted. The file is opened for each batch, so a folder
 * removed under it is made again and a file moved away by another tool is simply started anew.
 */
export class AccessLogWriter implements AccessSink {
  readonly #o: Required<Omit<AccessLogOptions, 'warn'>> & Pick<AccessLogOptions, 'warn'>;
  readonly #current: string;
  #lines: string[] = [];
  /** Characters waiting plus those being written (lines are ASCII but for a rare UTF-8 byte). */
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
    if (this.#closed || this.#pending + line.length > this.#o.maxBufferedBytes) {
      this.#stats.dropped++;
      return;
    }
    this.#lines.push(line);
    this.#pending += line.length;
    if (this.#writing !== null) return; // the running write picks these up when it is done
    if (this.#pending >= this.#o.flushBytes) this.#flushNow();
    else if (this.#timer === null) {
      this.#timer = setTimeout(() => this.#flushNow(), this.#o.flushMs);
      this.#timer.unref();
    }
  }

  stats(): AccessLogStats {
    return { ...this.#stats };
  }

  /** Writes what waits and stops; lines still waiting after `timeoutMs` (a stalled disk) are dropped and counted. */
  async close(timeoutMs = 2000): Promise<void> {
    this.#closed = true;
    clearInterval(this.#pruneTimer);
    const deadline = Date.now() + timeoutMs;
    while ((this.#lines.length > 0 || this.#writing !== null) && Date.now() < deadline) {
      if (this.#writing === null) this.#flushNow();
      let timeout: NodeJS.Timeout | undefined;
      await Promise.race([this.#writing, new Promise((r) => (timeout = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timeout);
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#stats.dropped += this.#lines.length;
    this.#lines = [];
  }

  #flushNow(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#writing !== null || this.#lines.length === 0) return;
    const batch = this.#lines;
    this.#lines = [];
    const chars = batch.reduce((n, l) => n + l.length, 0);
    this.#writing = this.#write(batch)
      .then(
        () => {
          this.#stats.lines += batch.length;
        },
        (error: Error) => {
          this.#stats.dropped += batch.length;
          this.#stats.failures++;
          this.#warn(`access log: ${batch.length} lines dropped: ${error.message}`);
        },
      )
      .finally(() => {
        this.#pending -= chars;
        this.#writing = null;
        if (this.#lines.length > 0) this.#flushNow();
      });
  }

  /** Appends the batch, rotating first whenever the next piece would take the current file past its size. */
  async #write(batch: string[]): Promise<void> {
    if (this.#size < 0) this.#size = await sizeOf(this.#current);
    let piece: string[] = [];
    let pieceBytes = 0;
    for (const line of batch) {
      const bytes = Buffer.byteLength(line);
      if (this.#size + pieceBytes + bytes > this.#o.maxFileBytes && this.#size + pieceBytes > 0) {
        await this.#append(piece.join(''));
        piece = [];
        pieceBytes = 0;
        await this.#rotate();
      }
      piece.push(line);
      pieceBytes += bytes;
    }
    if (piece.length > 0) await this.#append(piece.join(''));
  }

  async #append(text: string): Promise<void> {
    if (text.length === 0) return;
    const file = await openForAppend(this.#current, this.#o.dir);
    try {
      await file.write(text, null, 'utf8');
    } finally {
      await file.close();
    }
    this.#size += Buffer.byteLength(text);
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
