/**
 * Real encoded video for a werift track: ffmpeg encodes a test pattern to RTP on loopback and
 * each packet is written into the track under the payload type werift negotiated. Used where a
 * test must show media a real encoder made (VP8 from libvpx, H.264 from libx264) crossing the node.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type MediaStreamTrack, RtpPacket } from 'werift';

export type VideoEncoder = 'vp8' | 'h264-main' | 'h264-high';

const ENCODER_ARGS: Record<VideoEncoder, string[]> = {
  // Realtime libvpx: a key frame every second, small so two cores keep up.
  vp8: ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k', '-g', '30'],
  // x264 signals the lowest profile its tools need: CABAC makes it Main, the 8x8 transform High
  // (ultrafast would turn both off and signal constrained baseline whatever -profile says).
  'h264-main': [
    ...['-c:v', 'libx264', '-profile:v', 'main', '-preset', 'superfast', '-tune', 'zerolatency'],
    ...['-x264-params', 'cabac=1'],
  ],
  'h264-high': [
    ...['-c:v', 'libx264', '-profile:v', 'high', '-preset', 'superfast', '-tune', 'zerolatency'],
    ...['-x264-params', 'cabac=1:8x8dct=1'],
  ],
};

export interface FfmpegVideo {
  /** RTP packets written into the track so far. */
  relayed(): number;
  log(): string;
  stop(): Promise<void>;
}

/** A UDP socket on 127.0.0.1 at a port the system picks (ffmpeg's RTP goes to it). */
export async function bindLoopback(): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

/** Starts ffmpeg (320x240, 30 fps, `encoder`) and relays its RTP into `track` as `payloadType`. */
export async function ffmpegVideoInto(
  track: MediaStreamTrack,
  payloadType: number,
  encoder: VideoEncoder,
): Promise<FfmpegVideo> {
  const rtp = await bindLoopback();
  const rtcp = await bindLoopback();
  let relayed = 0;
  let stopped = false;
  let stderr = '';
  rtp.on('message', (message) => {
    if (stopped || message.length < 12) return;
    const packet = RtpPacket.deSerialize(message);
    packet.header.payloadType = payloadType;
    track.writeRtp(packet);
    relayed++;
  });
  rtcp.on('message', () => undefined);
  const port = (s: dgram.Socket) => (s.address() as AddressInfo).port;
  const h264 = encoder.startsWith('h264') ? ['-g', '30', '-bsf:v', 'h264_mp4toannexb'] : [];
  const child: ChildProcess = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-nostdin', '-loglevel', 'warning'],
      ...['-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30'],
      ...ENCODER_ARGS[encoder],
      ...['-pix_fmt', 'yuv420p', ...h264],
      ...['-f', 'rtp', `rtp://127.0.0.1:${port(rtp)}?pkt_size=1200&rtcpport=${port(rtcp)}`],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  return {
    relayed: () => relayed,
    log: () => stderr,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        if (!(await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]))) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      for (const socket of [rtp, rtcp]) {
        try {
          socket.close();
        } catch {
          // already closed (closeLeftoverWeriftSockets closes every UDP socket of the process)
        }
      }
    },
  };
}
