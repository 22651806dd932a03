/**
 * The handles a page holds across reconnects: what it publishes (Publication) and what it
 * consumes (RemoteTrack). StudioSession (session.ts) re-produces and re-consumes them on every
 * join and is the only one that changes them (the @internal methods).
 */
import type { TrackPurpose } from '@microstudio/protocol';
import type { types as ms } from 'mediasoup-client';
import { Emitter } from './emitter.ts';
import type { Quality } from './presets.ts';

/** A local track published to the room. Survives reconnects: it is re-produced on every join. */
export class Publication extends Emitter<{ producer: [producerId: string | null]; closed: [] }> {
  readonly track: MediaStreamTrack;
  readonly purpose: TrackPurpose;
  readonly quality: Quality | null;
  #producer: ms.Producer | null = null;
  #closed = false;

  constructor(track: MediaStreamTrack, purpose: TrackPurpose, quality: Quality | null) {
    super();
    this.track = track;
    this.purpose = purpose;
    this.quality = quality;
  }

  get producerId(): string | null {
    return this.#producer?.id ?? null;
  }
  get closed(): boolean {
    return this.#closed;
  }

  /** @internal */
  setProducer(producer: ms.Producer | null): void {
    this.#producer = producer;
    this.emit('producer', producer?.id ?? null);
  }

  /** @internal */
  markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#producer?.close();
    this.#producer = null;
    this.emit('closed');
    this.removeAllListeners();
  }
}

/**
 * A consumed remote track. Its MediaStreamTrack changes when the session re-consumes after a
 * reconnect ('track' event); it ends when the producer goes away ('ended').
 */
export class RemoteTrack extends Emitter<{ track: [track: MediaStreamTrack]; ended: [] }> {
  readonly producerId: string;
  readonly kind: 'audio' | 'video';
  #spatialLayer: number | undefined;
  #consumer: ms.Consumer | null = null;
  #ended = false;

  constructor(producerId: string, kind: 'audio' | 'video', spatialLayer: number | undefined) {
    super();
    this.producerId = producerId;
    this.kind = kind;
    this.#spatialLayer = spatialLayer;
  }

  get track(): MediaStreamTrack | null {
    return this.#consumer?.track ?? null;
  }
  get consumerId(): string | null {
    return this.#consumer?.id ?? null;
  }
  get spatialLayer(): number | undefined {
    return this.#spatialLayer;
  }
  get ended(): boolean {
    return this.#ended;
  }

  /** The consumer's RTCStatsReport, or null while it has no consumer. */
  async getStats(): Promise<RTCStatsReport | null> {
    const consumer = this.#consumer;
    if (!consumer || consumer.closed) return null;
    try {
      return await consumer.getStats();
    } catch {
      return null;
    }
  }

  /** @internal */
  setSpatialLayer(layer: number): void {
    this.#spatialLayer = layer;
  }

  /** @internal */
  attach(consumer: ms.Consumer): void {
    this.#consumer = consumer;
    this.emit('track', consumer.track);
  }

  /** @internal Drops the consumer (the transport went away) but keeps the handle for re-consuming. */
  detach(): void {
    this.#consumer?.close();
    this.#consumer = null;
  }

  /** @internal */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.detach();
    this.emit('ended');
    this.removeAllListeners();
  }
}
