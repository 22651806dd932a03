import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FfmpegError } from './errors.ts';
import type { Logger } from './log.ts';
import type { NodeClient, RecordingAnchor, RecordingInfo } from './NodeClient.ts';
import { waitUntilBound } from './ports.ts';
import { containerOf, trackSdp } from './sdp.ts';
import { type FinishedSegment, SegmentListFollower } from './segments.ts';

/**
 * RTCP BYE (RFC 3550 6.6) for one SSRC, with a reason: ffmpeg's RTP demuxer treats it as end of
 * stream — but drops any RTP/RTCP datagram shorter than 12 bytes unread, so a bare 8-byte BYE is
 * silently ignored (ffmpeg then kept recording until interrupted, seconds later).
 */
export function rtcpBye(ssrc: number): Buffer {
  const reason = Buffer.from('end', 'ascii');
  const packet = Buffer.alloc(8 + Math.ceil((1 + reason.length) / 4) * 4);
  packet[0] = 0x81; // V=2, one SSRC
  packet[1] = 203; // BYE
  packet.writeUInt16BE(packet.length / 4 - 1, 2); // length in 32-bit words minus one
  packet.writeUInt32BE(ssrc >>> 0, 4);
  packet[8] = reason.length;
  reason.copy(packet, 9);
  return packet;
}

async function sendRtcpBye(ip: string, port: number, ssrc: number): Promise<void> {
  const socket = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.send(rtcpBye(ssrc), port, ip, () => resolve()));
  socket.close();
}

/** Written beside every segment: what it is and when it starts on the show clock. */
export interface SegmentSidecar {
  roomId: string;
  sourceId: string;
  kind: 'audio' | 'video';
  producerId: string;
  recordingId: string;
  index: number;
  file: string;
  /** Show clock: the media node's system clock (Unix ms); on one box, the recorder's too. */
  startWallClockMs: number;
  startIso: string;
  durationSeconds: number;
  codec: string;
}

export interface TrackRecorderOptions {
  node: NodeClient;
  roomId: string;
  producerId: string;
  /** Directory for this track's segments, sidecars, SDP and segment list. */
  dir: string;
  ip: string;
  rtpPort: number;
  rtcpPort: number;
  segmentSeconds: number;
  ffmpegPath?: string;
  logger: Logger;
  /** A segment and its sidecar are on disk, closed: journal it for upload. */
  onSegment: (segmentPath: string, sidecar: SegmentSidecar) => void;
}

/**
 * One recorded track: a node-side consumer sending RTP to local UDP ports, ffmpeg receiving it
 * with `-c copy` into fixed-length segments, a keyframe request at every segment boundary, and a
 * show-clock sidecar per finished segment. Never re-encodes.
 */
export class TrackRecorder {
  readonly #o: TrackRecorderOptions;
  #info: RecordingInfo | undefined;
  #anchor: RecordingAnchor | null = null;
  #ffmpeg: ChildProcess | undefined;
  #exited: Promise<number | null> | undefined;
  #follower: SegmentListFollower | undefined;
  #keyframeTimer: NodeJS.Timeout | undefined;
  #segments = 0;
  #stopping = false;
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

