import { createGunzip, type Gunzip } from 'node:zlib';
import { fail, isBerthError } from '../errors/catalogue.ts';

export interface Decompression {
  /** The uncompressed bytes. Fails with BODY_TOO_LARGE or ARCHIVE_INVALID (not gzip, corrupt, truncated). */
  output: AsyncIterator<Buffer>;
  /** Stops decompressing after a failure elsewhere; no more input is read. */
  stop(): void;
}

/**
 * Decompresses `input` while counting its compressed bytes against `maxCompressedBytes`.
 *
 * The input is pulled with `next()` only while zlib has room (backpressure reaches the socket), and it
 * is never destroyed or drained here: on a failure reading simply stops. An HTTP handler can then still
 * answer 413/400 (with `Connection: close`) instead of the client seeing a reset connection.
 */
export function gunzipLimited(input: AsyncIterable<Uint8Array>, options: { maxCompressedBytes: number }): Decompression {
  const gunzip = createGunzip();
  // The first failure, kept here because the stream may fail before anyone iterates it (the
  // iterator only listens for errors once started), and an unheard 'error' would crash the process.
  let failure: unknown;
  gunzip.on('error', (error) => {
    failure ??= error;
  });
  pump(input[Symbol.asyncIterator](), gunzip, options.maxCompressedBytes).catch((error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    gunzip.destroy(isBerthError(error) ? error : fail('ARCHIVE_INVALID', { reason: `reading the upload failed (${reason})` }));
  });
  const chunks = gunzip[Symbol.asyncIterator]();
  const output: AsyncIterator<Buffer> = {
    async next() {
      let next: IteratorResult<Buffer>;
      try {
        next = (await chunks.next()) as IteratorResult<Buffer>;
      } catch (error) {
        throw zlibFailure(failure ?? error);
      }
      if (next.done && failure) throw zlibFailure(failure);
      return next;
    },
  };
  return { output, stop: () => gunzip.destroy() };
}

async function pump(source: AsyncIterator<Uint8Array>, gunzip: Gunzip, limit: number): Promise<void> {
  let total = 0;
  let head = Buffer.alloc(0);
  for (;;) {
    const next = await source.next();
    if (gunzip.destroyed) return;
    if (next.done) break;
    total += next.value.byteLength;
    if (total > limit) throw fail('BODY_TOO_LARGE', { limit });
    // Checked here rather than from zlib's "incorrect header check", which also covers garbage after a member.
    if (head.length < 2) {
      head = Buffer.concat([head, next.value.subarray(0, 2 - head.length)]);
      if (head.length === 2 && (head[0] !== 0x1f || head[1] !== 0x8b)) {
        throw fail('ARCHIVE_INVALID', { reason: 'it is not gzip-compressed (it does not start with the gzip magic bytes)' });
      }
    }
    if (!gunzip.write(next.value)) await drainedOrClosed(gunzip);
    if (gunzip.destroyed) return;
  }
  if (total === 0) throw fail('ARCHIVE_INVALID', { reason: 'the upload is empty' });
  gunzip.end();
}

function drainedOrClosed(gunzip: Gunzip): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      gunzip.off('drain', done);
      gunzip.off('close', done);
      resolve();
    };
    gunzip.on('drain', done);
    gunzip.on('close', done);
  });
}

/** zlib's errors in the catalogue's words; our own errors (limits, input failures) pass through. */
function zlibFailure(error: unknown): unknown {
  if (isBerthError(error)) return error;
  const { code, message } = error as { code?: string; message?: string };
  if (code === 'Z_BUF_ERROR') return fail('ARCHIVE_INVALID', { reason: 'the gzip stream is truncated' });
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return fail('ARCHIVE_INVALID', { reason: `the gzip data is corrupt (${message})` });
  }
  return error;
}
