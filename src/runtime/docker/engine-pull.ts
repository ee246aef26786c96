/**
 * POST /images/create?fromImage=&tag= : the engine pulls an image from its registry and answers with a
 * stream of JSON progress messages (one per layer change), or with an error: as the answer when it fails
 * before the first message (404 for what the registry does not have), else as an `error` message inside
 * the stream.
 *
 * Bounded three ways: the whole pull (`timeoutMs`), the silence between two messages (`idleMs`: a registry
 * that stops sending), and the length of a line. Giving up closes the connection; the engine then cancels
 * the pull at its next progress report and discards what it downloaded, so no image is left behind. (A
 * download that is wholly stalled makes no report: Engine 20.10 keeps it open until the registry closes
 * it, and a new pull of the same layer waits on it, bounded by the same idle limit. The Engine API has no
 * call to cancel a pull.) Failures are catalogue errors (./pull-errors.ts), except "the engine itself
 * cannot be reached", which stays the EngineError every other call gives.
 */
import type { PullProgress } from '../driver.ts';
import { fail, isBerthError } from '../../errors/catalogue.ts';
import { jsonObjects } from './engine-streams.ts';
import { EngineError, type EngineTransport } from './engine-transport.ts';
import { registryOf } from '../../lib/image-reference.ts';
import { pullTarget } from './image-ref.ts';
import { pullError, type PullContext } from './pull-errors.ts';
import { PullTracker } from './pull-progress.ts';

export interface PullOptions {
  /** The X-Registry-Auth value for the image's registry (base64url JSON): sent as a header, never logged. */
  auth?: string;
  signal?: AbortSignal;
  /** The whole pull, from the request to the last layer. */
  timeoutMs: number;
  /** Longest silence of the engine, before its first message or between two. */
  idleMs: number;
  /** The image's progress: at most once per `progressIntervalMs` (default 250), and once more when done. */
  onProgress?: (progress: PullProgress) => void;
  progressIntervalMs?: number;
}

export interface PullResult {
  /** The manifest digest the engine pulled (`sha256:...`), when it said. */
  digest?: string;
}

/** Progress messages are about 200 bytes; anything much longer is not one. */
const MAX_LINE_CHARS = 64 * 1024;

export async function pullImage(transport: EngineTransport, ref: string, options: PullOptions): Promise<PullResult> {
  const ctx: PullContext = { reference: ref, registry: registryOf(ref), authenticated: options.auth !== undefined };
  const caller = options.signal;
  caller?.throwIfAborted();
  const limit = new PullLimits(ctx, options);
  const signal = caller ? AbortSignal.any([caller, limit.signal]) : limit.signal;
  const tracker = new PullTracker(ref, options.progressIntervalMs);
  const report = (done: boolean) => options.onProgress?.(tracker.progress(done));

  let res;
  try {
    const target = pullTarget(ref);
    res = await transport.open('POST', '/images/create', {
      query: { fromImage: target.fromImage, tag: target.tag },
      ...(options.auth !== undefined ? { headers: { 'X-Registry-Auth': options.auth } } : {}),
      signal,
    });
  } catch (error) {
    limit.clear();
    throw limit.why(error, caller);
  }
  try {
    for await (const message of jsonObjects(res, { maxLineChars: MAX_LINE_CHARS })) {
      limit.heard();
      if (message.error !== undefined) {
        const detail = (message.errorDetail as { message?: unknown } | undefined)?.message;
        throw pullError(String(typeof detail === 'string' && detail ? detail : message.error), 0, ctx);
      }
      if (tracker.apply(message) && tracker.due(Date.now())) report(false);
    }
  } catch (error) {
    throw limit.why(error, caller);
  } finally {
    limit.clear();
    res.destroy();
  }
  // Aborted between the last message and the end of the stream: the image may be complete, but the caller gave up.
  caller?.throwIfAborted();
  report(true);
  return tracker.digest ? { digest: tracker.digest } : {};
}

/** The pull's two timers, and what an error means once one of them (or the caller) has aborted. */
class PullLimits {
  readonly #controller = new AbortController();
  readonly #ctx: PullContext;
  readonly #idleMs: number;
  readonly #total: NodeJS.Timeout;
  #idle: NodeJS.Timeout;
  #expired: { seconds: number; idle: boolean } | undefined;

  constructor(ctx: PullContext, options: { timeoutMs: number; idleMs: number }) {
    this.#ctx = ctx;
    this.#idleMs = options.idleMs;
    this.#total = setTimeout(() => this.#expire(options.timeoutMs, false), options.timeoutMs);
    this.#idle = setTimeout(() => this.#expire(options.idleMs, true), options.idleMs);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The engine said something: the silence starts again. */
  heard(): void {
    if (this.#expired) return;
    this.#idle.refresh();
  }

  clear(): void {
    clearTimeout(this.#total);
    clearTimeout(this.#idle);
  }

  /** A caller's abort stays its reason; a timer's becomes PULL_TIMEOUT; an engine answer is classified. */
  why(error: unknown, caller: AbortSignal | undefined): unknown {
    if (caller?.aborted) return caller.reason;
    if (this.#expired) {
      const { seconds, idle } = this.#expired;
      return fail('PULL_TIMEOUT', { registry: this.#ctx.registry, reference: this.#ctx.reference, seconds, idle });
    }
    if (isBerthError(error)) return error;
    // An answer of the engine about the pull (status >= 400); status 0 is the engine itself not answering.
    if (error instanceof EngineError && error.status >= 400) return pullError(error.message, error.status, this.#ctx);
    return error;
  }

  #expire(ms: number, idle: boolean): void {
    if (this.#expired) return;
    this.#expired = { seconds: Math.round(ms / 100) / 10, idle };
    this.clear();
    this.#controller.abort(new Error(`the pull ${idle ? 'stalled' : 'timed out'}`));
  }
}
