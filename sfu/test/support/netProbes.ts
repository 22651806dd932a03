// Reachability and round-trip probes for emulated-WAN tests: run in the test's own (root) namespace
// directly, or inside a host's namespace through netAgent.ts. The ping here is UDP echo, so it needs
// neither ICMP sockets nor a ping binary.
import { createSocket } from 'node:dgram';
import { connect, createServer, type Socket } from 'node:net';

export interface Reach {
  ok: boolean;
  ms: number;
  error?: string;
}

export interface RttSample {
  sent: number;
  /** Round trips of the probes that came back, in ms. */
  rtts: number[];
}

export interface EchoServers {
  close(): Promise<void>;
}

/** TCP and UDP echo on the same port. */
export async function startEchoServers(port: number, host = '0.0.0.0'): Promise<EchoServers> {
  const tcp = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  const udp = createSocket('udp4');
  udp.on('message', (message, from) => udp.send(message, from.port, from.address));
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, host, () => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(port, host, () => resolve());
  });
  return {
    close: async () => {
      udp.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}

/** Whether a TCP connection to host:port opens within timeoutMs. */
export function tcpReach(host: string, port: number, timeoutMs: number): Promise<Reach> {
  const start = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean, error?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, ms: performance.now() - start, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => done(false, 'timeout'), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', (error: NodeJS.ErrnoException) => done(false, error.code ?? error.message));
  });
}

/** `count` UDP echo probes, one every intervalMs; stragglers get timeoutMs after the last. */
export function udpRtt(
  host: string,
  port: number,
  {
    count = 20,
    intervalMs = 25,
    timeoutMs = 1000,
  }: { count?: number; intervalMs?: number; timeoutMs?: number } = {},
): Promise<RttSample> {
  const socket = createSocket('udp4');
  const sentAt = new Map<number, number>();
  const rtts: number[] = [];
  socket.on('message', (message) => {
    const seq = message.readUInt32BE(0);
    const at = sentAt.get(seq);
    if (at === undefined) return;
    sentAt.delete(seq);
    rtts.push(performance.now() - at);
  });
  return new Promise((resolve) => {
    let seq = 0;
    const send = (): void => {
      const probe = Buffer.alloc(32);
      probe.writeUInt32BE(seq, 0);
      sentAt.set(seq, performance.now());
      seq++;
      // A send can fail (no route while cut): that probe is simply lost.
      socket.send(probe, port, host, () => {});
      if (seq < count) setTimeout(send, intervalMs);
      else
        setTimeout(() => {
          socket.close();
          resolve({ sent: count, rtts });
        }, timeoutMs);
    };
    send();
  });
}

/** A long-lived TCP connection to an echo server: shows whether an established connection stalls
 * (rather than resets) across a cut, and recovers after it. */
export class EchoStream {
  private received = '';
  private next = 0;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      this.received += data;
    });
    socket.on('error', () => {});
  }

  static open(host: string, port: number, timeoutMs: number): Promise<EchoStream> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no TCP connection to ${host}:${port} in ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new EchoStream(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** Sends a fresh token and waits for it to come back. */
  echo(timeoutMs: number): Promise<Reach> {
    const token = `<${this.next++}>`;
    const start = performance.now();
    this.socket.write(token);
    return new Promise((resolve) => {
      const poll = setInterval(() => {
        const ms = performance.now() - start;
        let reach: Reach | null = null;
        if (this.received.includes(token)) reach = { ok: true, ms };
        else if (this.socket.destroyed) reach = { ok: false, ms, error: 'closed' };
        else if (ms > timeoutMs) reach = { ok: false, ms, error: 'timeout' };
        if (reach) {
          clearInterval(poll);
          resolve(reach);
        }
      }, 5);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
