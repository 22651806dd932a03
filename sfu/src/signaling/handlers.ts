import type {
  RequestName,
  RequestOf,
  ResponseOf,
  RtpParameters,
  TelemetryReport,
} from '@microstudio/protocol';
import { ErrorCode, TELEMETRY_MIN_INTERVAL_MS } from '@microstudio/protocol';
import type { Authenticator } from '../auth/Authenticator.ts';
import { iceServersFor, type TurnSettings } from '../auth/turn.ts';
import { RefusedError } from '../errors.ts';
import type { RecordingDesks } from '../recording/RecordingDesk.ts';
import type { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { PeerRole } from '../rooms/types.ts';
import { toWire } from '../rooms/wire.ts';
import type { Session } from './Session.ts';

export interface HandlerDeps {
  registry: RoomRegistry;
  auth: Authenticator;
  /** How long a join waits for a recovering room before answering ROOM_RECOVERING. */
  joinRecoveryWaitMs: number;
  /** TURN servers and the REST secret; undefined = no ICE servers. */
  turn?: TurnSettings | undefined;
}

/** Who sent a telemetry report: bounded values only (the role, and a camera's sourceId). */
export interface TelemetryOrigin {
  role: PeerRole;
  roomId: string;
  /** A camera's source id; undefined for other roles. */
  sourceId: string | undefined;
}

/** Where validated client telemetry goes (the node's metrics: http/metrics.ts clientTelemetry). */
export interface TelemetrySink {
  record(origin: TelemetryOrigin, report: TelemetryReport): void;
}

/** What a handler for a joined peer receives. */
export interface Joined {
  session: Session;
  auth: Authenticator;
  room: Room;
  peer: Peer;
  /** Client telemetry's destination; undefined = reports are accepted and dropped. */
  telemetry?: TelemetrySink | undefined;
  /** The rooms' recording desks (a site node); undefined = this node does not record. */
  recording?: RecordingDesks | undefined;
}

type JoinedHandler<N extends RequestName> = (
  ctx: Joined,
  payload: RequestOf<N>,
) => Promise<ResponseOf<N>> | ResponseOf<N>;

const empty = {} as Record<string, never>;

/** room:join: the only request allowed before joining. */
export async function handleJoin(
  deps: HandlerDeps,
  session: Session,
  payload: RequestOf<'room:join'>,
): Promise<ResponseOf<'room:join'>> {
  if (session.peer || session.joining)
    throw new RefusedError(ErrorCode.AlreadyJoined, 'this connection already joined a room');
  session.joining = true;
  try {
    // The token decides the role; it is checked before any room is opened for it.
    const { claims, commit } = await deps.auth.admit(payload.token, payload.roomId, payload.clientId);
    const room = await deps.registry.open(payload.roomId);
    await room.whenReady(deps.joinRecoveryWaitMs);
    if (session.socket.disconnected)
      throw new RefusedError(ErrorCode.NotJoined, 'connection closed during join');
    const peer = room.join({
      role: claims.role,
      displayName: payload.displayName,
      clientId: payload.clientId,
      sink: session,
      inviteId: claims.jti,
    });
    session.attach(room, peer, claims);
    commit();
    return {
      peerId: peer.id,
      role: claims.role,
      routerRtpCapabilities: room.wireRtpCapabilities,
      // Fresh short-lived TURN credentials on every join (REST scheme), never a static password.
      iceServers: iceServersFor(deps.turn, payload.clientId),
      room: room.snapshot(),
    };
  } finally {
    session.joining = false;
  }
}

/** auth:director: the admin secret from the director link, traded for a director token. */
export function handleDirectorAuth(
  deps: HandlerDeps,
  payload: RequestOf<'auth:director'>,
): Promise<ResponseOf<'auth:director'>> {
  return deps.auth.directorToken(payload.roomId, payload.adminSecret);
}

/** Every other request, for a joined peer. The table's type makes a missing handler a type error. */
export const joinedHandlers: {
  [N in Exclude<RequestName, 'room:join' | 'auth:director'>]: JoinedHandler<N>;
} = {
  'room:leave': ({ session, room, peer }) => {
    session.release();
    room.leave(peer);
    return empty;
  },
  'invite:create': ({ auth, room }, payload) => auth.createInvite(room.id, payload),
  'invite:list': ({ auth, room }) => ({ invites: auth.listInvites(room.id) }),
  'invite:revoke': ({ auth, room }, { inviteId }) => {
    auth.revokeInvite(room.id, inviteId);
    return empty;
  },
  'transport:create': ({ room, peer }, { direction }) => room.createWebRtcTransport(peer, direction),
  'transport:connect': async ({ room, peer }, { transportId, dtlsParameters }) => {
    await room.connectTransport(peer, transportId, dtlsParameters);
    return empty;
  },
  'transport:restartIce': async ({ room, peer }, { transportId }) => ({
    iceParameters: await room.restartIce(peer, transportId),
  }),
  'producer:create': async ({ room, peer }, payload) => {
    const producer = await room.produce(peer, payload);
    return { producerId: producer.id };
  },
  'producer:close': ({ room, peer }, { producerId }) => {
    room.closeProducer(peer, producerId);
    return empty;
  },
  'producer:pause': async ({ room, peer }, { producerId }) => {
    await room.pauseProducer(peer, producerId);
    return empty;
  },
  'producer:resume': async ({ room, peer }, { producerId }) => {
    await room.resumeProducer(peer, producerId);
    return empty;
  },
  'consumer:create': async ({ room, peer }, payload) => {
    const consumer = await room.consume(peer, payload);
    return {
      consumerId: consumer.id,
      producerId: consumer.producerId,
      kind: consumer.kind,
      rtpParameters: toWire<RtpParameters>(consumer.rtpParameters),
      producerPaused: consumer.producerPaused,
    };
  },
  'consumer:resume': async ({ room, peer }, { consumerId }) => {
    await room.resumeConsumer(peer, consumerId);
    return empty;
  },
  'consumer:setLayers': async ({ room, peer }, { consumerId, spatialLayer, temporalLayer }) => {
    await room.setConsumerLayers(peer, consumerId, spatialLayer, temporalLayer);
    return empty;
  },
  'consumer:close': ({ room, peer }, { consumerId }) => {
    room.closeConsumer(peer, consumerId);
    return empty;
  },
  'program:preview': ({ room, peer }, { sourceId }) => {
    room.preview(peer, sourceId);
    return empty;
  },
  'program:cut': ({ room, peer }) => {
    room.cut(peer);
    return empty;
  },
  'program:auto': ({ room, peer }, { durationMs }) => {
    room.auto(peer, durationMs);
    return empty;
  },
  'guest:list': ({ room }) => ({ guests: room.guests() }),
  'guest:admit': ({ room, peer }, { guestId }) => {
    room.admitGuest(peer, guestId);
    return empty;
  },
  // Same tick as the dismissal: the guest's invite is spent before it could try to re-join.
  'guest:reject': ({ auth, room, peer }, { guestId }) => {
    const guest = room.dismissGuest(peer, guestId, 'rejected');
    if (guest.inviteId) auth.spendInvite(room.id, guest.inviteId, guest.clientId);
    return empty;
  },
  'guest:remove': ({ auth, room, peer }, { guestId }) => {
    const guest = room.dismissGuest(peer, guestId, 'removed');
    if (guest.inviteId) auth.spendInvite(room.id, guest.inviteId, guest.clientId);
    return empty;
  },
  'guest:mute': async ({ room, peer }, { guestId }) => {
    await room.muteGuest(peer, guestId, true);
    return empty;
  },
  'guest:unmute': async ({ room, peer }, { guestId }) => {
    await room.muteGuest(peer, guestId, false);
    return empty;
  },
  'record:set': ({ room, peer, recording }, { sourceId, on }) => {
    if (peer.role !== 'director') throw new RefusedError(ErrorCode.Forbidden, 'only a director records');
    const desk = recording?.get(room.id);
    if (!desk) throw new RefusedError(ErrorCode.Forbidden, 'this node does not record (an edge)');
    return desk.set(sourceId, on);
  },
  // Nothing is kept per report but the metrics it updates.
  'telemetry:report': ({ session, room, peer, telemetry }, report) => {
    const now = performance.now();
    if (session.lastTelemetryAt !== undefined && now - session.lastTelemetryAt < TELEMETRY_MIN_INTERVAL_MS) {
      throw new RefusedError(
        ErrorCode.RateLimited,
        `one telemetry report per ${TELEMETRY_MIN_INTERVAL_MS} ms per connection`,
      );
    }
    session.lastTelemetryAt = now;
    telemetry?.record({ role: peer.role, roomId: room.id, sourceId: peer.sourceId }, report);
    return empty;
  },
};
