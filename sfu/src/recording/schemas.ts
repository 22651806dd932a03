import { z } from 'zod';

/**
 * Payloads of the node's internal recorder API (HTTP, JSON). The recorder is a trusted process
 * on the same box; it is still validated here, because a bad request must change nothing.
 */
const id = z.string().min(1).max(128);
const port = z.number().int().min(1).max(65535);

export const startRecordingBody = z.strictObject({
  roomId: id,
  producerId: z.string().uuid(),
  /** Where the recorder listens for RTP (and RTCP on a port of its own: no rtcp-mux for ffmpeg). */
  ip: z.union([z.ipv4(), z.ipv6()]),
  rtpPort: port,
  rtcpPort: port,
});
export type StartRecordingBody = z.infer<typeof startRecordingBody>;

/** What the recorder needs to write an SDP for ffmpeg: one codec, one SSRC. */
export interface RecordingRtp {
  payloadType: number;
  mimeType: string;
  clockRate: number;
  channels?: number;
  /** fmtp parameters (e.g. H.264 packetization-mode, profile-level-id). */
  parameters: Record<string, string | number>;
  ssrc: number;
}

/**
 * The show-clock anchor: the RTP timestamp of the first packet the consumer sent after resume and
 * the node's wall clock (Unix ms) when it was sent. ffmpeg's timestamps start at that packet, so
 * segment start (wall) = anchor.wallClockMs + segment start_time.
 */
export interface RecordingAnchor {
  rtpTimestamp: number;
  wallClockMs: number;
}

export interface RecordingInfo {
  recordingId: string;
  roomId: string;
  producerId: string;
  /** The camera's stable source id (its clientId). */
  sourceId: string;
  kind: 'audio' | 'video';
  paused: boolean;
  /** Set when the recording ended without a DELETE (producer closed, room closed, worker died). */
  closedReason: string | null;
  anchor: RecordingAnchor | null;
  rtp: RecordingRtp;
}
