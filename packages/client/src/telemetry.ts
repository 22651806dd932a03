import type { ProgramState, TelemetryHop, TelemetryReport } from '@microstudio/protocol';
import { TELEMETRY_MIN_INTERVAL_MS } from '@microstudio/protocol/limits';
import { clampTelemetry, isNetworkType } from '@microstudio/protocol/wire';
import { readTimeCode, timeCodeRegion, unwrapTimeCode } from '@microstudio/telemetry';
import type { ConnectionState } from './session.ts';
import type { StatsLike } from './stats.ts';

/**
 * Client telemetry: a page's own view of its media (getStats of its transports, first frames,
 * cuts, glass-to-glass latency, battery and network), sent to the node as `telemetry:report`
 * every TELEMETRY_MIN_INTERVAL_MS at most, where it becomes Prometheus metrics. Pages opt in by
 * creating a TelemetryReporter. Nothing here ever throws into the page.
 */

// ── figures from two stats samples (pure) ──────────────────────────────────────────────────────

interface RtcStat {
  type?: unknown;
  kind?: unknown;
  mediaType?: unknown;
  id?: unknown;
  [key: string]: unknown;
}

/** Every stats object of a page's transports at one moment, keyed `<transport index>:<stat id>`. */
export interface StatsSample {
  /** When it was taken (ms, any monotonic clock). */
  at: number;
  stats: ReadonlyMap<string, RtcStat>;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const kindOf = (stat: RtcStat): unknown => stat.kind ?? stat.mediaType;
const mean = (values: readonly number[]): number | undefined =>
  values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : undefined;

/** One sample from the reports of every transport (StudioSession.transportStats()). */
export function statsSample(reports: readonly StatsLike[], at: number): StatsSample {
  const stats = new Map<string, RtcStat>();
  reports.forEach((report, index) => {
    let n = 0;
    report.forEach((value) => {
      if (typeof value !== 'object' || value === null) return;
      const stat = value as RtcStat;
      stats.set(`${index}:${typeof stat.id === 'string' ? stat.id : `#${n}`}`, stat);
      n += 1;
    });
  });
  return { at, stats };
}

/** The figures a report carries from stats: the interval's deltas between `previous` and `current`. */
export type StatsFigures = Pick<
  TelemetryReport,
  'rttMs' | 'jitterMs' | 'packetLossPct' | 'bitrateKbps' | 'decodeMsPerFrame' | 'encodeMsPerFrame' | 'freezes'
>;

/**
 * Figures over the interval from `previous` to `current` (from the start of each stream when
 * `previous` is null or lacks it; a counter that went backwards restarted). Rates need both
 * samples; a figure with nothing to measure (no inbound video to decode…) is left out.
 */
export function statsFigures(previous: StatsSample | null, current: StatsSample): StatsFigures {
  const delta = (key: string, stat: RtcStat, field: string): number => {
    const now = num(stat[field]);
    if (now === undefined) return 0;
    const before = num(previous?.stats.get(key)?.[field]) ?? 0;
    return now >= before ? now - before : now;
  };
  let hasInbound = false;
  let hasOutbound = false;
  let bytesIn = 0;
  let bytesOut = 0;
  let packets = 0;
  let lost = 0;
  let decodeSeconds = 0;
  let framesDecoded = 0;
  let encodeSeconds = 0;
  let framesEncoded = 0;
  let freezes: number | undefined;
  const jitters: number[] = [];
  const remoteJitters: number[] = [];
  const remoteRtts: number[] = [];
  const pairRtts: number[] = [];
  const nominatedRtts: number[] = [];
  for (const [key, stat] of current.stats) {
    const video = kindOf(stat) === 'video';
    switch (stat.type) {
      case 'inbound-rtp': {
        hasInbound = true;
        bytesIn += delta(key, stat, 'bytesReceived');
        packets += delta(key, stat, 'packetsReceived');
        lost += Math.max(0, delta(key, stat, 'packetsLost'));
        const jitter = num(stat.jitter);
        if (jitter !== undefined) jitters.push(jitter);
        if (video) {
          decodeSeconds += delta(key, stat, 'totalDecodeTime');
          framesDecoded += delta(key, stat, 'framesDecoded');
          if (num(stat.freezeCount) !== undefined) freezes = (freezes ?? 0) + delta(key, stat, 'freezeCount');
        }
        break;
      }
      case 'outbound-rtp':
        hasOutbound = true;
        bytesOut += delta(key, stat, 'bytesSent');
        packets += delta(key, stat, 'packetsSent');
        if (video) {
          encodeSeconds += delta(key, stat, 'totalEncodeTime');
          framesEncoded += delta(key, stat, 'framesEncoded');
        }
        break;
      case 'remote-inbound-rtp': {
        // What the node reports back about what this page sends.
        lost += Math.max(0, delta(key, stat, 'packetsLost'));
        const jitter = num(stat.jitter);
        if (jitter !== undefined) remoteJitters.push(jitter);
        const rtt = num(stat.roundTripTime);
        if (rtt !== undefined) remoteRtts.push(rtt);
        break;
      }
      case 'transport': {
        const pairId = stat.selectedCandidatePairId;
        if (typeof pairId !== 'string') break;
        const pair = current.stats.get(`${key.slice(0, key.indexOf(':'))}:${pairId}`);
        const rtt = num(pair?.currentRoundTripTime);
        if (rtt !== undefined) pairRtts.push(rtt);
        break;
      }
      case 'candidate-pair': {
        const rtt = num(stat.currentRoundTripTime);
        if (stat.nominated === true && stat.state === 'succeeded' && rtt !== undefined)
          nominatedRtts.push(rtt);
        break;
      }
    }
  }
  const figures: StatsFigures = {};
  const rtt = mean(pairRtts) ?? mean(nominatedRtts) ?? mean(remoteRtts);
  if (rtt !== undefined) figures.rttMs = rtt * 1000;
  const jitter = mean(jitters) ?? mean(remoteJitters);
  if (jitter !== undefined) figures.jitterMs = jitter * 1000;
  if (packets + lost > 0) figures.packetLossPct = (100 * lost) / (packets + lost);
  const elapsedMs = previous ? current.at - previous.at : 0;
  if (elapsedMs > 0 && (hasInbound || hasOutbound)) {
    // bytes × 8 / ms = kbit/s
    figures.bitrateKbps = {
      ...(hasInbound ? { in: (bytesIn * 8) / elapsedMs } : {}),
      ...(hasOutbound ? { out: (bytesOut * 8) / elapsedMs } : {}),
    };
  }
  if (framesDecoded > 0) figures.decodeMsPerFrame = (decodeSeconds * 1000) / framesDecoded;
  if (framesEncoded > 0) figures.encodeMsPerFrame = (encodeSeconds * 1000) / framesEncoded;
  if (freezes !== undefined) figures.freezes = freezes;
  return figures;
}

/** Video frames this page has decoded or encoded (all streams): > 0 once a first frame exists. */
export function videoFrames(sample: StatsSample): number {
  let frames = 0;
  for (const stat of sample.stats.values()) {
    if (kindOf(stat) !== 'video') continue;
    if (stat.type === 'inbound-rtp') frames += num(stat.framesDecoded) ?? 0;
    if (stat.type === 'outbound-rtp') frames += num(stat.framesEncoded) ?? 0;
  }
  return frames;
}

/** Frames decoded for one received track (inbound-rtp trackIdentifier), or null when not there. */
export function framesDecodedFor(sample: StatsSample, trackId: string): number | null {
  for (const stat of sample.stats.values()) {
    if (stat.type === 'inbound-rtp' && stat.trackIdentifier === trackId) return num(stat.framesDecoded) ?? 0;
  }
  return null;
}

// ── the reporter ───────────────────────────────────────────────────────────────────────────────

/** What a TelemetryReporter needs of a StudioSession. */
export interface TelemetrySession {
  readonly state: ConnectionState;
  readonly program: ProgramState | null;
  on(event: 'state', listener: (state: ConnectionState) => void): () => void;
  on(event: 'program', listener: (program: ProgramState) => void): () => void;
  transportStats(): Promise<readonly StatsLike[]>;
  sendTelemetry(report: TelemetryReport): Promise<boolean>;
}

export interface TelemetryReporterOptions {
  /** The path this page's media takes; a function is asked before every report (a viewer can move). */
  hop: TelemetryHop | (() => TelemetryHop);
  /** Add battery and network type (navigator.getBattery, navigator.connection) where the browser has them. */
  device?: boolean;
  /**
   * The received video track of a source (e.g. from the page's store): times cuts (cutToFrameMs)
   * and reads the program source's time code (glassToGlassMs; test-pattern sources draw one).
   */
  videoTrackOf?: (sourceId: string) => MediaStreamTrack | null;
  /**
   * From the answer to one report to the next sample; default TELEMETRY_MIN_INTERVAL_MS (the node
   * refuses reports closer than that, so only tests go lower).
   */
  intervalMs?: number;
  /** How often stats are polled while a first frame is awaited (startup, after a cut); default 50 ms. */
  pollMs?: number;
  /** Reads glass-to-glass latency (ms) from a video track; default: a DOM reader where there is a DOM. */
  glassToGlass?: ((track: MediaStreamTrack) => Promise<number | null>) | null;
  /** Device figures; default: from navigator. */
  deviceFigures?: () => Promise<DeviceFigures>;
}

export type DeviceFigures = Pick<TelemetryReport, 'battery' | 'networkType'>;

/** Longest a first frame is waited for. */
const STARTUP_WAIT_MS = 60_000;
const CUT_WAIT_MS = 10_000;
/** Longest the optional readers (battery, time code) may hold a report up. */
const READER_TIMEOUT_MS = 500;

const withTimeout = <T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> =>
  new Promise<T>((resolve) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(fallback);
      },
    );
  });

