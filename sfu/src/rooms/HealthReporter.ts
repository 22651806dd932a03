import type { HealthSources, NetworkType, SourceHealth } from '@microstudio/protocol';
import { MAX_SOURCES_PER_ROOM, TELEMETRY_BOUNDS } from '@microstudio/protocol';
import type { types } from 'mediasoup';
import type { Logger } from '../log.ts';
import type { Peer } from './Peer.ts';
import { qualityOf } from './quality.ts';
import type { Room } from './Room.ts';

/** What a source's device last reported of itself (http/metrics.ts clientTelemetry keeps it). */
export interface SourceDeviceFigures {
  battery?: { level: number; charging: boolean };
  networkType?: NetworkType;
}

export interface HealthReporterOptions {
  /** The latest device figures of one of this room's sources, if it reported any. */
  devices?: (sourceId: string) => SourceDeviceFigures | undefined;
  /** How often directors are told (default 2000 ms). */
  intervalMs?: number;
  /** Longest one producer's getStats may take (a wedged worker must not stall the reports). */
  statsTimeoutMs?: number;
  logger: Logger;
}

/** Packet counters of one received RTP stream at the previous report. */
interface StreamCounters {
  packetCount: number;
  packetsLost: number;
}

const DEFAULT_INTERVAL_MS = 2000;

/** Resolves with `request`'s stats, or [] when it fails or is late (never rejects). */
async function statsOf(producer: types.Producer, timeoutMs: number): Promise<types.ProducerStat[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<types.ProducerStat[]>((resolve) => {
    timer = setTimeout(() => resolve([]), timeoutMs);
  });
  try {
    return await Promise.race([producer.getStats().catch(() => []), late]);
  } finally {
    clearTimeout(timer);
  }
}

const round1 = (n: number): number => Math.round(n * 10) / 10;

/**
 * The technician's health feed of one room: every `intervalMs`, while at least one director is
 * in the room, each source's video ingest bitrate, packet loss, quality and its device's latest
 * battery and network type go to the directors only (`health:sources`).
 *
 * Loss is computed from the producer streams' cumulative `packetsLost` and `packetCount` deltas
 * between two reports (lost / (lost + received)), not from `fractionLost` (that is an 8-bit figure
 * of the last RTCP interval only). The first report of a stream has no previous counters: it
 * counts from the stream's start. The timer is unref'd (it never keeps the process or an empty
 * room alive), stops on close() and on the room's '@close', and a failing getStats counts as
 * no stats rather than throwing.
 */
export class HealthReporter {
  readonly #room: Room;
  readonly #options: HealthReporterOptions;
  readonly #timer: NodeJS.Timeout;
  /** `producerId|ssrc` → counters at the previous report. */
  #counters = new Map<string, StreamCounters>();
  #busy = false;
  #closed = false;

  constructor(room: Room, options: HealthReporterOptions) {
    this.#room = room;
    this.#options = options;
    this.#timer = setInterval(() => void this.report(), options.intervalMs ?? DEFAULT_INTERVAL_MS);
    this.#timer.unref();
    room.on('@close', () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops the timer. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#counters.clear();
  }

  /** One report now (the timer calls this); resolves when sent, or skipped. Never rejects. */
  async report(): Promise<void> {
    if (this.#closed || this.#busy) return;
    const room = this.#room;
    if (room.closed) {
      this.close();
      return;
    }
    if (room.recovering || room.mirrored || !room.peers().some((p) => p.role === 'director')) return;
    this.#busy = true;
    try {
      const sources = room
        .peers()
        .filter((p) => p.isSource)
        .slice(0, MAX_SOURCES_PER_ROOM);
      const seen = new Set<string>();
      const health = await Promise.all(sources.map((peer) => this.#measure(peer, seen)));
      for (const key of this.#counters.keys()) if (!seen.has(key)) this.#counters.delete(key);
      if (this.#closed || room.closed) return;
      const payload: HealthSources = { roomId: room.id, at: Date.now(), sources: health };
      for (const peer of room.peers())
        if (peer.role === 'director') peer.sink.notify('health:sources', payload);
    } catch (error) {
      this.#options.logger.warn('health report failed', { room: room.id, error: String(error) });
    } finally {
      this.#busy = false;
    }
  }

  async #measure(peer: Peer, seen: Set<string>): Promise<SourceHealth> {
    const producers = [...peer.producers.values()].map((entry) => entry.producer).filter((p) => !p.closed);
    const video = producers.filter((p) => p.kind === 'video');
    const measured = video.length > 0 ? video : producers.filter((p) => p.kind === 'audio');
    const timeoutMs = this.#options.statsTimeoutMs ?? 1000;
    let bitrate = 0;
    let lost = 0;
    let expected = 0;
    await Promise.all(
      measured.map(async (producer) => {
        for (const stat of await statsOf(producer, timeoutMs)) {
          if (producer.kind === 'video') bitrate += Number.isFinite(stat.bitrate) ? stat.bitrate : 0;
          const key = `${producer.id}|${stat.ssrc}`;
          seen.add(key);
          const previous = this.#counters.get(key) ?? { packetCount: 0, packetsLost: 0 };
          const received = Math.max(0, stat.packetCount - previous.packetCount);
          const lostNow = Math.max(0, stat.packetsLost - previous.packetsLost);
          lost += lostNow;
          expected += received + lostNow;
          this.#counters.set(key, { packetCount: stat.packetCount, packetsLost: stat.packetsLost });
        }
      }),
    );
    const devices = this.#options.devices?.(peer.clientId);
    return {
      sourceId: peer.clientId,
      displayName: peer.displayName,
      bitrateKbps: Math.min(TELEMETRY_BOUNDS.bitrateKbps, round1(bitrate / 1000)),
      lossPct: expected > 0 ? Math.min(100, round1((lost / expected) * 100)) : 0,
      quality: qualityOf(producers),
      ...(devices?.battery ? { battery: { ...devices.battery } } : {}),
      ...(devices?.networkType ? { networkType: devices.networkType } : {}),
    };
  }
}
