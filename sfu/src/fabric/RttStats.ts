/** What a series of round-trip times says now (ms). */
export interface RttFigures {
  /** The latest sample. */
  lastMs: number;
  /** Exponentially weighted moving average (RFC 6298's SRTT: each sample weighs `alpha`). */
  smoothedMs: number;
  /** Median of the window. */
  p50Ms: number;
  /** 95th percentile of the window (nearest rank). */
  p95Ms: number;
  /** Samples in the window (at most `window`). */
  samples: number;
}

export interface RttStatsOptions {
  /** How many recent samples the percentiles cover (default 20). */
  window?: number;
  /** Weight of a new sample in the moving average, in (0, 1] (default 1/8). */
  alpha?: number;
}

/**
 * The `p`th percentile (0 < p ≤ 100) of ascending `sorted` by nearest rank: the smallest sample
 * at least p % of the samples are not above. NaN when empty.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

/**
 * Round-trip times of a link's probes: a moving average and the percentiles of the last
 * `window` samples. Pure (no clock, no timers): the prober adds what it measured.
 */
export class RttStats {
  readonly #window: number;
  readonly #alpha: number;
  /** The last `window` samples, oldest first. */
  readonly #recent: number[] = [];
  #smoothed: number | undefined;

  constructor(options: RttStatsOptions = {}) {
    const window = options.window ?? 20;
    const alpha = options.alpha ?? 1 / 8;
    if (!Number.isSafeInteger(window) || window < 1) {
      throw new RangeError(`window must be a positive integer, got ${window}`);
    }
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`alpha must be in (0, 1], got ${alpha}`);
    this.#window = window;
    this.#alpha = alpha;
  }

  /** Adds one sample; a negative or non-finite one is ignored (a clock went wrong, not the link). */
  add(rttMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    this.#recent.push(rttMs);
    if (this.#recent.length > this.#window) this.#recent.shift();
    this.#smoothed =
      this.#smoothed === undefined ? rttMs : this.#smoothed + this.#alpha * (rttMs - this.#smoothed);
  }

  /** Forgets every sample (the link went down: what it measured before says nothing of the next). */
  clear(): void {
    this.#recent.length = 0;
    this.#smoothed = undefined;
  }

  /** The figures now; undefined before the first sample. */
  get figures(): RttFigures | undefined {
    const lastMs = this.#recent.at(-1);
    if (lastMs === undefined || this.#smoothed === undefined) return undefined;
    const sorted = [...this.#recent].sort((a, b) => a - b);
    return {
      lastMs,
      smoothedMs: this.#smoothed,
      p50Ms: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
      samples: sorted.length,
    };
  }
}
