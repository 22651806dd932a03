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
