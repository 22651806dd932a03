import { z } from 'zod';
import { MAX_SOURCES_PER_ROOM } from './limits.ts';
import { idSchema } from './media.ts';
import { recorderStateSchema } from './recording.ts';
import { type RequestName, type RequestOf, type ResponseOf, requests } from './requests.ts';
import { type Result, resultSchema } from './result.ts';
import {
  displayNameSchema,
  guestListSchema,
  guestStatusSchema,
  programStateSchema,
  roomSnapshotSchema,
  sourceSchema,
} from './room.ts';
import { networkTypeSchema, TELEMETRY_BOUNDS, telemetryReportSchema } from './telemetry.ts';

/**
 * One source's health as the node measures it (directors only: `health:sources`). Bitrate and loss
 * are what the node receives of the source's video (its audio when it has no video) over the last
 * interval; battery and network type are the camera's latest telemetry:report, when it sent them.
 */
export const sourceHealthSchema = z
  .object({
    sourceId: idSchema,
    displayName: displayNameSchema,
    /** Video ingest bitrate at the node, kbit/s (all simulcast streams). */
    bitrateKbps: z.number().min(0).max(TELEMETRY_BOUNDS.bitrateKbps),
    /** Packets lost over packets expected since the previous report, percent (from packetsLost). */
    lossPct: z.number().min(0).max(100),
    quality: sourceSchema.shape.quality,
    /** The camera's latest navigator.getBattery() figures (level 0..1), where it reported them. */
    battery: telemetryReportSchema.shape.battery,
    networkType: networkTypeSchema.optional(),
  })
  .strict();
export type SourceHealth = z.infer<typeof sourceHealthSchema>;

export const healthSourcesSchema = z
  .object({
    roomId: idSchema,
    /** Node wall clock (ms since epoch) of the measurement. */
    at: z.number().nonnegative(),
    sources: z.array(sourceHealthSchema).max(MAX_SOURCES_PER_ROOM),
  })
  .strict();
export type HealthSources = z.infer<typeof healthSourcesSchema>;

/** Node → client notifications. Clients validate them too: a node can be a different version. */
export const notifications = {
  /** Full room state; sent on join and whenever sources change. Rooms are small, so no diffs. */
  'room:state': roomSnapshotSchema,
  /** Only the bus changed (cuts are the hot path: keep them small). */
  'program:state': programStateSchema,
  'source:updated': sourceSchema,
  /** The node closed a consumer (its producer went away, or the transport closed). */
  'consumer:closed': z.object({ consumerId: idSchema }),
  /** The room's media worker died and the room was re-created: drop all transports and re-join. */
  'room:rejoin': z.object({ reason: z.string() }),
  /** Directors only: who waits in the green room and who is admitted; on join and on every change. */
  'guests:state': guestListSchema,
  /** A guest only: its own state (waiting, admitted, muted, rejected, removed). */
  'guest:status': guestStatusSchema,
  /** Directors only, every 2 s: each source's ingest bitrate, loss, quality and device figures. */
  'health:sources': healthSourcesSchema,
  /** Directors only: the recording plan and the recorder's latest status (on join and on change). */
  'recorder:state': recorderStateSchema,
  /**
   * The answer to a join sent with the connection's handshake (HandshakeAuth), right after the
   * connection opens: the Result a room:join request would have been acknowledged with.
   */
  'room:joined': resultSchema(requests['room:join'].response),
} as const;

/**
 * What a client may send in socket.io's handshake (`auth`): a room:join the node runs as the
 * connection opens and answers with `room:joined`, so joining costs no round trip of its own
 * after connecting. Checked like the request (validateRequest); other keys are ignored.
 */
export interface HandshakeAuth {
  join?: RequestOf<'room:join'>;
}

export type NotificationName = keyof typeof notifications;
export type NotificationOf<N extends NotificationName> = z.infer<(typeof notifications)[N]>;

/** socket.io's typed map for what clients emit: every request carries a Result acknowledgement. */
export type ClientToServerEvents = {
  [N in RequestName]: (payload: RequestOf<N>, ack: (result: Result<ResponseOf<N>>) => void) => void;
};

export type ServerToClientEvents = {
  [N in NotificationName]: (payload: NotificationOf<N>) => void;
};
