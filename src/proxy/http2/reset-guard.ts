export interface ResetGuardOptions {
  /** Abnormal stream ends a session may have at once (a browser cancelling a page's requests stays far below). */
  burst: number;
  /** Allowance regained per second. */
  perSecond: number;
}

export const defaultResetGuard: ResetGuardOptions = { burst: 200, perSecond: 50 };

/**
 * The rapid-reset defence of one HTTP/2 session (CVE-2023-44487, and CVE-2025-8671 "MadeYouReset", where
 * the client makes the server reset): every stream that ends by a reset instead of a complete response
 * costs the session a token from a bucket; a session with an empty bucket is sent GOAWAY
 * (ENHANCE_YOUR_CALM) and closed. Each reset stream may have cost berth an upstream connection, so the
 * allowance is per time, not per session. Pure: the time is passed in.
 */
export class ResetGuard {
  readonly #options: ResetGuardOptions;
  #tokens: number;
  #at: number;

  constructor(options: ResetGuardOptions, nowMs: number) {
    this.#options = options;
    this.#tokens = options.burst;
    this.#at = nowMs;
  }

  /** Counts one reset stream; false once the session has used up its allowance. */
  allow(nowMs: number): boolean {
    const elapsed = Math.max(0, nowMs - this.#at);
    this.#at = nowMs;
    this.#tokens = Math.min(this.#options.burst, this.#tokens + (elapsed * this.#options.perSecond) / 1000);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
