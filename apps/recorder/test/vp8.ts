import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import type { Room } from '../../../sfu/src/rooms/Room.ts';
import { recordingSink } from '../../../sfu/test/rtp.ts';
import { run } from './media.ts';

export const FPS = 30;
export const FRAME_MS = 1000 / FPS;

/** A pre-encoded VP8 clip (keyframe every 30 frames) and the MD5 of every decoded frame. */
export interface Vp8Clip {
  frames: Buffer[];
  /** framemd5 of each decoded frame: identifies a recorded frame's position in the clip. */
  md5: string[];
}

/**
 * Encodes `frames` frames of testsrc (unique per frame) to VP8 once; `noise` makes every frame
 * incompressible, for a high bitrate (multipart-sized segments) without encoding while sending.
 */
export async function encodeClip(
  path: string,
  o: { frames: number; bitrate: string; noise?: boolean },
): Promise<Vp8Clip> {
  await run('ffmpeg', [
    ...['-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=640x360:rate=${FPS}`],
    ...['-frames:v', String(o.frames), ...(o.noise ? ['-vf', 'noise=alls=40:allf=t'] : [])],
    ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', o.bitrate],
    ...(o.noise ? ['-minrate', o.bitrate, '-maxrate', o.bitrate] : []),
    ...['-g', '30', '-keyint_min', '30', '-auto-alt-ref', '0', '-f', 'ivf', path],
  ]);
  const ivf = await readFile(path);
  const frames: Buffer[] = [];
  for (let at = ivf.readUInt16LE(6); at + 12 <= ivf.length; ) {
    const size = ivf.readUInt32LE(at);
    frames.push(ivf.subarray(at + 12, at + 12 + size));
    at += 12 + size;
  }
  const md5 = await frameMd5s(path);
  if (md5.length !== frames.length) throw new Error(`clip: ${frames.length} frames, ${md5.length} decoded`);
  if (new Set(md5).size !== md5.length) throw new Error('clip frames are not unique');
  return { frames, md5 };
}

/** MD5 of every decoded video frame of a file, in order. */
export async function frameMd5s(path: string): Promise<string[]> {
  const { stdout } = await run(
    'ffmpeg',
    ['-v', 'error', '-i', path, '-map', '0:v:0', '-f', 'framemd5', '-'],
    {
      maxBuffer: 64 << 20,
    },
  );
  return stdout
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(',').at(-1)?.trim() ?? '');
}

/**
 * A camera whose RTP clock is the show clock: frame i is "captured" at t0 + i/30 s and carries
 * RTP timestamp base + 3000 i; it is sent then — unless the sender is stalled, when frames are
 * held and then sent in a burst (what a CPU-starved encoder or a Wi-Fi hiccup does). The truth a
 * recording is checked against: captureMs(frame).
 */
export class Vp8Sender {
  readonly ssrc = 10_000 + Math.floor(Math.random() * 1_000_000);
  readonly #base = Math.floor(Math.random() * 0xffffffff);
  readonly #socket = createSocket('udp4');
  readonly #clip: Vp8Clip;
  readonly t0: number;
  #next = 0;
  #seq = Math.floor(Math.random() * 0xffff);
  #heldUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #queue: Buffer[] = [];
  #pacing: NodeJS.Timeout | undefined;
  sent = 0;
  packets = 0;
  /** Lose the second packet of every keyframe (ffmpeg then cannot use it, nor its GOP). */
  breakKeyframes = false;

  constructor(clip: Vp8Clip, t0: number) {
    this.#clip = clip;
    this.t0 = t0;
  }

  captureMs(frame: number): number {
    return this.t0 + frame * FRAME_MS;
  }

