import { z } from 'zod';
import { idSchema } from './media.ts';
import type { RequestName, RequestOf, ResponseOf } from './requests.ts';
import type { Result } from './result.ts';
import {
  guestListSchema,
  guestStatusSchema,
  programStateSchema,
  roomSnapshotSchema,
  sourceSchema,
} from './room.ts';

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
} as const;

export type NotificationName = keyof typeof notifications;
export type NotificationOf<N extends NotificationName> = z.infer<(typeof notifications)[N]>;

/** socket.io's typed map for what clients emit: every request carries a Result acknowledgement. */
export type ClientToServerEvents = {
  [N in RequestName]: (payload: RequestOf<N>, ack: (result: Result<ResponseOf<N>>) => void) => void;
};

export type ServerToClientEvents = {
  [N in NotificationName]: (payload: NotificationOf<N>) => void;
};
