/**
 * A pull's progress, from the engine's messages to one line a person reads (pure; time is passed in).
 *
 * The engine reports each layer on its own (`{"status":"Downloading","progressDetail":{"current":..,
 * "total":..},"id":"<layer>"}`, then `Download complete`, `Extracting`, `Pull complete`, or `Already
 * exists` for a layer it has). PullTracker folds them into one PullProgress for the whole image, and says
 * when the next one is due: at most one per `intervalMs`, the first at once, the last (done) always.
 */
import type { PullProgress } from '../driver.ts';

type LayerState = 'waiting' | 'downloading' | 'downloaded' | 'done';

interface Layer {
  state: LayerState;
  current: number;
  /** The compressed size, once the engine said it (0 for a layer it already had). */
  total: number;
}

/** Default: at most 4 progress reports a second. */
export const PROGRESS_INTERVAL_MS = 250;

export class PullTracker {
  readonly #ref: string;
  readonly #intervalMs: number;
  readonly #layers = new Map<string, Layer>();
  #lastAt = -Infinity;
  #digest: string | undefined;

  constructor(ref: string, intervalMs = PROGRESS_INTERVAL_MS) {
    this.#ref = ref;
    this.#intervalMs = intervalMs;
  }

  /** The digest the engine pulled (`sha256:...`), once it said so. */
  get digest(): string | undefined {
    return this.#digest;
  }

  /** Takes one message of the engine's stream; returns whether it changed anything a report shows. */
  apply(message: { status?: unknown; id?: unknown; progressDetail?: unknown }): boolean {
    const status = typeof message.status === 'string' ? message.status : '';
    const digest = /^Digest: (\S+)$/.exec(status)?.[1];
    if (digest) this.#digest = digest;
    const id = typeof message.id === 'string' ? message.id : undefined;
    // `Pulling from <repo>` carries the tag as its id, not a layer.
    if (!id || status.startsWith('Pulling from ')) return false;
    const layer = this.#layers.get(id) ?? { state: 'waiting' as LayerState, current: 0, total: 0 };
    this.#layers.set(id, layer);
    switch (status) {
      case 'Downloading': {
        const detail = (message.progressDetail ?? {}) as { current?: unknown; total?: unknown };
        const total = bytes(detail.total);
        if (total > 0) layer.total = total;
        layer.current = Math.min(bytes(detail.current), layer.total || Infinity);
        layer.state = 'downloading';
        return true;
      }
      case 'Verifying Checksum':
      case 'Download complete':
      case 'Extracting':
        if (layer.state !== 'done') layer.state = 'downloaded';
        layer.current = layer.total;
        return true;
      case 'Pull complete':
      case 'Already exists':
        layer.state = 'done';
        layer.current = layer.total;
        return true;
      default:
        // Pulling fs layer, Waiting, Retrying in N seconds: a layer is known, nothing has moved.
        return true;
    }
  }

  /** The image's progress so far. */
  progress(done = false): PullProgress {
    let doneBytes = 0;
    let totalBytes = 0;
    let layersDone = 0;
    for (const layer of this.#layers.values()) {
      doneBytes += layer.current;
      // A layer whose size the engine never said counts what arrived of it.
      totalBytes += Math.max(layer.total, layer.current);
      if (layer.state === 'done') layersDone++;
    }
    return { ref: this.#ref, doneBytes, totalBytes, layers: this.#layers.size, layersDone: done ? this.#layers.size : layersDone, done };
  }

  /** Whether a report is due at `now` (ms); when it is, the next one is `intervalMs` later. */
  due(now: number): boolean {
    if (now - this.#lastAt < this.#intervalMs) return false;
    this.#lastAt = now;
    return true;
  }
}

/** `pulling redis:7  43/120 MB (3/7 layers)`; `pulled redis:7 (120 MB)` once done. */
export function describePull(progress: PullProgress): string {
  if (progress.done) return `pulled ${progress.ref}${progress.totalBytes > 0 ? ` (${megabytes(progress.totalBytes)} MB)` : ''}`;
  if (progress.totalBytes === 0) return `pulling ${progress.ref}`;
  return `pulling ${progress.ref}  ${megabytes(progress.doneBytes)}/${megabytes(progress.totalBytes)} MB (${progress.layersDone}/${progress.layers} layers)`;
}

const megabytes = (n: number) => (n >= 10e6 || n === 0 ? String(Math.round(n / 1e6)) : (n / 1e6).toFixed(1));

/** A byte count from the engine: a finite, non-negative safe integer, else 0. */
function bytes(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0;
}
