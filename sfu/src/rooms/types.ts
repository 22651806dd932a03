import type { NotificationName, NotificationOf, Role, Source, TrackPurpose } from '@microstudio/protocol';
import type { types } from 'mediasoup';

type Producer = types.Producer;

/** Per-room and per-peer limits (from configuration). */
export interface RoomLimits {
  maxPeersPerRoom: number;
  maxTransportsPerPeer: number;
  maxProducersPerPeer: number;
  maxConsumersPerPeer: number;
  /** MICROSTUDIO_MAX_GUESTS_PER_ROOM (default: the protocol's MAX_GUESTS_PER_ROOM). */
  maxGuestsPerRoom?: number;
  /** MICROSTUDIO_MAX_SOURCES_PER_ROOM (default and ceiling: the protocol's MAX_SOURCES_PER_ROOM). */
  maxSourcesPerRoom?: number;
}

/**
 * Why a peer stopped being part of its room without asking to. `rejected` and `removed` are a
 * guest the director turned away or took out of the show: its connection is closed.
 */
export type DetachReason = 'replaced' | 'recovering' | 'closed' | 'rejected' | 'removed';

/**
 * Where a peer's notifications go: a socket.io connection, or a test's recorder. The room never
 * sees sockets; the signaling layer never sees mediasoup objects.
 */
export interface PeerSink {
  notify<N extends NotificationName>(name: N, payload: NotificationOf<N>): void;
  /** The room dropped this peer (replaced by a newer join, worker recovery, room closed). */
  detached(reason: DetachReason): void;
}

/**
 * A peer's role: a client role from the protocol, or `mirror` — an edge node's end of a
 * site↔edge pipe, which joins the site's room to receive its state and consume its producers.
 */
export type PeerRole = Role | 'mirror';

export interface JoinParams {
  role: PeerRole;
  displayName: string;
  clientId: string;
  sink: PeerSink;
  /** The invite (token id) the peer joined with, when it came through signaling. */
  inviteId?: string | undefined;
}

/**
 * A guest's standing in its room, kept by the room per guest (client) id so that a guest who
 * reconnects stays admitted (and muted). Shared by the room and the guest's current Peer.
 */
export interface GuestEntry {
  state: 'waiting' | 'admitted';
  muted: boolean;
}

export type TransportDirection = 'send' | 'recv';

export interface TransportAppData extends Record<string, unknown> {
  direction: TransportDirection;
}

/**
 * Where an edge room's sources come from: the site, through a pipe. A room with an upstream
 * admits viewers only, shows the site's sources and program, and pipes a producer on demand.
 */
export interface RoomUpstream {
  /** The site's sources, producer ids unchanged (pipes keep them). */
  sources(): Source[];
  /** Whether the link to the site is up now. */
  readonly uplink: 'up' | 'down';
  /** The producer on this room's router for a site producer id, piped when missing. */
  producer(producerId: string): Promise<Producer>;
}

export interface ProducerAppData extends Record<string, unknown> {
  purpose: TrackPurpose;
  peerId: string;
}
