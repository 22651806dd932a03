import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { types } from 'mediasoup';
import type { Peer } from '../src/rooms/Peer.ts';
import type { Room } from '../src/rooms/Room.ts';
import type { DetachReason, PeerSink } from '../src/rooms/types.ts';

/** A sink that records what a node-internal peer is told. */
export function recordingSink(): PeerSink & { detachedWith: DetachReason[]; notes: string[] } {
  const detachedWith: DetachReason[] = [];
  const notes: string[] = [];
  return {
    detachedWith,
    notes,
    notify: (name) => notes.push(name),
    detached: (reason) => detachedWith.push(reason),
  };
}

const OPUS_PT = 100;

/** Sends valid Opus RTP packets (PT 100, fixed SSRC) at `pps` packets per second. */
export class RtpSender {
  readonly #socket: UdpSocket = createSocket('udp4');
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;
  #ts = 0;
  sent = 0;

  constructor(
    readonly ssrc: number,
    readonly pps = 50,
  ) {}

  start(port: number, host = '127.0.0.1'): void {
    this.#timer = setInterval(() => {
      const packet = Buffer.alloc(12 + 20);
      packet[0] = 0x80; // V=2
      packet[1] = OPUS_PT;
      packet.writeUInt16BE(this.#seq & 0xffff, 2);
      packet.writeUInt32BE(this.#ts >>> 0, 4);
      packet.writeUInt32BE(this.ssrc, 8);
      packet[12] = 0xfc; // Opus TOC: CELT FB 20 ms, one frame
      this.#seq += 1;
      this.#ts += 960;
      this.#socket.send(packet, port, host);
      this.sent += 1;
    }, 1000 / this.pps);
  }

  close(): void {
    clearInterval(this.#timer);
    this.#socket.close();
  }
}

/** Counts RTP packets arriving on a UDP socket, with their arrival times. */
export class RtpReceiver {
  readonly #socket: UdpSocket = createSocket('udp4');
  readonly arrivals: number[] = [];

  async bind(): Promise<number> {
    this.#socket.on('message', (msg) => {
      // RTP, not RTCP (payload types 200–204 are RTCP with rtcp-mux).
      const pt = (msg[1] ?? 0) & 0x7f;
      if (msg.length >= 12 && !(pt >= 72 && pt <= 76)) this.arrivals.push(performance.now());
    });
    await new Promise<void>((resolve) => this.#socket.bind(0, '127.0.0.1', resolve));
    return this.#socket.address().port;
  }

  /** Largest gap between consecutive packets within [from, to] (performance.now() times). */
  maxGap(from: number, to: number): number {
    const inWindow = this.arrivals.filter((t) => t >= from && t <= to);
    let gap = 0;
    let previous = from;
    for (const t of inWindow) {
      gap = Math.max(gap, t - previous);
      previous = t;
    }
    return Math.max(gap, to - previous);
  }

  close(): void {
    this.#socket.close();
  }
}

/**
 * Node-internal RTP through a room's real worker: a camera peer producing Opus over a comedia
 * PlainTransport fed by a UDP socket, and a viewer peer consuming it over a PlainTransport into
 * another UDP socket.
 */
export async function rtpLoop(room: Room, ssrc: number) {
  const cameraSink = recordingSink();
  const viewerSink = recordingSink();
  const camera: Peer = room.join({
    role: 'camera',
    displayName: 'rtp',
    clientId: `rtp-cam-${ssrc}`,
    sink: cameraSink,
  });
  const viewer: Peer = room.join({
    role: 'viewer',
    displayName: 'rtp',
    clientId: `rtp-view-${ssrc}`,
    sink: viewerSink,
  });
  const listenInfo: types.TransportListenInfo = { protocol: 'udp', ip: '127.0.0.1' };
  const inbound = await room.createPlainTransport(camera, 'send', {
    listenInfo,
    rtcpMux: true,
    comedia: true,
  });
  const producer = await room.produce(camera, {
    transportId: inbound.id,
    kind: 'audio',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: OPUS_PT, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc }],
    },
    purpose: 'mic',
  });
  const receiver = new RtpReceiver();
  const receivePort = await receiver.bind();
  const outbound = await room.createPlainTransport(viewer, 'recv', {
    listenInfo,
    rtcpMux: true,
    comedia: false,
  });
  await outbound.connect({ ip: '127.0.0.1', port: receivePort });
  const consumer = await room.consume(viewer, {
    transportId: outbound.id,
    producerId: producer.id,
    rtpCapabilities: room.wireRtpCapabilities,
  });
  await room.resumeConsumer(viewer, consumer.id);
  const sender = new RtpSender(ssrc);
  sender.start(inbound.tuple.localPort);
  return {
    camera,
    viewer,
    cameraSink,
    viewerSink,
    receiver,
    sender,
    close() {
      sender.close();
      receiver.close();
    },
  };
}

