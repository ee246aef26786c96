import { randomBytes } from 'node:crypto';

/**
 * X-Request-IDs for requests that came without a usable one: a random prefix drawn once per proxy, then a
 * counter, both hex (`3f9a1c0e7b52d4a1-1a`). Unique across proxy restarts (the prefix is 64 random bits)
 * and cheap: no random draw or crypto call per request, one short string.
 */
export class RequestIds {
  readonly #prefix: string;
  #next = 0;

  constructor(prefix: string = randomBytes(8).toString('hex')) {
    this.#prefix = `${prefix}-`;
  }

  next(): string {
    return this.#prefix + (++this.#next).toString(16);
  }
}
