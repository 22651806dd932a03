import { randomUUID } from 'node:crypto';
import type { SourceTrack, TrackPurpose } from '@microstudio/protocol';
import type { types } from 'mediasoup';
import type { GuestEntry, PeerRole, PeerSink } from './types.ts';

export interface PeerProducer {
  producer: types.Producer;
  purpose: TrackPurpose;
}

/**
 * One joined connection and the media objects it owns. Closing a transport closes its producers
 * and consumers (mediasoup's cascade); the room keeps these maps in step through events.
 */
export class Peer {
  readonly id = randomUUID();
  readonly role: PeerRole;
  readonly displayName: string;
  readonly clientId: string;
  readonly sink: PeerSink;
  readonly joinedAt = Date.now();
  readonly transports = new Map<string, types.Transport>();
  readonly producers = new Map<string, PeerProducer>();
  readonly consumers = new Map<string, types.Consumer>();
  /** The invite (token id) this peer joined with, if known. */
  readonly inviteId: string | undefined;
  /** A guest's green-room standing (the room's entry for its client id); undefined otherwise. */
  readonly guest: GuestEntry | undefined;
  #closed = false;

  constructor(params: {
    role: PeerRole;
    displayName: string;
    clientId: string;
    sink: PeerSink;
    inviteId?: string | undefined;
    guest?: GuestEntry | undefined;
  }) {
    this.role = params.role;
    this.displayName = params.displayName;
    this.clientId = params.clientId;
    this.sink = params.sink;
    this.inviteId = params.inviteId;
    this.guest = params.role === 'guest' ? params.guest : undefined;
  }

  /** A guest the director has not admitted yet (it may only watch the program). */
  get waiting(): boolean {
    return this.role === 'guest' && this.guest?.state !== 'admitted';
  }

  /** A camera, or an admitted guest: it publishes and is a source. */
  get isSource(): boolean {
    return this.role === 'camera' || (this.role === 'guest' && this.guest?.state === 'admitted');
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A camera (or an admitted guest) is a source; its id is the client's stable id. */
  get sourceId(): string | undefined {
    return this.isSource ? this.clientId : undefined;
  }

  tracks(): SourceTrack[] {
    return [...this.producers.values()].map(({ producer, purpose }) => ({
      producerId: producer.id,
      kind: producer.kind,
      purpose,
      paused: producer.paused,
    }));
  }

  /** Closes every transport (and so every producer and consumer). Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.dropMedia();
  }

  /** Closes and forgets media objects; the peer itself stays usable (until close()). */
  dropMedia(): void {
    for (const transport of this.transports.values()) transport.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
  }
}
