/**
 * Reading the access log's files (src/dataplane/access-log.ts: `access.log`, rotated `access-<stamp>.log`)
 * with bounded memory, whatever their size or content: backwards in chunks from the end for a tail, and
 * forwards from an offset to follow the current file across rotations. A line longer than MAX_LINE_BYTES
 * (the proxy writes none: it is damage or not ours) is skipped whole, never held; a torn last line (the
 * writer mid-batch) is left for the follower, which reads it once it is complete.
 */
import type { FileHandle } from 'node:fs/promises';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ACCESS_LOG_CURRENT, ROTATED_ACCESS_LOG } from '../dataplane/access-log.ts';

/** parseAccessLine refuses longer lines; a little more so a refused one is still seen whole and dropped. */
export const MAX_LINE_BYTES = 16 * 1024 + 1;
const CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/** The files, newest first: the current one (when it exists), then the rotated ones by their stamp. */
export async function accessLogFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const rotated = names.filter((n) => ROTATED_ACCESS_LOG.test(n)).sort().reverse();
  return [...(names.includes(ACCESS_LOG_CURRENT) ? [ACCESS_LOG_CURRENT] : []), ...rotated].map((n) => join(dir, n));
}

/** Where the last complete line of a file ends (a torn line after it is not read yet). */
export async function lastLineEnd(fh: FileHandle, size: number): Promise<number> {
  const start = Math.max(0, size - CHUNK_BYTES);
  const buf = Buffer.alloc(size - start);
  await readFully(fh, buf, start);
  const idx = buf.lastIndexOf(NEWLINE);
  if (idx >= 0) return start + idx + 1;
  // No line end in the last chunk: nothing complete (a small file) or an endless line (start after it).
  return start === 0 ? 0 : size;
}

/**
 * The complete lines of `fh` before `end`, last first, read CHUNK_BYTES at a time: one batch per chunk
 * (one await per chunk, not per line). `onBytes` is told how many bytes each chunk read, so a caller can
 * stop the scan at its bound.
 */
export async function* linesBackward(fh: FileHandle, end: number, onBytes: (n: number) => void = () => {}): AsyncGenerator<string[]> {
  let pos = end;
  let carry = Buffer.alloc(0);
  // Inside a line too long to keep: its bytes are dropped up to the newline before it.
  let skipping = false;
  while (pos > 0) {
    const size = Math.min(CHUNK_BYTES, pos);
    pos -= size;
    const buf = Buffer.alloc(size);
    await readFully(fh, buf, pos);
    onBytes(size);
    let data: Buffer;
    if (skipping) {
      const idx = buf.lastIndexOf(NEWLINE);
      if (idx < 0) continue;
      skipping = false;
      data = buf.subarray(0, idx);
      carry = Buffer.alloc(0);
    } else {
      data = carry.length > 0 ? Buffer.concat([buf, carry]) : buf;
    }
    // data ends where a line ends; its part before the first newline may begin in the chunk before.
    const batch: string[] = [];
    let stop = data.length;
    for (let idx = data.lastIndexOf(NEWLINE, stop - 1); idx >= 0; idx = stop > 0 ? data.lastIndexOf(NEWLINE, stop - 1) : -1) {
      if (stop - idx - 1 > 0 && stop - idx - 1 <= MAX_LINE_BYTES) batch.push(data.toString('utf8', idx + 1, stop));
      stop = idx;
    }
    if (batch.length > 0) yield batch;
    carry = Buffer.from(data.subarray(0, stop));
    if (carry.length > MAX_LINE_BYTES) {
      carry = Buffer.alloc(0);
      skipping = true;
    }
  }
  if (!skipping && carry.length > 0) yield [carry.toString('utf8')];
}

/** Where a follow starts: the current file as a read of its tail opened it (the follow takes the handle over). */
export interface FollowStart {
  handle: FileHandle;
  ino: number;
  offset: number;
}

/**
 * Follows the current file from `offset` until `signal` aborts, passing each complete line to `onLine`.
 * Every `pollMs` it reads what was appended; when `access.log` is renamed away (rotated) and made again,
 * it reads the rest of the old file, then the new one from its start. A file cut shorter is read again
 * from its start. At most `maxBytesPerPoll` are read per poll, so a burst never holds the event loop long.
 */
export async function followCurrentFile(
  dir: string,
  from: FollowStart | null,
  io: { signal: AbortSignal; pollMs: number; maxBytesPerPoll?: number; onLine(line: string): void },
): Promise<void> {
  const path = join(dir, ACCESS_LOG_CURRENT);
  const budget = io.maxBytesPerPoll ?? 4 * 1024 * 1024;
  let fh: FileHandle | null = null;
  let ino = -1;
  let offset = 0;
  let carry = Buffer.alloc(0);
  let skipping = false;
  const take = (buf: Buffer) => {
    let start = 0;
    for (let idx = buf.indexOf(NEWLINE); idx >= 0; idx = buf.indexOf(NEWLINE, start)) {
      const piece = buf.subarray(start, idx);
      const length = carry.length + piece.length;
      if (!skipping && length > 0 && length <= MAX_LINE_BYTES) io.onLine(Buffer.concat([carry, piece]).toString('utf8'));
      carry = Buffer.alloc(0);
      skipping = false;
      start = idx + 1;
    }
    const rest = buf.subarray(start);
    if (skipping || carry.length + rest.length > MAX_LINE_BYTES) {
      carry = Buffer.alloc(0);
      skipping = true;
    } else if (rest.length > 0) carry = Buffer.concat([carry, rest]);
  };
  const readNew = async (handle: FileHandle): Promise<void> => {
    const size = (await handle.stat()).size;
    if (size < offset) offset = 0; // cut shorter (truncated in place): read again from the start
    let left = budget;
    while (offset < size && left > 0) {
      const buf = Buffer.alloc(Math.min(CHUNK_BYTES, size - offset, left));
      const n = await readFully(handle, buf, offset);
      if (n === 0) break;
      offset += n;
      left -= n;
      take(buf.subarray(0, n));
    }
  };
  const openCurrent = async (): Promise<void> => {
    try {
      fh = await open(path, 'r');
      ino = (await fh.stat()).ino;
    } catch {
      fh = null;
    }
  };
  try {
    // The handle the tail read used: lines appended to it before a rotation are still read.
    if (from) ({ handle: fh, ino, offset } = from);
    while (!io.signal.aborted) {
      if (!fh) {
        await openCurrent();
        offset = 0;
      }
      if (fh) {
        await readNew(fh);
        const now = await stat(path).catch(() => null);
        if (!now || now.ino !== ino) {
          // Rotated: what was appended to the old file before the rename is read, then the new file.
          await readNew(fh);
          await (fh as FileHandle).close();
          fh = null;
          carry = Buffer.alloc(0);
          skipping = false;
          if (now) continue;
        }
      }
      await sleep(io.pollMs, io.signal);
    }
  } finally {
    await (fh as FileHandle | null)?.close().catch(() => {});
  }
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
