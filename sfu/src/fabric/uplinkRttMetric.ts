import { Histogram, Registry } from 'prom-client';

/** `microstudio_uplink_rtt_seconds`: every answered probe of an edge's link to its site. */
export interface UplinkRttMetric {
  /** For /metrics (createHttpApp's moreMetrics). */
  readonly register: Registry;
  /** One probe's round trip, ms (negative or non-finite ones are dropped). */
  observe(rttMs: number): void;
}

/**
 * Seconds. Fine below 10 ms (a LAN or loopback), with edges at the Edges panel's thresholds
 * (50 ms good, 150 ms fair); a probe times out after 1 s.
 */
export const UPLINK_RTT_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1,
];

/**
 * The uplink RTT histogram, in a registry of its own. Every node exposes it (a site with no
 * observations), so one dashboard query covers all nodes; the edge service feeds it.
 */
export function createUplinkRttMetric(): UplinkRttMetric {
  const register = new Registry();
  const histogram = new Histogram({
    registers: [register],
    name: 'microstudio_uplink_rtt_seconds',
    help: "An edge's round-trip time to its site: each answered node:ping probe (every 500 ms), seconds.",
    buckets: UPLINK_RTT_BUCKETS,
  });
  return {
    register,
    observe(rttMs) {
      if (Number.isFinite(rttMs) && rttMs >= 0) histogram.observe(rttMs / 1000);
    },
  };
}
