import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { loadConfig } from '@microstudio/config';
// The media node itself, in-process: this test runs on the provisioned Node 24 (run-sfu.mjs).
import { silentLogger } from '../../../sfu/src/log.ts';
import { type MediaNode, startNode } from '../../../sfu/src/node.ts';
import type { Room } from '../../../sfu/src/rooms/Room.ts';
import { freeRtcPorts, TEST_TOKEN_SECRET } from '../../../sfu/test/helpers.ts';
import { recordingSink } from '../../../sfu/test/rtp.ts';

export const run = promisify(execFile);

/** A media node on loopback, signing tokens with TEST_TOKEN_SECRET. */
export async function startMediaNode(): Promise<MediaNode> {
  const rtcPort = await freeRtcPorts(1);
  const config = loadConfig({
    MICROSTUDIO_SFU_HOST: '127.0.0.1',
    MICROSTUDIO_RTC_LISTEN_IP: '127.0.0.1',
    MICROSTUDIO_ANNOUNCED_IP: '127.0.0.1',
    MICROSTUDIO_RTC_PORT: String(rtcPort),
    MICROSTUDIO_WORKERS: '1',
    MICROSTUDIO_TOKEN_SECRET: TEST_TOKEN_SECRET,
  });
  return startNode(config, { logger: silentLogger, port: 0 });
}

/** The recorder's credential for `node`: a `recorder` token for `room` (default: every room). */
export async function recorderToken(node: MediaNode, room = '*'): Promise<string> {
  return (await node.auth.issuer.issue({ room, role: 'recorder', ttlSeconds: 3600 })).token;
}

/** Optional changes to what an ffmpegCamera sends; without any, its default test pattern. */
export interface FfmpegCameraOptions {
  /**
   * A pre-encoded VP8 file (WebM) sent as it is, looped in real time (`-stream_loop -1 -re -i
   * clip -c copy`): no encoder runs in the sender, so it keeps real time on a busy box (a live
   * encoder starved of CPU falls behind, and the recording then holds less media than wall time).
   */
  clip?: string;
  /**
   * The producer's UDP receive buffer in the media node, bytes (default: the system's,
   * net.core.rmem_default). A clip is sent a frame at a time, each frame's packets in one burst
   * (a 1080p keyframe is ~60): on a busy box the default buffer overflows now and then.
   */
  recvBufferSize?: number;
}

/**
 * A camera without a browser: a camera peer whose VP8 producer is fed over a comedia
 * PlainTransport by a real ffmpeg RTP sender (libvpx realtime, 1 s GOP — ffmpeg's RTP muxer does
 * not answer PLI/FIR, so its keyframes come on its own schedule).
 */
export async function ffmpegCamera(room: Room, clientId: string, options: FfmpegCameraOptions = {}) {
  const camera = room.join({ role: 'camera', displayName: clientId, clientId, sink: recordingSink() });
  const inbound = await room.createPlainTransport(camera, 'send', {
    listenInfo: {
      protocol: 'udp',
      ip: '127.0.0.1',
      ...(options.recvBufferSize ? { recvBufferSize: options.recvBufferSize } : {}),
    },
    // ffmpeg sends RTCP from a socket of its own: with rtcp-mux, a comedia transport would lock
    // onto whichever source port spoke first and drop the other.
    rtcpMux: false,
    comedia: true,
  });
  const ssrc = 10_000 + Math.floor(Math.random() * 1_000_000);
  const producer = await room.produce(camera, {
    transportId: inbound.id,
    kind: 'video',
    rtpParameters: {
      codecs: [
        {
          mimeType: 'video/VP8',
          payloadType: 101,
          clockRate: 90000,
          rtcpFeedback: [
            { type: 'nack', parameter: 'pli' },
            { type: 'ccm', parameter: 'fir' },
          ],
        },
      ],
      encodings: [{ ssrc }],
    },
    purpose: 'camera',
  });
  const port = inbound.tuple.localPort;
  const rtcpPort = inbound.rtcpTuple?.localPort;
  const ffmpeg: ChildProcess = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'],
      ...(options.clip
        ? ['-stream_loop', '-1', '-i', options.clip, '-map', '0:v:0', '-c:v', 'copy']
        : [
            ...['-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=30'],
            ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '800k', '-g', '30'],
          ]),
      ...['-payload_type', '101', '-ssrc', String(ssrc)],
      ...['-f', 'rtp', `rtp://127.0.0.1:${port}?rtcpport=${rtcpPort}&pkt_size=1200`],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  ffmpeg.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return {
    producer,
    /** The sender's process id (its CPU is the rig's, not the recorder's). */
    pid: ffmpeg.pid,
    get stderr() {
      return stderr;
    },
    close() {
      ffmpeg.kill('SIGKILL');
    },
  };
}

/**
 * The environment for a recorder process under test: this one's, minus every MICROSTUDIO_ and
 * AWS_ variable (a developer's own settings must not leak in), plus `settings`.
 */
export function recorderEnv(settings: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env))
    if (value !== undefined && !key.startsWith('MICROSTUDIO_') && !key.startsWith('AWS_')) env[key] = value;
  return Object.assign(env, settings);
}
