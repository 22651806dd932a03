import { type MediaKind, roleSchema } from '@microstudio/protocol';
import type { types } from 'mediasoup';
import { type Quality, qualityOf } from '../rooms/quality.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { PeerRole } from '../rooms/types.ts';

/** Every value a label may take, so a series exists (at 0) before its first object does. */
export const mediaKinds: readonly MediaKind[] = ['audio', 'video'];
export const transportTypes: readonly types.TransportType[] = ['webrtc', 'plain', 'pipe', 'direct'];
export const qualities: readonly Quality[] = ['good', 'fair', 'poor', 'lost'];

/** What the node hosts right now, counted by bounded label values (never by object id). */
export interface Census {
  rooms: number;
  roomsRecovering: number;
  peers: Record<PeerRole, number>;
  transports: Record<types.TransportType, number>;
  producers: Record<MediaKind, number>;
  consumers: Record<MediaKind, number>;
  /** Camera sources by the connection quality the control room shows for them. */
  sources: Record<Quality, number>;
  /** Live producers, for scrape-time stats (bitrate). */
  liveProducers: types.Producer[];
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

/**
 * Walks the registry's ownership tree once. Called on scrape (a few thousand objects at most),
 * so the media path never pays for metrics.
 */
export function takeCensus(registry: RoomRegistry): Census {
  const census: Census = {
    rooms: 0,
    roomsRecovering: 0,
    peers: zeros([...roleSchema.options, 'mirror'] as const),
    transports: zeros(transportTypes),
    producers: zeros(mediaKinds),
    consumers: zeros(mediaKinds),
    sources: zeros(qualities),
    liveProducers: [],
  };
  for (const room of registry.rooms()) {
    census.rooms += 1;
    if (room.recovering) census.roomsRecovering += 1;
    for (const peer of room.peers()) {
      census.peers[peer.role] = (census.peers[peer.role] ?? 0) + 1;
      for (const transport of peer.transports.values()) census.transports[transport.type] += 1;
      const producers = [...peer.producers.values()].map((entry) => entry.producer);
      for (const producer of producers) {
        census.producers[producer.kind] += 1;
        census.liveProducers.push(producer);
      }
      for (const consumer of peer.consumers.values()) census.consumers[consumer.kind] += 1;
      if (peer.isSource) census.sources[qualityOf(producers)] += 1;
    }
  }
  return census;
}