  async start(): Promise<void> {
    const o = this.#o;
    await mkdir(o.dir, { recursive: true });
    const info = await o.node.start({
      roomId: o.roomId,
      producerId: o.producerId,
      ip: o.ip,
      rtpPort: o.rtpPort,
      rtcpPort: o.rtcpPort,
    });
    this.#info = info;
    try {
      const sdpPath = join(o.dir, 'track.sdp');
      await writeFile(sdpPath, trackSdp(info.rtp, o.ip, o.rtpPort, o.rtcpPort));
      const listPath = join(o.dir, 'segments.csv');
      this.#follower = new SegmentListFollower(listPath, (segment) => this.#finished(segment));
      this.#spawnFfmpeg(sdpPath, listPath);
      // RTP sent before ffmpeg binds its port would be lost (with the first keyframe in it).
      const bound = await waitUntilBound(o.ip, o.rtpPort, 10_000);
      // A port taken by someone else between allocation and ffmpeg's bind looks "bound" too.
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (!bound || this.#ffmpeg?.exitCode !== null)
        throw new FfmpegError(`ffmpeg did not open udp ${o.ip}:${o.rtpPort}: ${this.stderr.slice(-500)}`);
      this.#follower.start();
      const resumed = await o.node.resume(info.recordingId);
      this.#anchor = resumed.anchor ?? (await this.#waitAnchor(info.recordingId));
      o.logger.info('recording track', {
        source: info.sourceId,
        kind: info.kind,
        codec: info.rtp.mimeType,
        anchor: this.#anchor ? new Date(this.#anchor.wallClockMs).toISOString() : 'pending',
      });
      if (info.kind === 'video') this.#scheduleKeyframes();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /**
   * Ends ffmpeg's input with an RTCP BYE (ffmpeg then closes the open segment and lists it; a
   * SIGINT alone is not seen while its UDP read waits for packets that no longer come), then
   * stops the node's consumer and reports the last segment.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    clearTimeout(this.#keyframeTimer);
    const ffmpeg = this.#ffmpeg;
    if (ffmpeg && ffmpeg.exitCode === null) {
      await sendRtcpBye(this.#o.ip, this.#o.rtcpPort, this.#info?.rtp.ssrc ?? 0);
      if ((await this.#exitWithin(3000)) === 'timeout') {
        this.#o.logger.warn('ffmpeg ignored RTCP BYE; interrupting it', { source: this.#info?.sourceId });
        ffmpeg.kill('SIGINT');
        if ((await this.#exitWithin(3000)) === 'timeout') ffmpeg.kill('SIGKILL');
      }
    }
    if (this.#info) await this.#o.node.stop(this.#info.recordingId).catch(() => {});
    await this.#follower?.stop();
  }

  #exitWithin(ms: number): Promise<number | null | 'timeout'> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      this.#exited ?? Promise.resolve(null),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms))),
    ]).finally(() => clearTimeout(timer));
  }

  #spawnFfmpeg(sdpPath: string, listPath: string): void {
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
      '-map',
      '0',
      '-c',
      'copy',
      '-f',
      'segment',
      '-segment_time',
      String(o.segmentSeconds),
      '-segment_format',
      container.format,
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
      ffmpeg.once('exit', (code) => {
        if (!this.#stopping)
          o.logger.error('ffmpeg exited while recording', { code, stderr: this.stderr.slice(-300) });
        resolve(code);
      });
    });
    this.#ffmpeg = ffmpeg;
  }

  async #waitAnchor(recordingId: string): Promise<RecordingAnchor | null> {
    for (let i = 0; i < 50 && !this.#stopping; i++) {
      const info = await this.#o.node.get(recordingId);
      if (info.anchor) return info.anchor;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return null;
  }

  /**
   * ffmpeg cuts at the first keyframe at or after each boundary; asking for one exactly at the
   * boundary (on the anchor's clock) keeps segments at their length with a cooperating encoder.
   */
  #scheduleKeyframes(): void {
    const anchor = this.#anchor;
    if (!anchor || this.#stopping) return;
    const periodMs = this.#o.segmentSeconds * 1000;
    const next = Math.floor((Date.now() - anchor.wallClockMs) / periodMs + 1) * periodMs;
    this.#keyframeTimer = setTimeout(
      () => {
        const id = this.#info?.recordingId;
        if (id)
          this.#o.node.keyframe(id).catch((error: unknown) => {
            this.#o.logger.warn('keyframe request failed', { error: String(error) });
          });
        this.#scheduleKeyframes();
      },
      anchor.wallClockMs + next - Date.now(),
    );
  }

  #finished(segment: FinishedSegment): void {
    const info = this.#info;
    if (!info) return;
    const anchorMs = this.#anchor?.wallClockMs ?? Number.NaN;
    const startWallClockMs = Math.round(anchorMs + segment.startSeconds * 1000);
    const index = this.#segments;
    this.#segments += 1;
    const sidecar: SegmentSidecar = {
      roomId: info.roomId,
      sourceId: info.sourceId,
      kind: info.kind,
      producerId: info.producerId,
      recordingId: info.recordingId,
      index,
      file: segment.file,
      startWallClockMs,
      startIso: Number.isFinite(startWallClockMs) ? new Date(startWallClockMs).toISOString() : 'unknown',
      durationSeconds: Number((segment.endSeconds - segment.startSeconds).toFixed(6)),
      codec: info.rtp.mimeType,
    };
    const segmentPath = join(this.#o.dir, segment.file);
    writeFile(`${segmentPath}.json`, `${JSON.stringify(sidecar, null, 2)}\n`).then(
      () => this.#o.onSegment(segmentPath, sidecar),
      (error: unknown) =>
        this.#o.logger.error('sidecar write failed', { file: segmentPath, error: String(error) }),
    );
  }
}
