import type { TokenClaims } from '@microstudio/auth';
import type { NotificationName, NotificationOf, ServerToClientEvents } from '@microstudio/protocol';
import type { Socket } from 'socket.io';
import type { Logger } from '../log.ts';
import type { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import type { DetachReason, PeerSink } from '../rooms/types.ts';
import { RateLimiter } from './RateLimiter.ts';

/**
 * One socket.io connection's state: the room and peer it joined (if any), the room it was
 * detached from by a worker recovery, and its rate limiter. It is the peer's notification sink.
 */
export class Session implements PeerSink {
  readonly socket: Socket<Record<string, never>, ServerToClientEvents>;
  readonly limiter: RateLimiter;
  readonly log: Logger;
  room: Room | undefined;
  peer: Peer | undefined;
  /** The token this connection joined with (its invite id is `claims.jti`). */
  claims: TokenClaims | undefined;
  /** The room this connection was detached from by a worker recovery. */
  recoveringRoom: Room | undefined;
  /** A room:join is in flight. */
  joining = false;
  /** Whether an ack-less message was already logged for this connection. */
  loggedNoAck = false;
  /** performance.now() of the last accepted telemetry:report (TELEMETRY_MIN_INTERVAL_MS apart). */
  lastTelemetryAt: number | undefined;

  constructor(
    socket: Socket<Record<string, never>, ServerToClientEvents>,
    messagesPerSecond: number,
    log: Logger,
  ) {
    this.socket = socket;
    this.limiter = new RateLimiter(messagesPerSecond);
    this.log = log;
  }

  attach(room: Room, peer: Peer, claims: TokenClaims): void {
    this.room = room;
    this.peer = peer;
    this.claims = claims;
    this.recoveringRoom = undefined;
  }

  /** Forgets the room; returns the peer that was joined. */
  release(): Peer | undefined {
    const peer = this.peer;
    this.room = undefined;
    this.peer = undefined;
    return peer;
  }

  notify<N extends NotificationName>(name: N, payload: NotificationOf<N>): void {
    (this.socket.emit as (event: string, data: unknown) => boolean)(name, payload);
  }

  detached(reason: DetachReason): void {
    const room = this.room;
    this.release();
    this.log.info('peer detached', { socket: this.socket.id, reason });
    if (reason === 'recovering') {
      this.recoveringRoom = room;
      this.socket.emit('room:rejoin', { reason: 'the media worker of this room restarted' });
    }
    // A guest the director rejected or removed: its guest:status went out first, and a namespace
    // disconnect is sent after it on the same connection, so the page reads both in order.
    if (reason === 'rejected' || reason === 'removed') this.socket.disconnect();
  }
}
