import { z } from 'zod';
import { NETWORK_TYPES } from './telemetryClamp.ts';

/**
 * Client telemetry (telemetry:report): what a page measures of its own media from getStats, sent
 * every couple of seconds (at most one per TELEMETRY_MIN_INTERVAL_MS per connection). Every
 * figure is optional (a camera decodes nothing, a viewer encodes nothing, browsers differ) and
 * bounded: a value outside its bounds is a bad measurement, and a client leaves it out
 * (clampTelemetry) rather than have the whole report refused.
 */

/** Upper bound of each numeric figure (the lower bound is 0; battery.level is 0..1). */
export const TELEMETRY_BOUNDS = {
  /** Join (room:join sent) to the first frame decoded (viewer, director) or encoded (camera). */
  startupMs: 120_000,
  /** A cut seen by the page to the first frame of the new program source decoded. */
  cutToFrameMs: 60_000,
  /** Video freezes since the previous report (inbound-rtp freezeCount). */
  freezes: 1_000,
  /** Round-trip time to the media node (the selected ICE candidate pair). */
  rttMs: 60_000,
  /** Interarrival jitter of received streams (of sent streams, as the node reports it, on a camera). */
  jitterMs: 60_000,
  /** Packets lost over packets sent and received since the previous report, in percent. */
  packetLossPct: 100,
  /** Media bitrate received and sent, kbit/s. */
  bitrateKbps: 1_000_000,
  /** Decode time per decoded video frame, ms. */
  decodeMsPerFrame: 10_000,
  /** Encode time per encoded video frame (all simulcast layers averaged), ms. */
  encodeMsPerFrame: 10_000,
  /** Capture (the time code a source draws into its frames) to presentation on this page, ms. */
  glassToGlassMs: 60_000,
} as const;

/** Which path the page's media takes: to the site node, through an edge node, or peer to peer. */
export const telemetryHopSchema = z.enum(['site', 'edge', 'p2p']);
export type TelemetryHop = z.infer<typeof telemetryHopSchema>;

/** navigator.connection: `type` where the browser has it, else `effectiveType` (NETWORK_TYPES). */
export const networkTypeSchema = z.enum(NETWORK_TYPES);
export type NetworkType = z.infer<typeof networkTypeSchema>;

const upTo = (max: number) => z.number().min(0).max(max).optional();

export const telemetryReportSchema = z
  .object({
    hop: telemetryHopSchema,
    startupMs: upTo(TELEMETRY_BOUNDS.startupMs),
    cutToFrameMs: upTo(TELEMETRY_BOUNDS.cutToFrameMs),
    freezes: z.number().int().min(0).max(TELEMETRY_BOUNDS.freezes).optional(),
    rttMs: upTo(TELEMETRY_BOUNDS.rttMs),
    jitterMs: upTo(TELEMETRY_BOUNDS.jitterMs),
    packetLossPct: upTo(TELEMETRY_BOUNDS.packetLossPct),
    bitrateKbps: z
      .object({ in: upTo(TELEMETRY_BOUNDS.bitrateKbps), out: upTo(TELEMETRY_BOUNDS.bitrateKbps) })
      .strict()
      .optional(),
    decodeMsPerFrame: upTo(TELEMETRY_BOUNDS.decodeMsPerFrame),
    encodeMsPerFrame: upTo(TELEMETRY_BOUNDS.encodeMsPerFrame),
    glassToGlassMs: upTo(TELEMETRY_BOUNDS.glassToGlassMs),
    /** navigator.getBattery(), where the browser has it. */
    battery: z
      .object({ level: z.number().min(0).max(1), charging: z.boolean() })
      .strict()
      .optional(),
    networkType: networkTypeSchema.optional(),
  })
  .strict();
export type TelemetryReport = z.infer<typeof telemetryReportSchema>;

export { clampTelemetry, isNetworkType, NETWORK_TYPES } from './telemetryClamp.ts';
