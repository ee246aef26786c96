/**
 * parseManifest for the server, off the main thread. Within the limits of ./limits.ts a hostile berth.yaml
 * still costs the YAML parser most of a second (thousands of nested `[`, long flow collections), which on
 * the daemon's event loop would stall the API, the deploys and the supervisors for that long. So each file
 * is parsed in a worker thread with a small heap, a stack of its own and a deadline; a file that needs
 * more than that is refused as MANIFEST_INVALID. The CLI parses in its own process and keeps parseManifest.
 */
import { Worker } from 'node:worker_threads';
import { BerthError, fail, type ErrorCode } from '../errors/catalogue.ts';
import type { ParseReply } from './parse-worker.ts';
import { reviveManifest } from './revive.ts';
import type { Manifest } from './schema.ts';

export interface ParseLimits {
  /** A parse still running after this is stopped. */
  timeoutMs: number;
  /** The worker's heap (old generation); a parse needing more is stopped. */
  heapMb: number;
  /** Parses running at once; more wait their turn. */
  concurrency: number;
}

/** The worst file within ./limits.ts takes under a second and 30 MB; these leave room for a slow machine. */
export const PARSE_LIMITS: ParseLimits = { timeoutMs: 10_000, heapMb: 64, concurrency: 2 };

const WORKER = new URL('./parse-worker.ts', import.meta.url);
const MIN_HEAP_MB = 16;
const FIX = 'write berth.yaml as plain `key: value` lines, without deep nesting, long `[...]` or `{...}` collections, or many aliases';

/** One per server: it keeps the number of parse workers, each with its own heap, at `concurrency`. */
export class OffThreadParser {
  readonly #limits: ParseLimits;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limits: ParseLimits = PARSE_LIMITS) {
    // A heap too small for a fresh isolate is not a refused file: V8 then ends the whole process.
    if (!(limits.heapMb >= MIN_HEAP_MB)) throw new Error(`OffThreadParser: heapMb ${limits.heapMb} is below ${MIN_HEAP_MB}`);
    this.#limits = limits;
  }

  /**
   * Resolves with the Manifest (records null-prototype, deep-frozen, as parseManifest returns it), or
   * rejects with its MANIFEST_INVALID error, or one for a file over the time or memory limit. A worker
   * that fails otherwise rejects with that error (a bug: the caller logs it).
   */
  /** `image`: the image `berth deploy --image` names, in place of the file's `image:` (see parseManifest). */
  async parse(text: string, options: { file: string; image?: string }): Promise<Manifest> {
    if (this.#running >= this.#limits.concurrency) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running++;
    try {
      return await parseInWorker(text, options, this.#limits);
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}

function parseInWorker(text: string, { file, image }: { file: string; image?: string }, limits: ParseLimits): Promise<Manifest> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, {
      workerData: { text, file, ...(image !== undefined ? { image } : {}) },
      resourceLimits: { maxOldGenerationSizeMb: limits.heapMb, maxYoungGenerationSizeMb: 8, stackSizeMb: 4 },
      // The worker needs neither the daemon's environment nor its flags.
      env: {},
      execArgv: [],
    });
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      outcome();
    };
    const refuse = (message: string) => fail('MANIFEST_INVALID', { file, issues: [{ path: '', message, fix: FIX }] });
    const timer = setTimeout(() => settle(() => reject(refuse(`berth stopped reading the file after ${limits.timeoutMs / 1000} s, the most it spends on one`))), limits.timeoutMs);
    worker.once('message', (reply: ParseReply) =>
      settle(() => {
        if (reply.ok) resolve(reviveManifest(reply.manifest as Manifest));
        else reject(new BerthError(reply.error.code as ErrorCode, reply.error.message, reply.error.hint, reply.error.details));
      }),
    );
    worker.once('error', (error: Error & { code?: string }) =>
      settle(() => reject(error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? refuse(`reading the file needed more than ${limits.heapMb} MB of memory, the most berth gives one`) : error)),
    );
    worker.once('exit', (code) => settle(() => reject(new Error(`the berth.yaml parse worker exited (code ${code}) without an answer`))));
  });
}
