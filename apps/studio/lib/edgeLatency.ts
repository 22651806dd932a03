import type { HealthCell } from './health.ts';

/** Thresholds of an edge's round-trip time to the site (issue "Telemetry"), ms. */
export const EDGE_RTT_THRESHOLDS = {
  /** Below this: good. */
  goodBelowMs: 50,
  /** Below this (and not good): fair; at or above it: poor. */
  fairBelowMs: 150,
} as const;

/** What the Edges panel knows of a node's link to the site. */
export interface EdgeLatencyInput {
  role: 'site' | 'edge';
  uplink: 'up' | 'down' | 'none';
  /** No heartbeat for a while: its figures are old. */
  stale: boolean;
  uplinkRttMs?: number;
  uplinkRttP95Ms?: number;
}

/** A figure as shown: to the tenth below 10 ms (a LAN, loopback), else to the ms. */
export function shownMs(ms: number): number {
  const tenths = Math.round(ms * 10) / 10;
  return tenths < 10 ? tenths : Math.round(ms);
}

/** "0.8 ms", "12 ms", "1,250 ms". */
export function formatMs(ms: number): string {
  const shown = shownMs(ms);
  return shown < 10 ? `${shown.toFixed(1)} ms` : `${shown.toLocaleString('en-US')} ms`;
}

/**
 * An edge's latency to the site as the Edges panel shows it: the smoothed RTT with its level in
 * words (good < 50 ms, fair < 150 ms, poor above) and the recent p95; unknown, with the reason,
 * when the link is down, the heartbeat stale or the edge reports no figure (an older edge).
 * The level is read off the figure as shown, so "50 ms" is never "good". A site has no uplink:
 * "n/a".
 */
export function edgeLatencyCell(node: EdgeLatencyInput): HealthCell {
  if (node.role === 'site' || node.uplink === 'none') return { text: 'n/a', level: 'unknown' };
  if (node.stale) return { text: 'unknown · no heartbeat', level: 'unknown' };
  if (node.uplink === 'down') return { text: 'unknown · link down', level: 'unknown' };
  const measured = node.uplinkRttMs;
  if (measured === undefined || !Number.isFinite(measured) || measured < 0) {
    return { text: 'not measured yet', level: 'unknown' };
  }
  const rtt = shownMs(measured);
  const p95 = node.uplinkRttP95Ms;
  const tail = p95 !== undefined && Number.isFinite(p95) && p95 >= 0 ? ` (p95 ${formatMs(p95)})` : '';
  const t = EDGE_RTT_THRESHOLDS;
  const [word, level] =
    rtt < t.goodBelowMs
      ? (['good', 'good'] as const)
      : rtt < t.fairBelowMs
        ? (['fair', 'warn'] as const)
        : (['poor', 'bad'] as const);
  return { text: `${formatMs(rtt)} · ${word}${tail}`, level };
}
