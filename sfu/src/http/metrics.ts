import {
  type NetworkType,
  roleSchema,
  type TelemetryReport,
  telemetryHopSchema,
} from '@microstudio/protocol';
import type { types } from 'mediasoup';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { TelemetryOrigin, TelemetrySink } from '../signaling/handlers.ts';
import type { WorkerPool } from '../workers/WorkerPool.ts';
import { mediaKinds, takeCensus } from './census.ts';

export interface NodeMetricsDeps {
  pool: WorkerPool;
  registry: RoomRegistry;
  /** The fabric side of this node: open pipes, the uplink (edges) and piped producers. */
  fabric?: () => FabricStatus;
  /** Longest a scrape waits for one worker answer (a wedged worker must not hang /metrics). */
  workerTimeoutMs?: number;
  /** Client telemetry metrics to expose too; default: this registry's clientTelemetry(). */
  telemetry?: ClientTelemetry;
  /** Further metrics registries to expose (e.g. the recorders' reports). */
  more?: Registry[];
}

export interface FabricStatus {
  pipes: number;
  /** An edge's link to its site; `none` on a site. */
  uplink: 'up' | 'down' | 'none';
  /** On an edge: the producers piped from the site. */
  pipedProducers: types.Producer[];
}

export interface NodeMetrics {
  readonly contentType: string;
  /** The Prometheus text exposition, gathered now. */
  render(): Promise<string>;
}