/** When the session last sent room:join (StudioSession marks it), in performance.now() time. */
function lastJoinSentAt(): number | undefined {
  try {
    return performance.getEntriesByName('microstudio:join-sent', 'mark').at(-1)?.startTime;
  } catch {
    return undefined;
  }
}

/**
 * Samples a session's stats every `intervalMs` and sends `telemetry:report`: RTT, jitter, loss,
 * bitrates, decode/encode time per frame and freezes over the interval; join-to-first-frame once
 * per join; cut-to-first-frame after each cut (with `videoTrackOf`); glass-to-glass latency of the
 * program source when it carries a time code; battery and network type (with `device`).
 * The next sample is taken `intervalMs` after the previous report was answered, so the node never
 * sees two closer than its TELEMETRY_MIN_INTERVAL_MS. While not connected nothing is sent (a
 * report is dropped, never queued). Close it with close().
 */
export class TelemetryReporter {
  readonly #session: TelemetrySession;
  readonly #options: TelemetryReporterOptions;
  readonly #intervalMs: number;
  readonly #pollMs: number;
  readonly #offs: (() => void)[] = [];
  readonly #glassToGlass: ((track: MediaStreamTrack) => Promise<number | null>) | null;
  readonly #closeGlassToGlass: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #previous: StatsSample | null = null;
  /** A join waiting for its first frame. */
  #startup: { origin: number } | null = null;
  /** A cut waiting for the new program source's first frame. */
  #cut: { at: number; sourceId: string; baseline: number | null } | null = null;
  #startupMs: number | undefined;
  #cutToFrameMs: number | undefined;
  /** Whether this join's program state is known, so the next change is a cut. */
  #programKnown: boolean;
  #programSourceId: string | null;
  #lostAt: number;

