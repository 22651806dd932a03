import type { NotificationName, NotificationOf, Role, TrackPurpose } from '@microstudio/protocol';

/** Per-room and per-peer limits (from configuration). */
export interface RoomLimits {
  maxPeersPerRoom: number;
  maxTransportsPerPeer: number;
  maxProducersPerPeer: number;
  maxConsumersPerPeer: number;
}

/** Why a peer stopped being part of its room without asking to. */
export type DetachReason = 'replaced' | 'recovering' | 'closed';

/**
 * Where a peer's notifications go: a socket.io connection, or a test's recorder. The room never
 * sees sockets; the signaling layer never sees mediasoup objects.
 */
export interface PeerSink {
  notify<N extends NotificationName>(name: N, payload: NotificationOf<N>): void;
  /** The room dropped this peer (replaced by a newer join, worker recovery, room closed). */
  detached(reason: DetachReason): void;
}

export interface JoinParams {
  role: Role;
  displayName: string;
  clientId: string;
  sink: PeerSink;
}

export type TransportDirection = 'send' | 'recv';

export interface TransportAppData extends Record<string, unknown> {
  direction: TransportDirection;
}

export interface ProducerAppData extends Record<string, unknown> {
  purpose: TrackPurpose;
  peerId: string;
}