  start(port: number): void {
    const tick = (): void => {
      if (this.#closed) return;
      const now = Date.now();
      // Catching up after a stall: a frame every 4 ms (an encoder flat out), not all in one go.
      if (now >= this.#heldUntil && this.captureMs(this.#next) <= now) {
        this.#send(this.#next, port);
        this.#next += 1;
      }
      const due = Math.max(this.#heldUntil, this.captureMs(this.#next));
      this.#timer = setTimeout(tick, due <= Date.now() ? 4 : due - Date.now());
    };
    // Capture starts at t0 (may be in the past: frames before now are skipped, not burst).
    this.#next = Math.max(0, Math.ceil((Date.now() - this.t0) / FRAME_MS));
    tick();
  }

  /** Holds every frame captured in the next `ms`, then sends them at once. */
  stall(ms: number): void {
    this.#heldUntil = Date.now() + ms;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#pacing);
    this.#socket.close();
  }

  /** RFC 7741 packetization: 1-byte payload descriptor (S on a frame's first packet), marker on its last. */
  #send(frame: number, port: number): void {
    const data = this.#clip.frames[frame % this.#clip.frames.length] as Buffer;
    const timestamp = (this.#base + frame * (90_000 / FPS)) >>> 0;
    for (let at = 0; at < data.length; at += 1100) {
      const chunk = data.subarray(at, at + 1100);
      const packet = Buffer.alloc(13 + chunk.length);
      packet[0] = 0x80;
      packet[1] = 101 | (at + 1100 >= data.length ? 0x80 : 0);
      packet.writeUInt16BE(this.#seq & 0xffff, 2);
      packet.writeUInt32BE(timestamp, 4);
      packet.writeUInt32BE(this.ssrc, 8);
      packet[12] = at === 0 ? 0x10 : 0x00;
      chunk.copy(packet, 13);
      this.#seq += 1;
      const keyframe = ((data[0] ?? 1) & 0x01) === 0;
      if (this.breakKeyframes && keyframe && at === 1100) continue;
      this.#queue.push(packet);
    }
    this.sent += 1;
    this.#drain(port);
  }

  /**
   * A pacer, as every real sender has: at most 16 packets a millisecond (~150 Mbit/s). A 200 kB
   * keyframe written to the socket in one go overflows the node's receive buffer (default
   * 208 kB) and loses packets — a test artefact, not what a camera does.
   */
  #drain(port: number): void {
    if (this.#pacing || this.#closed) return;
    const batch = this.#queue.splice(0, 16);
    for (const packet of batch) {
      this.#socket.send(packet, port, '127.0.0.1');
      this.packets += 1;
    }
    if (this.#queue.length === 0) return;
    this.#pacing = setTimeout(() => {
      this.#pacing = undefined;
      this.#drain(port);
    }, 1);
  }
}

/** A camera peer whose VP8 producer is fed by a Vp8Sender over a comedia PlainTransport. */
export async function vp8Camera(room: Room, clientId: string, clip: Vp8Clip, t0: number) {
  const camera = room.join({ role: 'camera', displayName: clientId, clientId, sink: recordingSink() });
  const inbound = await room.createPlainTransport(camera, 'send', {
    // A keyframe of the noisy 9 Mbit/s clip is ~200 kB sent in a few ms: on a CPU-starved box
    // the default socket buffer (net.core.rmem_default, ~208 kB) overflows now and then, the
    // keyframe is lost and a segment's first decodable frame comes a GOP late (a rig artefact).
    listenInfo: { protocol: 'udp', ip: '127.0.0.1', recvBufferSize: 4 * 1024 * 1024 },
    rtcpMux: true,
    comedia: true,
  });
  const sender = new Vp8Sender(clip, t0);
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
      encodings: [{ ssrc: sender.ssrc }],
    },
    purpose: 'camera',
  });
  sender.start(inbound.tuple.localPort);
  return {
    producer,
    sender,
    close() {
      sender.close();
    },
  };
}

/**
 * Where a recorded segment's frames are in the sender's timeline: the clip position of its first
 * decoded frame, taken to the loop nearest `nearMs`. Also checks that its frames are consecutive.
 */
export async function locateSegment(
  path: string,
  clip: Vp8Clip,
  sender: Vp8Sender,
  nearMs: number,
): Promise<{ firstFrame: number; frames: number; consecutive: boolean; captureMs: number }> {
  const md5 = await frameMd5s(path);
  const j = clip.md5.indexOf(md5[0] ?? '');
  if (j < 0) throw new Error(`${path}: first frame is not in the clip`);
  const n = clip.md5.length;
  const approx = (nearMs - sender.t0) / FRAME_MS;
  const firstFrame = j + n * Math.round((approx - j) / n);
  const consecutive = md5.every((m, k) => m === clip.md5[(j + k) % n]);
  return { firstFrame, frames: md5.length, consecutive, captureMs: sender.captureMs(firstFrame) };
}