/** A worker request with a deadline; undefined when it fails or is late (worker dying, wedged). */
async function ask<T>(request: () => Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([request().catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The node's Prometheus metrics. Everything is read on scrape from the pool and the room
 * registry (one census walk, one IPC per worker and per producer); only worker deaths and
 * restarts are events, because a scrape cannot see what happened between two scrapes.
 * One prom-client Registry per node, so several nodes in one process (tests) stay apart.
 */
export function createNodeMetrics(deps: NodeMetricsDeps): NodeMetrics {
  const { pool, registry } = deps;
  const timeoutMs = deps.workerTimeoutMs ?? 1000;
  const register = new Registry();
  collectDefaultMetrics({ register });
  const metric = { registers: [register] };

  const workerCpu = new Counter({
    ...metric,
    name: 'microstudio_worker_cpu_seconds_total',
    help: 'CPU time (user + system) of each live mediasoup worker process, from getrusage.',
    labelNames: ['slot', 'pid'] as const,
  });
  const workerUp = new Gauge({
    ...metric,
    name: 'microstudio_worker_up',
    help: '1 while the worker slot has a live process, 0 while its replacement starts.',
    labelNames: ['slot'] as const,
  });
  const workerRooms = new Gauge({
    ...metric,
    name: 'microstudio_worker_rooms',
    help: 'Routers (rooms) placed on each worker slot.',
    labelNames: ['slot'] as const,
  });
  const workerDeaths = new Counter({
    ...metric,
    name: 'microstudio_worker_deaths_total',
    help: 'Worker processes that died unexpectedly, by slot.',
    labelNames: ['slot'] as const,
  });
  const workerRestarts = new Counter({
    ...metric,
    name: 'microstudio_worker_restarts_total',
    help: 'Replacement workers started after a death, by slot.',
    labelNames: ['slot'] as const,
  });
  const rooms = new Gauge({ ...metric, name: 'microstudio_rooms', help: 'Open rooms.' });
  const roomsRecovering = new Gauge({
    ...metric,
    name: 'microstudio_rooms_recovering',
    help: 'Rooms moving to a new router after their worker died.',
  });
  const peers = new Gauge({
    ...metric,
    name: 'microstudio_peers',
    help: 'Joined peers by role.',
    labelNames: ['role'] as const,
  });
  const transports = new Gauge({
    ...metric,
    name: 'microstudio_transports',
    help: 'Open transports by type.',
    labelNames: ['type'] as const,
  });
  const producers = new Gauge({
    ...metric,
    name: 'microstudio_producers',
    help: 'Live producers by kind.',
    labelNames: ['kind'] as const,
  });
  const consumers = new Gauge({
    ...metric,
    name: 'microstudio_consumers',
    help: 'Live consumers by kind.',
    labelNames: ['kind'] as const,
  });
  const sources = new Gauge({
    ...metric,
    name: 'microstudio_sources',
    help: 'Camera sources by connection quality (from mediasoup producer scores, as the control room shows it).',
    labelNames: ['quality'] as const,
  });
  const pipes = new Gauge({
    ...metric,
    name: 'microstudio_pipes',
    help: 'Open site↔edge pipes (PipeTransports) on this node.',
  });
  const uplinkUp = new Gauge({
    ...metric,
    name: 'microstudio_uplink_up',
    help: "An edge's link to its site: 1 up, 0 down (absent on a site).",
  });
  const pipeBitrate = new Gauge({
    ...metric,
    name: 'microstudio_pipe_ingest_bitrate_bps',
    help: 'On an edge: bitrate arriving from the site over pipes, by kind.',
    labelNames: ['kind'] as const,
  });
  const ingestBitrate = new Gauge({
    ...metric,
    name: 'microstudio_producer_bitrate_bps',
    help: 'Sum of the bitrate the worker receives on live producers (all simulcast streams), by kind.',
    labelNames: ['kind'] as const,
  });

  for (let slot = 0; slot < pool.size; slot++) {
    workerDeaths.inc({ slot: String(slot) }, 0);
    workerRestarts.inc({ slot: String(slot) }, 0);
  }
  pool.on('died', (slot) => workerDeaths.inc({ slot: String(slot) }));
  pool.on('replaced', (slot) => workerRestarts.inc({ slot: String(slot) }));

  async function refresh(): Promise<void> {
    const live = pool.info().flatMap((info) => {
      const entry = pool.worker(info.slot);
      return entry ? [entry] : [];
    });
    const census = takeCensus(registry);
    const fabric = deps.fabric?.();
    const [usages, stats, piped] = await Promise.all([
      Promise.all(live.map((w) => ask(() => w.worker.getResourceUsage(), timeoutMs))),
      Promise.all(
        census.liveProducers.map((p) =>
          ask(async (): Promise<[types.MediaKind, number]> => {
            const streams = await p.getStats();
            return [p.kind, streams.reduce((sum, s) => sum + s.bitrate, 0)];
          }, timeoutMs),
        ),
      ),
      Promise.all(
        (fabric?.pipedProducers ?? []).map((p) =>
          ask(async (): Promise<[types.MediaKind, number]> => {
            const streams = await p.getStats();
            return [p.kind, streams.reduce((sum, s) => sum + s.bitrate, 0)];
          }, timeoutMs),
        ),
      ),
    ]);
    // Everything below is synchronous, so concurrent scrapes never interleave half-written values.
    workerCpu.reset();
    live.forEach((w, i) => {
      const usage = usages[i];
      if (!usage) return;
      // getrusage reports milliseconds.
      workerCpu.inc(
        { slot: String(w.slot), pid: String(w.worker.pid) },
        (usage.ru_utime + usage.ru_stime) / 1000,
      );
    });
    for (const info of pool.info()) {
      workerUp.set({ slot: String(info.slot) }, info.alive ? 1 : 0);
      workerRooms.set({ slot: String(info.slot) }, info.rooms);
    }
    rooms.set(census.rooms);
    roomsRecovering.set(census.roomsRecovering);
    for (const [role, n] of Object.entries(census.peers)) peers.set({ role }, n);
    for (const [type, n] of Object.entries(census.transports)) transports.set({ type }, n);
    for (const [kind, n] of Object.entries(census.producers)) producers.set({ kind }, n);
    for (const [kind, n] of Object.entries(census.consumers)) consumers.set({ kind }, n);
    for (const [quality, n] of Object.entries(census.sources)) sources.set({ quality }, n);
    const bitrate = Object.fromEntries(mediaKinds.map((k) => [k, 0]));
    for (const entry of stats) if (entry) bitrate[entry[0]] = (bitrate[entry[0]] ?? 0) + entry[1];
    for (const [kind, bps] of Object.entries(bitrate)) ingestBitrate.set({ kind }, bps);
    if (fabric) {
      pipes.set(fabric.pipes);
      if (fabric.uplink !== 'none') uplinkUp.set(fabric.uplink === 'up' ? 1 : 0);
      const pipedBitrate = Object.fromEntries(mediaKinds.map((k) => [k, 0]));
      for (const entry of piped) if (entry) pipedBitrate[entry[0]] = (pipedBitrate[entry[0]] ?? 0) + entry[1];
      for (const [kind, bps] of Object.entries(pipedBitrate)) pipeBitrate.set({ kind }, bps);
    }
  }

  // After every metric above exists: merge copies the metrics registered so far.
  const exposed = Registry.merge([
    register,
    (deps.telemetry ?? clientTelemetry(registry)).register,
    ...(deps.more ?? []),
  ]);
  return {
    contentType: exposed.contentType,
    async render() {
      await refresh();
      return exposed.metrics();
    },
  };
}

// ── client telemetry ─────────────────────────────────────────────────────────────────────────

/** Client telemetry (telemetry:report) as Prometheus metrics, in a registry of its own. */
export interface ClientTelemetry extends TelemetrySink {
  readonly register: Registry;
  /** A live source's latest device figures (battery, network type); undefined if it sent none. */
  deviceFigures(roomId: string, sourceId: string): DeviceFigures | undefined;
  /** Drops a source's device figures unless it is (again) a live source in its room. */
  forgetSource(roomId: string, sourceId: string): void;
  /** Drops every device figure of a room (it closed). */
  forgetRoom(roomId: string): void;
}

/** What a source's device last reported of itself (each figure kept until a report replaces it). */
export interface DeviceFigures {
  battery?: { level: number; charging: boolean };
  networkType?: NetworkType;
}

const telemetryRoles = [...roleSchema.options, 'mirror'] as const;
const telemetryByRegistry = new WeakMap<RoomRegistry, ClientTelemetry>();

/**
 * The client telemetry metrics of the node that owns `registry`, made on first use. Keyed by the
 * room registry because both ends need the one instance: signaling records into it
 * (node.ts passes it to createSignalingServer) and createNodeMetrics, which the HTTP app builds from
 * (pool, registry), exposes it.
 */
export function clientTelemetry(registry: RoomRegistry): ClientTelemetry {
  let telemetry = telemetryByRegistry.get(registry);
  if (!telemetry) {
    telemetry = createClientTelemetry(registry);
    telemetryByRegistry.set(registry, telemetry);
  }
  return telemetry;
}

/**
 * Histograms by {role, hop} (4 × 3 label values at most), a freeze counter, and each camera
 * source's latest battery level (at most MAX_SOURCES_PER_ROOM per room; a source's series goes
 * when it is no longer a camera in its room, checked on every scrape and every new series).
 * Nothing else of a report is kept.
 */
export function createClientTelemetry(registry: RoomRegistry): ClientTelemetry {
  const register = new Registry();
  const metric = { registers: [register], labelNames: ['role', 'hop'] as const };
  const histogram = (name: string, help: string, buckets: number[]) =>
    new Histogram({ ...metric, name, help, buckets });
  const startup = histogram(
    'microstudio_client_startup_ms',
    'Pages: join (room:join sent) to the first video frame decoded (or encoded, on a camera), ms.',
    [100, 250, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000],
  );
  const cutToFrame = histogram(
    'microstudio_client_cut_to_frame_ms',
    'Pages: a cut seen by the page to the first frame of the new program source decoded, ms.',
    [10, 25, 50, 100, 150, 250, 500, 1000, 2000, 5000],
  );
  const glassToGlass = histogram(
    'microstudio_client_glass_to_glass_ms',
    'Pages: capture (time code drawn by a test-pattern source) to presentation, ms (needs synchronised clocks).',
    [50, 100, 150, 200, 300, 400, 500, 750, 1000, 2000, 5000],
  );
  const rtt = histogram(
    'microstudio_client_rtt_ms',
    'Pages: round-trip time to the media node (selected ICE candidate pair), ms.',
    [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
  );
  const jitter = histogram(
    'microstudio_client_jitter_ms',
    'Pages: interarrival jitter of received streams (of sent streams on a camera), ms.',
    [1, 2, 5, 10, 20, 30, 50, 100, 200, 500],
  );
  const loss = histogram(
    'microstudio_client_packet_loss_pct',
    'Pages: packets lost over packets sent and received between two reports, percent.',
    [0.1, 0.5, 1, 2, 5, 10, 20, 50, 100],
  );
  const freezes = new Counter({
    ...metric,
    name: 'microstudio_client_freezes_total',
    help: 'Pages: video freezes (inbound-rtp freezeCount) reported.',
  });
  for (const role of telemetryRoles)
    for (const hop of telemetryHopSchema.options) freezes.inc({ role, hop }, 0);

  /**
   * Latest device figures of live sources (room+source key): at most MAX_SOURCES_PER_ROOM per room,
   * dropped when the source leaves (forgetSource, from the room registry) or is found gone.
   */
  const devices = new Map<string, DeviceFigures>();
  const isLiveSource = (room: string, source: string): boolean =>
    registry
      .get(room)
      ?.peers()
      .some((p) => p.isSource && p.clientId === source) ?? false;

  /** series key → labels, for the battery gauge's live series. */
  const batterySeries = new Map<string, { room: string; source: string }>();
  const isLiveCamera = ({ room, source }: { room: string; source: string }): boolean =>
    registry
      .get(room)
      ?.peers()
      .some((p) => p.role === 'camera' && p.clientId === source) ?? false;
  const prune = (): void => {
    for (const [key, labels] of batterySeries) {
      if (isLiveCamera(labels)) continue;
      battery.remove(labels);
      batterySeries.delete(key);
    }
  };
  const battery = new Gauge({
    registers: [register],
    name: 'microstudio_client_battery_level',
    help: "Camera sources: the device's latest battery level (0..1), where its browser exposes it.",
    labelNames: ['room', 'source'] as const,
    collect: prune,
  });

  return {
    register,
    deviceFigures(roomId: string, sourceId: string): DeviceFigures | undefined {
      const key = JSON.stringify([roomId, sourceId]);
      const figures = devices.get(key);
      if (figures && !isLiveSource(roomId, sourceId)) {
        devices.delete(key);
        return undefined;
      }
      return figures;
    },
    forgetSource(roomId: string, sourceId: string): void {
      if (!isLiveSource(roomId, sourceId)) devices.delete(JSON.stringify([roomId, sourceId]));
    },
    forgetRoom(roomId: string): void {
      for (const key of devices.keys()) if ((JSON.parse(key) as string[])[0] === roomId) devices.delete(key);
    },
    record(origin: TelemetryOrigin, report: TelemetryReport): void {
      if (origin.sourceId !== undefined && (report.battery || report.networkType)) {
        const key = JSON.stringify([origin.roomId, origin.sourceId]);
        const figures = { ...devices.get(key) };
        if (report.battery) figures.battery = { ...report.battery };
        if (report.networkType) figures.networkType = report.networkType;
        devices.set(key, figures);
      }
      const labels = { role: origin.role, hop: report.hop };
      if (report.startupMs !== undefined) startup.observe(labels, report.startupMs);
      if (report.cutToFrameMs !== undefined) cutToFrame.observe(labels, report.cutToFrameMs);
      if (report.glassToGlassMs !== undefined) glassToGlass.observe(labels, report.glassToGlassMs);
      if (report.rttMs !== undefined) rtt.observe(labels, report.rttMs);
      if (report.jitterMs !== undefined) jitter.observe(labels, report.jitterMs);
      if (report.packetLossPct !== undefined) loss.observe(labels, report.packetLossPct);
      if (report.freezes) freezes.inc(labels, report.freezes);
      if (report.battery && origin.role === 'camera' && origin.sourceId !== undefined) {
        const series = { room: origin.roomId, source: origin.sourceId };
        const key = JSON.stringify([series.room, series.source]);
        if (!batterySeries.has(key)) {
          prune();
          batterySeries.set(key, series);
        }
        battery.set(series, report.battery.level);
      }
    },
  };
}
