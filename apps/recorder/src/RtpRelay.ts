import { createSocket, type Socket } from 'node:dgram';
import { ArrivalClock } from './showClock.ts';

/**
 * RTCP BYE (RFC 3550 6.6) for one SSRC, with a reason: ffmpeg's RTP demuxer takes it as the end
 * of the stream. ffmpeg drops any datagram shorter than 12 bytes unread, so the bare 8-byte BYE
 * is silently ignored (ffmpeg then kept recording until it was interrupted seconds later).
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

/**
 * Sends a BYE to ffmpeg's RTP port (not its RTCP port): ffmpeg reads RTCP before RTP, so a BYE
 * on the RTCP port overtakes the RTP datagrams still queued on the RTP socket and they are lost.
 * On the RTP socket it is read after them.
 */
export async function sendBye(port: number, ssrc: number, socket?: Socket): Promise<void> {
  const own = socket ?? createSocket('udp4');
  await new Promise<void>((resolve) => own.send(rtcpBye(ssrc), port, '127.0.0.1', () => resolve()));
  if (!socket) own.close();
}

export interface RtpRelayOptions {
  /** Where the media node sends the consumer's RTP and RTCP (the recorder's address and ports). */
  ip: string;
  rtpPort: number;
  rtcpPort: number;
  /** ffmpeg's RTP port on 127.0.0.1. */
  ffmpegRtpPort: number;
  clockRate: number;
  ssrc: number;
}

/**
 * Receives a track's RTP from the media node and passes it on to ffmpeg unchanged, noting when
 * every packet arrived: that is what places the track's media on the show clock (ArrivalClock).
 * Packets wait in memory until ffmpeg is listening (open()). RTCP from the node is not needed by
 * ffmpeg (one stream: no lip sync) and is dropped.
 */
export class RtpRelay {
  readonly clock: ArrivalClock;
  readonly #o: RtpRelayOptions;
  readonly #rtp: Socket;
  readonly #rtcp: Socket;
  readonly #out: Socket;
  #held: Buffer[] | null = [];
  #closed = false;
  forwarded = 0;
  dropped = 0;

  constructor(options: RtpRelayOptions) {
    this.#o = options;
    this.clock = new ArrivalClock(options.clockRate);
    const type = options.ip.includes(':') ? 'udp6' : 'udp4';
    // Keyframes of a 1080p source arrive as bursts of packets.
    this.#rtp = createSocket({ type, recvBufferSize: 4 * 1024 * 1024 });
    this.#rtcp = createSocket(type);
    this.#out = createSocket({ type: 'udp4', sendBufferSize: 4 * 1024 * 1024 });
  }

  async bind(): Promise<void> {
    const bind = (socket: Socket, port: number, ip: string) =>
      new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, ip, () => {
          socket.off('error', reject);
          socket.on('error', () => {}); // ICMP unreachable etc.: never fatal for a relay
          resolve();
        });
      });
    await bind(this.#rtp, this.#o.rtpPort, this.#o.ip);
    await bind(this.#rtcp, this.#o.rtcpPort, this.#o.ip);
    await bind(this.#out, 0, '127.0.0.1');
    this.#rtcp.on('message', () => {});
    this.#rtp.on('message', (packet) => this.#onPacket(packet));
  }

  /** ffmpeg listens now: pass on what was held and everything that follows. */
  open(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const packet of held) this.#forward(packet);
  }

  /** Ends ffmpeg's input after every packet relayed so far (same socket, same order). */
  async bye(): Promise<void> {
    if (this.#closed) return;
    await sendBye(this.#o.ffmpegRtpPort, this.#o.ssrc, this.#out);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const socket of [this.#rtp, this.#rtcp, this.#out]) {
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
  }

  #onPacket(packet: Buffer): void {
    const arrivalMs = Date.now();
    if (packet.length < 12 || (packet[0] ?? 0) >> 6 !== 2) return;
    const payloadType = (packet[1] ?? 0) & 0x7f;
    if (payloadType >= 72 && payloadType <= 76) return; // RTCP (not expected here)
    if (packet.readUInt32BE(8) !== this.#o.ssrc >>> 0) {
      this.dropped += 1;
      return;
    }
    this.clock.observe(packet.readUInt32BE(4), arrivalMs);
    if (this.#held) this.#held.push(packet);
    else this.#forward(packet);
  }

  #forward(packet: Buffer): void {
    if (this.#closed) return;
    this.forwarded += 1;
    this.#out.send(packet, this.#o.ffmpegRtpPort, '127.0.0.1');
  }
}
