/**
 * Readers over RTCStatsReport for meters and quality labels. They take any iterable of stats
 * objects, so they are pure and testable without a browser.
 */
export type StatsLike = { forEach(callback: (value: unknown) => void): void };

interface RtcStat {
  type?: unknown;
  kind?: unknown;
  mediaType?: unknown;
  [key: string]: unknown;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function inbound(report: StatsLike, kind: 'audio' | 'video'): RtcStat[] {
  const found: RtcStat[] = [];
  report.forEach((value) => {
    if (typeof value !== 'object' || value === null) return;
    const stat = value as RtcStat;
    if (stat.type === 'inbound-rtp' && (stat.kind ?? stat.mediaType) === kind) found.push(stat);
  });
  return found;
}

export interface InboundVideoStats {
  framesDecoded: number;
  framesPerSecond: number | undefined;
  frameWidth: number | undefined;
  frameHeight: number | undefined;
  packetsLost: number;
  packetsReceived: number;
  bytesReceived: number;
  timestamp: number | undefined;
}

/** The inbound video stream of a consumer's report (the one with most frames if several). */
export function readInboundVideo(report: StatsLike): InboundVideoStats | null {
  const streams = inbound(report, 'video');
  if (streams.length === 0) return null;
  const best = streams.reduce((a, b) => ((num(b.framesDecoded) ?? 0) > (num(a.framesDecoded) ?? 0) ? b : a));
  return {
    framesDecoded: num(best.framesDecoded) ?? 0,
    framesPerSecond: num(best.framesPerSecond),
    frameWidth: num(best.frameWidth),
    frameHeight: num(best.frameHeight),
    packetsLost: num(best.packetsLost) ?? 0,
    packetsReceived: num(best.packetsReceived) ?? 0,
    bytesReceived: num(best.bytesReceived) ?? 0,
    timestamp: num(best.timestamp),
  };
}

/** audioLevel (0..1) of the inbound audio stream, or null when the report has none. */
export function readInboundAudioLevel(report: StatsLike): number | null {
  const streams = inbound(report, 'audio');
  let level: number | null = null;
  for (const stat of streams) {
    const value = num(stat.audioLevel);
    if (value !== undefined) level = Math.max(level ?? 0, Math.min(1, Math.max(0, value)));
  }
  return level;
}

export type LinkQuality = 'good' | 'fair' | 'poor' | 'lost';

/**
 * A receive-side quality label from two video samples: no decoded frames in the interval is
 * 'lost'; otherwise it is graded by frame rate and packet loss over the interval.
 */
export function gradeVideo(
  previous: InboundVideoStats | null,
  current: InboundVideoStats | null,
): LinkQuality {
  if (!current) return 'lost';
  if (previous && current.framesDecoded <= previous.framesDecoded) return 'lost';
  const lost = current.packetsLost - (previous?.packetsLost ?? 0);
  const received = current.packetsReceived - (previous?.packetsReceived ?? 0);
  const lossRatio = received + lost > 0 ? Math.max(0, lost) / (received + lost) : 0;
  const fps = current.framesPerSecond ?? 0;
  if (lossRatio > 0.1 || fps < 10) return 'poor';
  if (lossRatio > 0.02 || fps < 20) return 'fair';
  return 'good';
}
