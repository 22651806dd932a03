/**
 * A WHIP encoder that is not our code: ffmpeg (libx264 + libopus) encodes a real H.264 test
 * pattern and an Opus sine tone to RTP on loopback, and werift (an independent WebRTC stack)
 * carries that RTP over WHIP — non-trickle offer, ICE on 127.0.0.1, DTLS-SRTP — to the media node.
 * The same shape as a hardware encoder or OBS: one H.264 stream (no simulcast) plus Opus.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type MediaStreamTrack, type RTCPeerConnection, RtpPacket, useH264, useNACK, usePLI } from 'werift';
import { bindLoopback } from '../../sfu/test/support/ffmpegVideo.ts';
import { closeLeftoverWeriftSockets, wherift } from '../../sfu/test/support/whipPublisher.ts';

export { closeLeftoverWeriftSockets };

export interface WhipEncoderOptions {
  /** The media node, e.g. http://127.0.0.1:4100. */
  nodeUrl: string;
  room: string;
  /** A camera invite token (Bearer). */
  token: string;
  /** The source name (?name=). */
  name: string;
  width?: number;
  height?: number;
  /**
   * The H.264 profile: constrained baseline (what OBS signals) by default, or High (what
   * hardware encoders often send), offered as profile-level-id 640c1f and encoded with the
   * tools that make x264 signal High (CABAC, 8x8 transform).
   */
  profile?: 'baseline' | 'high';
}

export interface WhipEncoder {
  /** The session resource the node answered (Location). */
  location: string;
  /** RTP packets relayed from ffmpeg into werift so far. */
  relayed(): { video: number; audio: number };
  /** ffmpeg's stderr so far (for failure messages). */
  log(): string;
  /** Stops ffmpeg, ends the WHIP session, closes werift and every socket. Idempotent. */
  stop(): Promise<void>;
}

/** ffmpeg processes still running, killed if the test process exits without stop(). */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

const portOf = (socket: dgram.Socket) => (socket.address() as AddressInfo).port;

function closeSocket(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}

async function waitConnected(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.connectionState === 'connected') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`werift did not connect within ${timeoutMs} ms (${pc.connectionState})`)),
      timeoutMs,
    );
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') {
        clearTimeout(timer);
        resolve();
      } else if (state === 'failed' || state === 'closed') {
        clearTimeout(timer);
        reject(new Error(`werift connection ${state}`));
      }
    });
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
}

export async function startWhipEncoder(options: WhipEncoderOptions): Promise<WhipEncoder> {
  const { width = 640, height = 360 } = options;
  const sockets: dgram.Socket[] = [];
  let pc: RTCPeerConnection | undefined;
  let ffmpeg: ChildProcess | undefined;
  let location = '';
  let stderr = '';
  const counts = { video: 0, audio: 0 };
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (ffmpeg) {
      await stopProcess(ffmpeg);
      running.delete(ffmpeg);
    }
    for (const socket of sockets) closeSocket(socket);
    if (location) {
      // End the session the way an encoder does when it stops streaming (best effort).
      await fetch(new URL(location, options.nodeUrl), {
        method: 'DELETE',
        headers: { authorization: `Bearer ${options.token}` },
      }).catch(() => undefined);
    }
    await pc?.close().catch(() => undefined);
    closeLeftoverWeriftSockets();
  };

  try {
    // Where ffmpeg sends RTP (and its RTCP, read and dropped), one pair per kind.
    const [videoRtp, videoRtcp, audioRtp, audioRtcp] = await Promise.all([
      bindLoopback(),
      bindLoopback(),
      bindLoopback(),
      bindLoopback(),
    ]);
    sockets.push(videoRtp, videoRtcp, audioRtp, audioRtcp);

    const high = options.profile === 'high';
    const encoder = await wherift(
      '127.0.0.1',
      high
        ? {
            video: useH264({
              parameters: 'profile-level-id=640c1f;packetization-mode=1;level-asymmetry-allowed=1',
              rtcpFeedback: [useNACK(), usePLI()],
            }),
          }
        : {},
    );
    pc = encoder.pc;
    const url = `${options.nodeUrl}/whip/${encodeURIComponent(options.room)}?${new URLSearchParams({ name: options.name })}`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', authorization: `Bearer ${options.token}` },
      body: encoder.offer,
    });
    const answer = await res.text();
    if (res.status !== 201) throw new Error(`WHIP POST ${url} answered ${res.status}: ${answer}`);
    location = res.headers.get('location') ?? '';
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    await waitConnected(pc, 15_000);

    // The payload types negotiated with the node (ffmpeg numbers its own: 96 and 97).
    const negotiated = (track: MediaStreamTrack, kind: string) => {
      const sender = pc?.getSenders().find((s) => s.track === track);
      const payloadType = sender?.codec?.payloadType;
      if (payloadType === undefined) throw new Error(`no ${kind} codec negotiated`);
      return payloadType;
    };
    const relay = (socket: dgram.Socket, track: MediaStreamTrack, kind: 'video' | 'audio') => {
      const payloadType = negotiated(track, kind);
      socket.on('message', (message) => {
        if (stopped || message.length < 12) return;
        const packet = RtpPacket.deSerialize(message);
        packet.header.payloadType = payloadType;
        track.writeRtp(packet);
        counts[kind]++;
      });
    };
    relay(videoRtp, encoder.video, 'video');
    relay(audioRtp, encoder.audio, 'audio');
    videoRtcp.on('message', () => undefined);
    audioRtcp.on('message', () => undefined);

    const rtp = (socket: dgram.Socket, rtcp: dgram.Socket) =>
      `rtp://127.0.0.1:${portOf(socket)}?pkt_size=1200&rtcpport=${portOf(rtcp)}`;
    const args = [
      ...['-hide_banner', '-nostdin', '-loglevel', 'warning'],
      ...['-re', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=30`],
      ...['-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
      // Video: what OBS/hardware encoders send over WHIP — H.264 constrained baseline (or High),
      // no B-frames, a key frame every second (SPS/PPS in band before each IDR), packetization-mode 1.
      ...['-map', '0:v', '-c:v', 'libx264', '-profile:v', high ? 'high' : 'baseline', '-preset', 'veryfast'],
      // x264 signals the lowest profile its tools need: CABAC and the 8x8 transform make it High.
      ...(high ? ['-x264-params', 'cabac=1:8x8dct=1'] : []),
      ...['-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p'],
      ...['-b:v', '800k', '-maxrate', '800k', '-bufsize', '400k'],
      ...['-bsf:v', 'h264_mp4toannexb', '-f', 'rtp', rtp(videoRtp, videoRtcp)],
      // Audio: Opus, 48 kHz stereo, 20 ms frames.
      ...['-map', '1:a', '-c:a', 'libopus', '-ac', '2', '-b:a', '64k', '-f', 'rtp', rtp(audioRtp, audioRtcp)],
    ];
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    ffmpeg = child;
    running.add(child);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-8000);
    });
    child.once('exit', () => running.delete(child));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    location,
    relayed: () => ({ ...counts }),
    log: () => stderr,
    stop,
  };
}
