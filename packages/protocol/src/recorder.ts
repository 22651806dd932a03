/**
 * The media node's internal recorder API (/internal/recorder/v1): what it answers. The node
 * (sfu/src/recording) produces these and the recorder service (apps/recorder) reads them.
 */

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

/** A room's source as the recorder API lists it. */
export interface RecorderSource {
  sourceId: string;
  displayName: string;
  tracks: { producerId: string; kind: 'audio' | 'video'; purpose: string; paused: boolean }[];
  /** The room's recording plan (control room's Record) includes this source. */
  record: boolean;
}
