import { createSocket } from 'node:dgram';

/** True when `port` can be bound for UDP on `ip` right now. */
export function udpPortFree(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, ip, () => socket.close(() => resolve(true)));
  });
}

/**
 * Hands out pairs of UDP ports (RTP, RTCP: ffmpeg binds both) from `first` up,
 * skipping blocks something else holds. Released blocks are reused.
 */
export class PortAllocator {
  readonly #first: number;
  readonly #ip: string;
  readonly #used = new Set<number>();

  constructor(ip: string, first: number) {
    this.#ip = ip;
    this.#first = first - (first % 2);
  }

  async allocate(): Promise<{ rtpPort: number; rtcpPort: number }> {
    for (let base = this.#first; base + 1 <= 65535; base += 2) {
      if (this.#used.has(base)) continue;
      // Claimed before the (async) probe, so concurrent allocations never get the same block.
      this.#used.add(base);
      const free = await Promise.all([0, 1].map((i) => udpPortFree(this.#ip, base + i)));
      if (free.every(Boolean)) return { rtpPort: base, rtcpPort: base + 1 };
      this.#used.delete(base);
    }
    throw new Error(`no free UDP port block from ${this.#first}`);
  }

  release(rtpPort: number): void {
    this.#used.delete(rtpPort);
  }
}

/** Resolves once something (ffmpeg) holds `port`, so RTP sent there is not lost. */
export async function waitUntilBound(ip: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!(await udpPortFree(ip, port))) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
