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

export type { RecordingAnchor, RecordingInfo, RecordingRtp } from '@microstudio/protocol';