  constructor(session: TelemetrySession, options: TelemetryReporterOptions) {
    this.#session = session;
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? TELEMETRY_MIN_INTERVAL_MS;
    this.#pollMs = Math.max(10, options.pollMs ?? 50);
    this.#programSourceId = session.program?.programSourceId ?? null;
    this.#programKnown = session.program !== null;
    this.#lostAt = performance.now();
    if (options.glassToGlass !== undefined) {
      this.#glassToGlass = options.glassToGlass;
      this.#closeGlassToGlass = () => {};
    } else if (options.videoTrackOf && typeof document !== 'undefined') {
      const reader = new TimeCodeReader();
      this.#glassToGlass = (track) => reader.glassToGlassMs(track);
      this.#closeGlassToGlass = () => reader.close();
    } else {
      this.#glassToGlass = null;
      this.#closeGlassToGlass = () => {};
    }
    try {
      this.#offs.push(session.on('state', (state) => this.#onState(state)));
      this.#offs.push(session.on('program', (program) => this.#onProgram(program)));
      if (session.state === 'connected') this.#armStartup(lastJoinSentAt() ?? performance.now());
    } catch {
      // A session that cannot be listened to still gets periodic reports.
    }
    this.#schedule();
  }

  /** Stops reporting. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#pollTimer);
    for (const off of this.#offs) {
      try {
        off();
      } catch {
        // ignore
      }
    }
    this.#offs.length = 0;
    try {
      this.#closeGlassToGlass();
    } catch {
      // ignore
    }
  }

  #onState(state: ConnectionState): void {
    if (state === 'connected') {
      // A new join: new peer connections (their counters start again) and a first frame to time.
      this.#previous = null;
      const joinSent = lastJoinSentAt();
      this.#armStartup(joinSent !== undefined && joinSent >= this.#lostAt ? joinSent : this.#lostAt);
    } else {
      this.#lostAt = performance.now();
      this.#startup = null;
      this.#cut = null;
      this.#programKnown = false;
    }
  }

  #onProgram(program: ProgramState): void {
    const sourceId = program.programSourceId;
    const isCut = this.#programKnown && sourceId !== null && sourceId !== this.#programSourceId;
    this.#programKnown = true;
    this.#programSourceId = sourceId;
    if (isCut && sourceId !== null && this.#options.videoTrackOf) {
      this.#cut = { at: performance.now(), sourceId, baseline: null };
      this.#poll();
    }
  }

  #armStartup(origin: number): void {
    this.#startup = { origin };
    this.#poll();
  }

  #hop(): TelemetryHop {
    const { hop } = this.#options;
    if (typeof hop !== 'function') return hop;
    try {
      return hop();
    } catch {
      return 'site';
    }
  }

  #trackOf(sourceId: string | null): MediaStreamTrack | null {
    if (sourceId === null || !this.#options.videoTrackOf) return null;
    try {
      return this.#options.videoTrackOf(sourceId);
    } catch {
      return null;
    }
  }

  /** Polls stats quickly while a first frame is awaited (the first poll at once: a cut's baseline). */
  #poll(delayMs = 0): void {
    if (this.#closed || this.#pollTimer !== undefined) return;
    this.#pollTimer = setTimeout(() => {
      void this.#pollOnce().finally(() => {
        this.#pollTimer = undefined;
        if (!this.#closed && (this.#startup || this.#cut)) this.#poll(this.#pollMs);
      });
    }, delayMs);
  }

  async #pollOnce(): Promise<void> {
    try {
      const now = performance.now();
      if (this.#startup && now - this.#startup.origin > STARTUP_WAIT_MS) this.#startup = null;
      if (this.#cut && now - this.#cut.at > CUT_WAIT_MS) this.#cut = null;
      if ((!this.#startup && !this.#cut) || this.#session.state !== 'connected') return;
      const sample = statsSample(await this.#session.transportStats(), performance.now());
      const at = performance.now();
      if (this.#startup && videoFrames(sample) > 0) {
        this.#startupMs = at - this.#startup.origin;
        this.#startup = null;
      }
      const cut = this.#cut;
      if (cut) {
        const track = this.#trackOf(cut.sourceId);
        const frames = track ? framesDecodedFor(sample, track.id) : null;
        if (cut.baseline === null) cut.baseline = frames ?? 0;
        else if (frames !== null && frames > cut.baseline) {
          this.#cutToFrameMs = at - cut.at;
          this.#cut = null;
        }
      }
    } catch {
      // Stats can fail while transports close: try again on the next poll.
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.#report().finally(() => this.#schedule());
    }, this.#intervalMs);
  }

  async #report(): Promise<void> {
    try {
      if (this.#closed) return;
      if (this.#session.state !== 'connected') {
        this.#previous = null;
        return;
      }
      const sample = statsSample(await this.#session.transportStats(), performance.now());
      const report: TelemetryReport = { hop: this.#hop(), ...statsFigures(this.#previous, sample) };
      this.#previous = sample;
      const startupMs = this.#startupMs;
      const cutToFrameMs = this.#cutToFrameMs;
      if (startupMs !== undefined) report.startupMs = startupMs;
      if (cutToFrameMs !== undefined) report.cutToFrameMs = cutToFrameMs;
      const programTrack = this.#trackOf(this.#session.program?.programSourceId ?? null);
      const [glassToGlassMs, device] = await Promise.all([
        programTrack && this.#glassToGlass
          ? withTimeout(this.#glassToGlass(programTrack), READER_TIMEOUT_MS, null)
          : Promise.resolve(null),
        this.#options.device
          ? withTimeout((this.#options.deviceFigures ?? readDeviceFigures)(), READER_TIMEOUT_MS, {})
          : Promise.resolve({}),
      ]);
      if (glassToGlassMs !== null) report.glassToGlassMs = glassToGlassMs;
      Object.assign(report, device);
      if (this.#closed) return;
      if (await this.#session.sendTelemetry(clampTelemetry(report))) {
        // One-shot figures go once; if the report was dropped they ride on the next one.
        if (this.#startupMs === startupMs) this.#startupMs = undefined;
        if (this.#cutToFrameMs === cutToFrameMs) this.#cutToFrameMs = undefined;
      }
    } catch {
      // Telemetry never throws into the page: this report is dropped.
    }
  }
}

// ── browser readers ────────────────────────────────────────────────────────────────────────────

interface BatteryManagerLike {
  level: number;
  charging: boolean;
}
interface NavigatorExtras {
  getBattery?: () => Promise<BatteryManagerLike>;
  connection?: { type?: string; effectiveType?: string };
}

let battery: Promise<BatteryManagerLike | null> | undefined;

/** Battery level and charging (navigator.getBattery) and network type (navigator.connection), where present. */
export async function readDeviceFigures(): Promise<DeviceFigures> {
  const nav = (typeof navigator === 'undefined' ? undefined : navigator) as NavigatorExtras | undefined;
  const figures: DeviceFigures = {};
  if (!nav) return figures;
  const connection = nav.connection;
  const type = connection?.type ?? connection?.effectiveType;
  if (isNetworkType(type)) figures.networkType = type;
  if (typeof nav.getBattery === 'function') {
    battery ??= nav.getBattery().catch(() => null);
    const manager = await battery;
    if (manager && Number.isFinite(manager.level))
      figures.battery = { level: manager.level, charging: Boolean(manager.charging) };
  }
  return figures;
}

/**
 * Reads the capture time code (@microstudio/telemetry) from a received video track and returns
 * how long ago that frame was captured: the page's own <video> showing the track when there is
 * one (so it is what the viewer sees, timed at its presentation), else a hidden one. Needs the
 * source's and this page's clocks to agree (same machine, or NTP).
 */
export class TimeCodeReader {
  #hidden: HTMLVideoElement | null = null;
  #canvas: HTMLCanvasElement | null = null;

  async glassToGlassMs(track: MediaStreamTrack): Promise<number | null> {
    const video = this.#videoFor(track);
    if (!video) return null;
    const presentedAt = await this.#nextFrame(video);
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (width === 0 || height === 0) return null;
    const region = timeCodeRegion(width, height);
    const sx = Math.floor(region.x);
    const sy = Math.floor(region.y);
    const sw = Math.min(width, Math.ceil(region.x + region.width)) - sx;
    const sh = Math.min(height, Math.ceil(region.y + region.height)) - sy;
    this.#canvas ??= document.createElement('canvas');
    const canvas = this.#canvas;
    if (canvas.width !== sw) canvas.width = sw;
    if (canvas.height !== sh) canvas.height = sh;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) return null;
    ctx.drawImage(video, sx, sy, sw, sh, 0, 0, sw, sh);
    const value = readTimeCode(ctx.getImageData(0, 0, sw, sh).data, sw, sh, {
      x: region.x - sx,
      y: region.y - sy,
      width: region.width,
      height: region.height,
    });
    if (value === null) return null;
    const presented = performance.timeOrigin + presentedAt;
    return presented - unwrapTimeCode(value, presented);
  }

  close(): void {
    if (this.#hidden) {
      this.#hidden.pause();
      this.#hidden.srcObject = null;
      this.#hidden = null;
    }
    this.#canvas = null;
  }

  #videoFor(track: MediaStreamTrack): HTMLVideoElement | null {
    if (track.readyState === 'ended') return null;
    for (const video of document.querySelectorAll('video')) {
      const stream = video.srcObject;
      if (stream instanceof MediaStream && stream.getVideoTracks().some((t) => t.id === track.id))
        return video;
    }
    this.#hidden ??= document.createElement('video');
    const hidden = this.#hidden;
    const current = hidden.srcObject;
    if (!(current instanceof MediaStream) || current.getVideoTracks()[0]?.id !== track.id) {
      hidden.muted = true;
      hidden.playsInline = true;
      hidden.srcObject = new MediaStream([track]);
      void hidden.play().catch(() => undefined);
    }
    return hidden;
  }

  /** performance.now() time the next frame is presented (or now, if none comes soon). */
  #nextFrame(video: HTMLVideoElement): Promise<number> {
    if (typeof video.requestVideoFrameCallback !== 'function') return Promise.resolve(performance.now());
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        video.cancelVideoFrameCallback(handle);
        resolve(performance.now());
      }, 250);
      const handle = video.requestVideoFrameCallback((_now, metadata) => {
        clearTimeout(timer);
        resolve(metadata.expectedDisplayTime);
      });
    });
  }
}
