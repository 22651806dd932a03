import { randomUUID } from 'node:crypto';
import type { SourceTrack, TrackPurpose } from '@microstudio/protocol';
import type { types } from 'mediasoup';
import type { PeerRole, PeerSink } from './types.ts';

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
  #closed = false;

  constructor(params: { role: PeerRole; displayName: string; clientId: string; sink: PeerSink }) {
    this.role = params.role;
    this.displayName = params.displayName;
    this.clientId = params.clientId;
    this.sink = params.sink;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A camera is a source; its id is the client's stable id. */
  get sourceId(): string | undefined {
    return this.role === 'camera' ? this.clientId : undefined;
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
