/** Token bucket: `perSecond` messages per second with bursts of up to `perSecond`. */
export class RateLimiter {
  readonly #perSecond: number;
  readonly #now: () => number;
  #tokens: number;
  #updatedAt: number;

  constructor(perSecond: number, now: () => number = () => performance.now()) {
    if (!(perSecond > 0)) throw new TypeError('perSecond must be positive');
    this.#perSecond = perSecond;
    this.#now = now;
    this.#tokens = perSecond;
    this.#updatedAt = now();
  }

  /** Takes one token; false when the connection is over its rate. */
  take(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(
      this.#perSecond,
      this.#tokens + ((now - this.#updatedAt) / 1000) * this.#perSecond,
    );
    this.#updatedAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
