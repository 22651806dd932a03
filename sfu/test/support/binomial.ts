// Acceptance bands for counted random events (lost probes on an emulated lossy link): a band a
// correct link lands outside with a known, tiny probability, so a test checks the rate without
// flaking, and a link that drops nothing (or far too much) still fails.

export interface BinomialBand {
  /** Fewest events accepted. */
  min: number;
  /** Most events accepted. */
  max: number;
  /** Probability that a correct process (rate p) falls outside [min, max]. */
  outside: number;
}

/** P(K = k) for K ~ Binomial(n, p), k = 0..n, by the recurrence (no factorials to overflow). */
function pmf(n: number, p: number): number[] {
  const out = [(1 - p) ** n];
  for (let k = 0; k < n; k++) out.push((out[k]! * (n - k) * p) / ((k + 1) * (1 - p)));
  return out;
}

/**
 * The widest-tailed band [min, max] for K ~ Binomial(n, p) with each tail at most alpha / 2:
 * P(K < min) ≤ alpha / 2 and P(K > max) ≤ alpha / 2.
 */
export function binomialBand(n: number, p: number, alpha: number): BinomialBand {
  if (!(n > 0 && p > 0 && p < 1 && alpha > 0 && alpha < 1)) throw new Error('bad binomial band arguments');
  const probabilities = pmf(n, p);
  // (1 - p)^n underflows for very large n: the recurrence would then be all zeros.
  if (probabilities[0] === 0) throw new Error(`binomial band: n = ${n} is too large for p = ${p}`);
  let min = 0;
  let below = 0;
  while (below + probabilities[min]! <= alpha / 2) below += probabilities[min++]!;
  let max = n;
  let above = 0;
  while (above + probabilities[max]! <= alpha / 2) above += probabilities[max--]!;
  return { min, max, outside: below + above };
}
