import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FfmpegError } from './errors.ts';
import type { Logger } from './log.ts';
import type { NodeClient, RecordingAnchor, RecordingInfo } from './NodeClient.ts';
import { type PortAllocator, waitUntilBound } from './ports.ts';
import { firstSegmentStart } from './probe.ts';
import { RtpRelay } from './RtpRelay.ts';
import { newRunId, nextSegmentIndex, type RunState, runFiles, writeRunState } from './runs.ts';
import { containerOf, trackSdp } from './sdp.ts';
import { type FinishedSegment, SegmentListFollower } from './segments.ts';
import { type SegmentSidecar, segmentSidecar, writeSidecar } from './sidecar.ts';

export { rtcpBye } from './RtpRelay.ts';
export type { LostSegmentSidecar, SegmentSidecar } from './sidecar.ts';

export interface TrackRecorderOptions {
  node: NodeClient;
  roomId: string;
  producerId: string;
  /** Directory for this track's segments, sidecars and runs (see runs.ts). */
  dir: string;
  /** Where the media node sends RTP to (this recorder's address as the node reaches it). */
  ip: string;
  /** Two port pairs per track: one the node sends to, one ffmpeg listens on (loopback). */
  ports: PortAllocator;
  segmentSeconds: number;
  ffmpegPath?: string;
  logger: Logger;
  /** A segment and its sidecar are on disk, closed: journal it for upload (awaited on stop). */
  onSegment: (segmentPath: string, sidecar: SegmentSidecar) => void | Promise<void>;
}