const VP8_PT = 101;

/**
 * VP8 RTP, one packet per frame (enough for mediasoup's parser): a keyframe every
 * `keyframeEvery` frames, or inter frames only when it is 0 (a stream that needs a PLI to start).
 */
function vp8Packet(seq: number, ssrc: number, keyframeEvery: number): Buffer {
  const keyframe = keyframeEvery > 0 && seq % keyframeEvery === 0;
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = 0x80 | VP8_PT; // marker: one packet per frame
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE((seq * 3000) >>> 0, 4);
  header.writeUInt32BE(ssrc, 8);
  // Payload descriptor S=1 PID=0, then the VP8 frame tag (P bit 0 = keyframe) and start code.
  const frame = keyframe
    ? [0x10, 0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01]
    : [0x10, 0x51, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00];
  return Buffer.concat([header, Buffer.from(frame), Buffer.alloc(40)]);
}

export interface Vp8CameraOptions {
  /** A camera peer already in the room (joined over signaling); else one is joined with `clientId`. */
  peer?: Peer;
  clientId?: string;
  ssrc: number;
  /** Frames between keyframes (default 30); 0 = inter frames only. */
  keyframeEvery?: number;
}

/**
 * A camera publishing VP8 at 30 fps over a comedia PlainTransport, fed by a UDP socket that also
 * collects the RTCP the node sends back (PLI/FIR among it).
 */
export async function vp8Camera(room: Room, options: Vp8CameraOptions) {
  const clientId = options.clientId ?? `vp8-${options.ssrc}`;
  const camera =
    options.peer ?? room.join({ role: 'camera', displayName: clientId, clientId, sink: recordingSink() });
  const inbound = await room.createPlainTransport(camera, 'send', {
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    rtcpMux: true,
    comedia: true,
  });
  const producer = await room.produce(camera, {
    transportId: inbound.id,
    kind: 'video',
    rtpParameters: {
      codecs: [
        {
          mimeType: 'video/VP8',
          payloadType: VP8_PT,
          clockRate: 90000,
          rtcpFeedback: [
            { type: 'nack' },
            { type: 'nack', parameter: 'pli' },
            { type: 'ccm', parameter: 'fir' },
          ],
        },
      ],
      encodings: [{ ssrc: options.ssrc }],
    },
    purpose: 'camera',
  });
  const socket = createSocket('udp4');
  const feedback: Buffer[] = [];
  socket.on('message', (msg) => feedback.push(msg));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const keyframeEvery = options.keyframeEvery ?? 30;
  let seq = 0;
  const timer = setInterval(() => {
    socket.send(vp8Packet(seq, options.ssrc, keyframeEvery), inbound.tuple.localPort, '127.0.0.1');
    seq += 1;
  }, 33);
  return {
    camera,
    producer,
    /** RTCP the node sent back to the camera (PLI/FIR among it). */
    feedback,
    close() {
      clearInterval(timer);
      socket.close();
    },
  };
}

export const isRtcpPli = (p: Buffer): boolean => p[1] === 206 && ((p[0] ?? 0) & 0x1f) === 1;
export const isRtcpFir = (p: Buffer): boolean => p[1] === 206 && ((p[0] ?? 0) & 0x1f) === 4;

/** RTCP compound packets: every packet inside. */
export function rtcpPackets(buffer: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0; offset + 4 <= buffer.length; ) {
    const length = (buffer.readUInt16BE(offset + 2) + 1) * 4;
    out.push(buffer.subarray(offset, offset + length));
    offset += length;
  }
  return out;
}
