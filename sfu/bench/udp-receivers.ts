/**
 * Lightweight RTP receivers for the capacity bench, in a worker thread so counting packets does
 * not compete with the bench's main thread (sender and mediasoup channel). One UDP socket per
 * consumer; each counts the sender's 32-bit packet counter (the last 4 bytes of every packet)
 * so loss anywhere on the path shows up, whatever mediasoup rewrites in the RTP header.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parentPort } from 'node:worker_threads';

export type ReceiverCommand =
  | { type: 'open'; count: number }
  | { type: 'watch'; port: number; ssrc: number }
  | { type: 'reset' }
  | { type: 'report' }
  | { type: 'close' };

export interface ReceiverStats {
  port: number;
  received: number;
  /** Smallest and largest sender counter seen in the window (-1 when nothing arrived). */
  first: number;
  last: number;
}

export type ReceiverReply = { type: 'opened'; ports: number[] } | { type: 'report'; stats: ReceiverStats[] };

interface Receiver {
  socket: Socket;
  port: number;
  ssrc: number | undefined;
  received: number;
  first: number;
  last: number;
}

const receivers = new Map<number, Receiver>();
const port = parentPort;
if (!port) throw new Error('udp-receivers runs as a worker thread');

function reply(message: ReceiverReply): void {
  port?.postMessage(message);
}

async function open(count: number): Promise<number[]> {
  const opened = await Promise.all(
    Array.from({ length: count }, async () => {
      const socket = createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      const r: Receiver = {
        socket,
        port: socket.address().port,
        ssrc: undefined,
        received: 0,
        first: -1,
        last: -1,
      };
      socket.on('message', (msg) => {
        // RTCP (sender reports) shares the socket with rtcp-mux; RTX would carry another SSRC.
        if (msg.length < 16 || msg.readUInt32BE(8) !== r.ssrc) return;
        const counter = msg.readUInt32BE(msg.length - 4);
        r.received += 1;
        if (r.first < 0 || counter < r.first) r.first = counter;
        if (counter > r.last) r.last = counter;
      });
      receivers.set(r.port, r);
      return r.port;
    }),
  );
  return opened;
}

port.on('message', (command: ReceiverCommand) => {
  switch (command.type) {
    case 'open':
      open(command.count).then((ports) => reply({ type: 'opened', ports }));
      return;
    case 'watch': {
      const r = receivers.get(command.port);
      if (r) r.ssrc = command.ssrc;
      return;
    }
    case 'reset':
      for (const r of receivers.values()) {
        r.received = 0;
        r.first = -1;
        r.last = -1;
      }
      return;
    case 'report':
      reply({
        type: 'report',
        stats: [...receivers.values()].map((r) => ({
          port: r.port,
          received: r.received,
          first: r.first,
          last: r.last,
        })),
      });
      return;
    case 'close':
      for (const r of receivers.values()) r.socket.close();
      receivers.clear();
      port.close();
      return;
  }
});