const ORIGIN_HYSTERESIS_MS = 2;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One recorded track: a node-side consumer sending RTP to a relay here (which notes every
 * packet's arrival for the show clock and passes it on), ffmpeg receiving it with `-c copy` into
 * fixed-length segments, a keyframe request at every segment boundary, and a show-clock sidecar
 * per finished segment. Never re-encodes. Its run state on disk lets a restarted recorder finish
 * what a killed one left (Recovery.ts).
 */
export class TrackRecorder {
  readonly #o: TrackRecorderOptions;
  #info: RecordingInfo | undefined;
  #anchor: RecordingAnchor | null = null;
  #origin: number | undefined;
  #relay: RtpRelay | undefined;
  #run: RunState | undefined;
  #statePath = '';
  #stateWrites: Promise<void> = Promise.resolve();
  #ffmpeg: ChildProcess | undefined;
  #exited: Promise<number | null> | undefined;
  #follower: SegmentListFollower | undefined;
  #keyframeTimer: NodeJS.Timeout | undefined;
  #clockTimer: NodeJS.Timeout | undefined;
  #ports: number[] = [];
  #pending = new Set<Promise<void>>();
  #segments = 0;
  #stopping = false;
  #started = false;
  /** Why ffmpeg ended while recording (the track is then dead: the Recorder replaces it). */
  #failure: string | undefined;
  stderr = '';

  constructor(options: TrackRecorderOptions) {
    this.#o = options;
  }

  get info(): RecordingInfo | undefined {
    return this.#info;
  }

  get segments(): number {
    return this.#segments;
  }

  get state(): 'starting' | 'recording' | 'stopping' | 'failed' {
    if (this.#failure !== undefined) return 'failed';
    if (this.#stopping) return 'stopping';
    return this.#started ? 'recording' : 'starting';
  }

  /** Set when ffmpeg exited on its own while recording (disk full, killed, a bad stream). */
  get failure(): string | undefined {
    return this.#failure;
  }

  /** Media recorded in this run (seconds, from the RTP timeline). */
  get seconds(): number {
    return Math.max(0, (this.#relay?.clock.mediaMs ?? 0) / 1000);
  }

  /** Bytes on disk of this run's segments (finished and open). */
  async bytes(): Promise<number> {
    const run = this.#run;
    if (!run) return 0;
    const names = await readdir(this.#o.dir).catch(() => [] as string[]);
    const mine = names.filter(
      (n) => n.endsWith(`.${run.extension}`) && Number.parseInt(n, 10) >= run.firstIndex,
    );
    const sizes = await Promise.all(
      mine.map((n) =>
        stat(join(this.#o.dir, n)).then(
          (st) => st.size,
          () => 0,
        ),
      ),
    );
    return sizes.reduce((a, b) => a + b, 0);
  }

  /** RTP packets received from the node and passed on to ffmpeg. */
  get packets(): { received: number; forwarded: number } {
    return { received: this.#relay?.clock.packets ?? 0, forwarded: this.#relay?.forwarded ?? 0 };
  }

  /**
   * Show clock (Unix ms) of this run's media time 0, from packet arrivals (showClock.ts). The
   * estimate moves by fractions of a millisecond as packets arrive; it is only taken up when it
   * moved by more than ORIGIN_HYSTERESIS_MS, so consecutive sidecars stay exactly contiguous.
   */
  get originMs(): number | undefined {
    const estimate = this.#relay?.clock.originMs();
    if (estimate === undefined) return this.#origin ?? this.#anchor?.wallClockMs;
    if (this.#origin === undefined || Math.abs(estimate - this.#origin) > ORIGIN_HYSTERESIS_MS)
      this.#origin = estimate;
    return this.#origin;
  }

  /** The node's anchor: when its first packet was sent (what start times used to be based on). */
  get anchor(): RecordingAnchor | null {
    return this.#anchor;
  }

  async start(): Promise<void> {
    const o = this.#o;
    await mkdir(o.dir, { recursive: true });
    try {
      const nodeSide = await o.ports.allocate();
      this.#ports.push(nodeSide.rtpPort);
      const ffmpegSide = await o.ports.allocate();
      this.#ports.push(ffmpegSide.rtpPort);
      const info = await o.node.start({
        roomId: o.roomId,
        producerId: o.producerId,
        ip: o.ip,
        rtpPort: nodeSide.rtpPort,
        rtcpPort: nodeSide.rtcpPort,
      });
      this.#info = info;
      const relay = new RtpRelay({
        ip: o.ip,
        rtpPort: nodeSide.rtpPort,
        rtcpPort: nodeSide.rtcpPort,
        ffmpegRtpPort: ffmpegSide.rtpPort,
        clockRate: info.rtp.clockRate,
        ssrc: info.rtp.ssrc,
      });
      this.#relay = relay;
      await relay.bind();
      const container = containerOf(info.rtp.mimeType);
      const runId = newRunId();
      const files = runFiles(o.dir, runId);
      this.#statePath = files.state;
      this.#run = {
        version: 1,
        runId,
        roomId: info.roomId,
        sourceId: info.sourceId,
        kind: info.kind,
        producerId: info.producerId,
        recordingId: info.recordingId,
        codec: info.rtp.mimeType,
        extension: container.extension,
        format: container.format,
        firstIndex: await nextSegmentIndex(o.dir),
        ffmpegPid: null,
        ffmpegRtpPort: ffmpegSide.rtpPort,
        ssrc: info.rtp.ssrc,
        startedAtMs: Date.now(),
        originMs: null,
        closed: false,
      };
      // On disk before ffmpeg exists: a crash from here on is found and cleaned up by Recovery.
      await this.#saveState();
      await writeFile(files.sdp, trackSdp(info.rtp, '127.0.0.1', ffmpegSide.rtpPort, ffmpegSide.rtcpPort));
      this.#follower = new SegmentListFollower(files.list, (segment) => this.#finished(segment));
      this.#spawnFfmpeg(files.sdp, files.list, this.#run.firstIndex);
      this.#run.ffmpegPid = this.#ffmpeg?.pid ?? null;
      await this.#saveState();
      // RTP passed on before ffmpeg binds its port would be lost (with the first keyframe in it).
      const bound = await waitUntilBound('127.0.0.1', ffmpegSide.rtpPort, 10_000);
      // A port taken by someone else between allocation and ffmpeg's bind looks "bound" too.
      await sleep(100);
      if (!bound || this.#ffmpeg?.exitCode !== null)
        throw new FfmpegError(
          `ffmpeg did not open udp 127.0.0.1:${ffmpegSide.rtpPort}: ${this.stderr.slice(-500)}`,
        );
      relay.open();
      this.#follower.start();
      const resumed = await o.node.resume(info.recordingId);
      this.#anchor = resumed.anchor;
      this.#clockTimer = setInterval(() => this.#persistOrigin(), 1000);
      o.logger.info('recording track', {
        source: info.sourceId,
        kind: info.kind,
        codec: info.rtp.mimeType,
        run: runId,
        firstSegment: this.#run.firstIndex,
        anchor: this.#anchor ? new Date(this.#anchor.wallClockMs).toISOString() : 'pending',
      });
      if (info.kind === 'video') this.#scheduleKeyframes();
      this.#started = true;
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /**
   * Stops the node's consumer (no more packets), lets the relay pass on what is in flight, then
   * ends ffmpeg's input with an RTCP BYE behind the last packet: ffmpeg writes everything it
   * received, closes the open segment and lists it. A SIGINT alone is not seen while its UDP read
   * waits for packets that no longer come; it and SIGKILL are only the fallbacks.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    clearTimeout(this.#keyframeTimer);
    clearInterval(this.#clockTimer);
    if (this.#info) await this.#o.node.stop(this.#info.recordingId).catch(() => {});
    await sleep(50);
    const ffmpeg = this.#ffmpeg;
    let clean = !ffmpeg || ffmpeg.exitCode === 0;
    if (ffmpeg && ffmpeg.exitCode === null) {
      await this.#relay?.bye();
      let exit = await this.#exitWithin(3000);
      if (exit === 'timeout') {
        this.#o.logger.warn('ffmpeg ignored RTCP BYE; interrupting it', { source: this.#info?.sourceId });
        ffmpeg.kill('SIGINT');
        exit = await this.#exitWithin(3000);
        if (exit === 'timeout') ffmpeg.kill('SIGKILL');
      }
      clean = exit === 0;
    }
    this.#relay?.close();
    await this.#follower?.stop();
    while (this.#pending.size > 0) await Promise.all(this.#pending);
    if (this.#run) {
      // Not clean (ffmpeg killed): its open segment is left to Recovery at the next start.
      this.#run.closed = clean;
      this.#persistOrigin(true);
      await this.#stateWrites;
    }
    for (const port of this.#ports) this.#o.ports.release(port);
    this.#ports = [];
    if (this.#info)
      this.#o.logger.info('track stopped', {
        source: this.#info.sourceId,
        run: this.#run?.runId,
        segments: this.#segments,
        packets: this.#relay?.clock.packets ?? 0,
        clean,
        // ffmpeg's receive-side warnings ("RTP: missed N packets"): why a segment may skip frames.
        ffmpeg: this.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400) || undefined,
      });
  }

  #exitWithin(ms: number): Promise<number | null | 'timeout'> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      this.#exited ?? Promise.resolve(null),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms))),
    ]).finally(() => clearTimeout(timer));
  }

  #saveState(): Promise<void> {
    const run = this.#run;
    if (!run) return Promise.resolve();
    const snapshot = { ...run };
    this.#stateWrites = this.#stateWrites
      .then(() => writeRunState(this.#statePath, snapshot))
      .catch((error: unknown) =>
        this.#o.logger.warn('cannot write run state', { file: this.#statePath, error: String(error) }),
      );
    return this.#stateWrites;
  }

  /**
   * Keeps the origin and how far the media got on disk (at most once a second), so Recovery can
   * place an open segment on the show clock and say up to when a lost one reached.
   */
  #persistOrigin(force = false): void {
    const run = this.#run;
    const clock = this.#relay?.clock;
    if (!run || !clock?.packets) {
      if (force) void this.#saveState();
      return;
    }
    const origin = this.originMs ?? null;
    const mediaSeconds = Math.round(clock.mediaMs) / 1000;
    if (force || origin !== run.originMs || mediaSeconds !== run.mediaSeconds) {
      run.originMs = origin;
      run.mediaSeconds = mediaSeconds;
      void this.#saveState();
    }
  }

  #spawnFfmpeg(sdpPath: string, listPath: string, firstIndex: number): void {
    const o = this.#o;
    const container = containerOf(this.#info?.rtp.mimeType ?? '');
    const args = [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'warning',
      '-protocol_whitelist',
      'file,udp,rtp',
      // Keyframes of a 1080p source arrive as bursts of packets.
      '-buffer_size',
      String(4 * 1024 * 1024),
      '-i',
      sdpPath,
      // Timestamps as received (RTP time since the first packet): see firstSegmentStart().
      '-copyts',
      '-map',
      '0',
      '-c',
      'copy',
      '-f',
      'segment',
      // Files start at 0 (see firstSegmentStart); and what is muxed reaches the disk at least
      // every second (a cluster a second, flushed as written) — ffmpeg otherwise holds up to
      // 256 kB (~2.5 s of 800 kbit/s video, a minute of audio), all lost if it is killed.
      '-segment_format_options',
      'avoid_negative_ts=make_zero:flush_packets=1:cluster_time_limit=1000',
      '-segment_time',
      String(o.segmentSeconds),
      '-segment_format',
      container.format,
      '-segment_start_number',
      String(firstIndex),
      '-reset_timestamps',
      '1',
      '-segment_list',
      listPath,
      '-segment_list_type',
      'csv',
      join(o.dir, `%06d.${container.extension}`),
    ];
    const ffmpeg = spawn(o.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    ffmpeg.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-8000);
    });
    this.#exited = new Promise((resolve) => {
      ffmpeg.once('error', (error) => {
        o.logger.error('ffmpeg could not start', { error: error.message });
        resolve(null);
      });
      ffmpeg.once('exit', (code, signal) => {
        if (!this.#stopping) {
          const tail = this.stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 300);
          this.#failure = `ffmpeg exited (${code ?? signal}) while recording${tail ? `: ${tail}` : ''}`;
          o.logger.error('ffmpeg exited while recording', { code, signal, stderr: this.stderr.slice(-300) });
        }
        resolve(code);
      });
    });
    this.#ffmpeg = ffmpeg;
  }

  /**
   * ffmpeg cuts at the first keyframe at or after each boundary; asking for one when the show
   * clock reaches the boundary keeps segments at their length with a cooperating encoder.
   */
  #scheduleKeyframes(): void {
    if (this.#stopping) return;
    const origin = this.originMs;
    if (origin === undefined) {
      this.#keyframeTimer = setTimeout(() => this.#scheduleKeyframes(), 200);
      return;
    }
    const periodMs = this.#o.segmentSeconds * 1000;
    const next = Math.floor((Date.now() - origin) / periodMs + 1) * periodMs;
    this.#keyframeTimer = setTimeout(
      () => {
        const id = this.#info?.recordingId;
        if (id)
          this.#o.node.keyframe(id).catch((error: unknown) => {
            this.#o.logger.warn('keyframe request failed', { error: String(error) });
          });
        this.#scheduleKeyframes();
      },
      Math.max(0, origin + next - Date.now()),
    );
  }

  #finished(segment: FinishedSegment): void {
    const run = this.#run;
    if (!run) return;
    const origin = this.originMs ?? Number.NaN;
    const first = this.#segments === 0;
    this.#segments += 1;
    this.#persistOrigin();
    const segmentPath = join(this.#o.dir, segment.file);
    const sidecar = async (): Promise<SegmentSidecar> => {
      const start = first ? await firstSegmentStart(segmentPath, segment) : segment.startSeconds;
      return segmentSidecar(
        run,
        { file: segment.file, mediaStartSeconds: start, durationSeconds: segment.endSeconds - start },
        origin,
      );
    };
    const work = sidecar()
      .then(async (sidecar) => {
        await writeSidecar(segmentPath, sidecar);
        await this.#o.onSegment(segmentPath, sidecar);
      })
      .catch((error: unknown) =>
        this.#o.logger.error('cannot finish segment', { file: segmentPath, error: String(error) }),
      )
      .finally(() => this.#pending.delete(work));
    this.#pending.add(work);
  }
}
