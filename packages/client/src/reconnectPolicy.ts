/**
 * When to retry after the signaling connection or the room was lost (LiveKit's policy shape).
 * Pure: given the attempt number and time spent so far, answer a delay, or null to give up.
 */
export interface ReconnectContext {
  /** 0 for the first retry after the loss. */
  retryCount: number;
  /** Milliseconds since the connection was lost. */
  elapsedMs: number;
}

export interface ReconnectPolicy {
  nextRetryDelayInMs(context: ReconnectContext): number | null;
}

/** LiveKit's delays: retry at once, then back off to 7 s and stay there. */
export const DEFAULT_RECONNECT_DELAYS_MS: readonly number[] = [0, 300, 1200, 2700, 4800, 7000];

export interface BackoffOptions {
  delaysMs?: readonly number[];
  /** Random extra delay as a fraction of the base delay, in [0, jitterRatio). Default 0.3. */
  jitterRatio?: number;
  /** Give up after this many retries. Default: never (a studio camera should keep trying). */
  maxRetries?: number;
  /** Give up once this much time has passed since the loss. Default: never. */
  maxElapsedMs?: number;
  /** Injected for tests. */
  random?: () => number;
}

export class BackoffReconnectPolicy implements ReconnectPolicy {
  readonly #delays: readonly number[];
  readonly #jitterRatio: number;
  readonly #maxRetries: number;
  readonly #maxElapsedMs: number;
  readonly #random: () => number;

  constructor(options: BackoffOptions = {}) {
    const delays = options.delaysMs ?? DEFAULT_RECONNECT_DELAYS_MS;
    if (delays.length === 0 || delays.some((d) => !Number.isFinite(d) || d < 0)) {
      throw new TypeError('delaysMs must be a non-empty list of non-negative numbers');
    }
    const jitter = options.jitterRatio ?? 0.3;
    if (!(jitter >= 0 && jitter <= 1)) throw new TypeError('jitterRatio must be within [0, 1]');
    this.#delays = delays;
    this.#jitterRatio = jitter;
    this.#maxRetries = options.maxRetries ?? Number.POSITIVE_INFINITY;
    this.#maxElapsedMs = options.maxElapsedMs ?? Number.POSITIVE_INFINITY;
    this.#random = options.random ?? Math.random;
  }

  nextRetryDelayInMs({ retryCount, elapsedMs }: ReconnectContext): number | null {
    if (retryCount >= this.#maxRetries || elapsedMs >= this.#maxElapsedMs) return null;
    const base = this.#delays[Math.min(retryCount, this.#delays.length - 1)] ?? 0;
    // A zero delay stays zero: the first retry is immediate, jitter only spreads the later ones.
    return Math.round(base + base * this.#jitterRatio * this.#random());
  }
}
