import { createSocket, type Socket } from 'node:dgram';

/**
 * A VP8-like RTP source at a realistic camera rate: `fps` frames per second, each split into
 * packets of `packetBytes` (marker bit on a frame's last packet), a key frame every second and on
 * every PLI/FIR from the worker. Payloads carry Chrome's VP8 payload descriptor (picture id,
 * TL0PICIDX, TID) so mediasoup parses them as it parses a browser's; the last 4 bytes of every
 * packet are a running packet counter the receivers use to count loss.
 */
export class Vp8Sender {
  readonly #socket: Socket = createSocket('udp4');
  readonly #packetsPerFrame: number;
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;
  #frame = 0;
  #keyFrameWanted = true;
  /** Packets sent so far (the next packet's counter). */
  counter = 0;

  constructor(
    readonly ssrc: number,
    readonly payloadType: number,
    readonly bitrate = 1_500_000,
    readonly fps = 30,
    readonly packetBytes = 1200,
  ) {
    this.#packetsPerFrame = Math.max(1, Math.round(bitrate / 8 / fps / packetBytes));
    this.#socket.on('message', (msg) => {
      // RTCP from the worker: PSFB (206) carries PLI and FIR.
      if (msg.length >= 4 && msg[1] === 206) this.#keyFrameWanted = true;
    });
  }

  get packetsPerSecond(): number {
    return this.#packetsPerFrame * this.fps;
  }

  start(port: number, host = '127.0.0.1'): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#sendFrame(port, host), 1000 / this.fps);
  }

  /** Stops sending (the socket stays open, so a comedia transport keeps its latched tuple). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sendFrame(port: number, host: string): void {
    const key = this.#keyFrameWanted || this.#frame % this.fps === 0;
    this.#keyFrameWanted = false;
    const pictureId = this.#frame & 0x7fff;
    const timestamp = Math.round((this.#frame * 90_000) / this.fps) >>> 0;
    for (let i = 0; i < this.#packetsPerFrame; i++) {
      const packet = Buffer.alloc(this.packetBytes);
      const last = i === this.#packetsPerFrame - 1;
      packet[0] = 0x80;
      packet[1] = (last ? 0x80 : 0) | this.payloadType;
      packet.writeUInt16BE(this.#seq & 0xffff, 2);
      packet.writeUInt32BE(timestamp, 4);
      packet.writeUInt32BE(this.ssrc, 8);
      // VP8 payload descriptor: X=1, S on the first packet, PID 0; I, L, T; 15-bit picture id;
      // TL0PICIDX; TID 0.
      packet[12] = 0x80 | (i === 0 ? 0x10 : 0);
      packet[13] = 0xe0;
      packet.writeUInt16BE(0x8000 | pictureId, 14);
      packet[16] = this.#frame & 0xff;
      packet[17] = 0x00;
      // VP8 payload header: P bit (bit 0 of the first byte) is 0 on a key frame.
      if (i === 0) {
        packet[18] = key ? 0x10 : 0x11;
        packet.set([0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01], 21); // start code, 640x360
      }
      packet.writeUInt32BE(this.counter >>> 0, this.packetBytes - 4);
      this.#socket.send(packet, port, host);
      this.#seq += 1;
      this.counter += 1;
    }
    this.#frame += 1;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#socket.close();
  }
}
