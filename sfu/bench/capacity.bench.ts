/**
 * Forwarding capacity of ONE mediasoup worker: one VP8-like producer (≈1.5 Mbit/s, 30 fps,
 * 1200-byte packets) on a PlainTransport, fanned out to N PlainTransport consumers whose packets
 * land on lightweight UDP receivers (a worker thread, one socket each). For each step N it prints
 * the worker's CPU (getrusage deltas), CPU per 100 consumers, and loss measured at the receivers.
 * Steps stop early when loss exceeds 0.1 % or the worker's core saturates. No pass/fail.
 *   npm run bench:capacity -w @microstudio/sfu
 *   (CAPACITY_STEPS=50,100,200 · CAPACITY_WINDOW_MS=5000 to change the shape)
 */
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { types } from 'mediasoup';
import { startTestNode } from '../test/helpers.ts';
import type { ReceiverCommand, ReceiverReply, ReceiverStats } from './udp-receivers.ts';
import { Vp8Sender } from './vp8-sender.ts';

const STEPS = (process.env.CAPACITY_STEPS ?? '50,100,200,400,500,600,800').split(',').map(Number);
const WINDOW_MS = Number(process.env.CAPACITY_WINDOW_MS ?? 5000);
const SETTLE_MS = 1500;
const MAX_LOSS = 0.001;
const SATURATED_CPU = 0.95;
const VP8_PT = 101;
const SSRC = 22_222_222;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The receivers' thread, driven by request/reply messages. */
class Receivers {
  readonly #thread = new Worker(new URL('./udp-receivers.ts', import.meta.url));
  send(command: ReceiverCommand): void {
    this.#thread.postMessage(command);
  }
  #next<T extends ReceiverReply['type']>(type: T): Promise<Extract<ReceiverReply, { type: T }>> {
    return new Promise((resolve) => {
      const on = (reply: ReceiverReply) => {
        if (reply.type !== type) return;
        this.#thread.off('message', on);
        resolve(reply as Extract<ReceiverReply, { type: T }>);
      };
      this.#thread.on('message', on);
    });
  }
  async open(count: number): Promise<number[]> {
    const reply = this.#next('opened');
    this.send({ type: 'open', count });
    return (await reply).ports;
  }
  async report(): Promise<ReceiverStats[]> {
    const reply = this.#next('report');
    this.send({ type: 'report' });
    return (await reply).stats;
  }
  async close(): Promise<void> {
    this.send({ type: 'close' });
    await new Promise((resolve) => this.#thread.once('exit', resolve));
  }
}

/**
 * The kernel's count of UDP datagrams dropped because a socket's receive buffer was full: it
 * tells receiver-side loss (the bench's own sockets) from loss in the worker.
 */
async function udpRcvbufErrors(): Promise<number | undefined> {
  try {
    const lines = (await readFile('/proc/net/snmp', 'utf8')).split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const at = names.indexOf('RcvbufErrors');
    return at > 0 ? Number(values[at]) : undefined;
  } catch {
    return undefined;
  }
}

const cpuMs = async (worker: types.Worker) => {
  const u = await worker.getResourceUsage();
  return u.ru_utime + u.ru_stime;
};

const node = await startTestNode({ MICROSTUDIO_WORKERS: '1', MICROSTUDIO_LOG_LEVEL: 'error' });
const receivers = new Receivers();
const sender = new Vp8Sender(SSRC, VP8_PT);
try {
  const { router, worker } = await node.pool.createRouter(0);
  const listenInfo: types.TransportListenInfo = { protocol: 'udp', ip: '127.0.0.1' };
  const ingress = await router.createPlainTransport({ listenInfo, rtcpMux: true, comedia: true });
  const producer = await ingress.produce({
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
      encodings: [{ ssrc: SSRC }],
    },
  });
  sender.start(ingress.tuple.localPort);
  const pps = sender.packetsPerSecond;
  console.log(
    `one worker (pid ${worker.worker.pid}), one VP8-like producer: ${pps} packets/s × ${sender.packetBytes} B ` +
      `= ${((pps * sender.packetBytes * 8) / 1e6).toFixed(2)} Mbit/s, ${sender.fps} fps; window ${WINDOW_MS} ms per step`,
  );
  console.log(
    'consumers  worker CPU  CPU/100 consumers  loss %    silent  forwarded pkt/s  bench process CPU' +
      '  rcvbuf drops  ingress loss %  worker-sent share %',
  );
  const all: types.Consumer[] = [];
  /** Packets the worker received on the producer and sent on all consumers (its own counters). */
  const workerCounts = async (): Promise<{ in: number; out: number }> => {
    const inbound = (await producer.getStats()).reduce((n, s) => n + s.packetCount, 0);
    let out = 0;
    for (let i = 0; i < all.length; i += 100) {
      const batch = await Promise.all(all.slice(i, i + 100).map((c) => c.getStats()));
      for (const stats of batch) for (const s of stats) if (s.type === 'outbound-rtp') out += s.packetCount;
    }
    return { in: inbound, out };
  };

  let consumers = 0;
  for (const target of STEPS) {
    const add = target - consumers;
    if (add > 0) {
      const ports = await receivers.open(add);
      for (let i = 0; i < ports.length; i += 50) {
        await Promise.all(
          ports.slice(i, i + 50).map(async (port) => {
            const transport = await router.createPlainTransport({
              listenInfo,
              rtcpMux: true,
              comedia: false,
            });
            await transport.connect({ ip: '127.0.0.1', port });
            const consumer = await transport.consume({
              producerId: producer.id,
              rtpCapabilities: router.rtpCapabilities,
              paused: false,
            });
            all.push(consumer);
            const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
            if (ssrc === undefined) throw new Error('consumer without an SSRC');
            receivers.send({ type: 'watch', port, ssrc });
          }),
        );
      }
      consumers = target;
    }
    await sleep(SETTLE_MS); // every consumer has its key frame (one a second, and on PLI)

    const counts0 = await workerCounts();
    receivers.send({ type: 'reset' });
    const wall0 = performance.now();
    const cpu0 = await cpuMs(worker.worker);
    const proc0 = process.cpuUsage();
    const counter0 = sender.counter;
    const drops0 = await udpRcvbufErrors();
    await sleep(WINDOW_MS);
    const cpu1 = await cpuMs(worker.worker);
    const proc1 = process.cpuUsage(proc0);
    const wall = performance.now() - wall0;
    const sentInWindow = sender.counter - counter0;
    const drops1 = await udpRcvbufErrors();
    const stats = await receivers.report();
    const counts1 = await workerCounts();
    const ingressLoss = 1 - (counts1.in - counts0.in) / sentInWindow;
    const sentShare = (counts1.out - counts0.out) / ((counts1.in - counts0.in) * consumers);

    // Loss is counted over the whole window: datagrams the kernel dropped at a full receive
    // buffer (rcvbuf drops) are the receivers' share of it; the rest happened in the worker.
    let expected = 0;
    let received = 0;
    let silent = 0;
    for (const s of stats) {
      if (s.received === 0) {
        silent += 1;
        expected += sentInWindow;
        continue;
      }
      expected += s.last - s.first + 1;
      received += s.received;
    }
    const loss = expected > 0 ? Math.max(0, expected - received) / expected : 0;
    const workerCpu = (cpu1 - cpu0) / wall;
    const procCpu = (proc1.user + proc1.system) / 1000 / wall;
    console.log(
      `${String(consumers).padStart(9)}  ${(workerCpu * 100).toFixed(1).padStart(9)} %` +
        `  ${((workerCpu * 100 * 100) / consumers).toFixed(2).padStart(15)} %` +
        `  ${(loss * 100).toFixed(3).padStart(7)}  ${String(silent).padStart(6)}` +
        `  ${Math.round((received / wall) * 1000)
          .toString()
          .padStart(15)}  ${(procCpu * 100).toFixed(1).padStart(15)} %` +
        `  ${drops0 === undefined || drops1 === undefined ? 'n/a' : String(drops1 - drops0).padStart(12)}` +
        `  ${(ingressLoss * 100).toFixed(3).padStart(14)}  ${(sentShare * 100).toFixed(2).padStart(19)}`,
    );
    if (loss > MAX_LOSS || silent > 0) {
      console.log(`stopped: loss above ${MAX_LOSS * 100} % at ${consumers} consumers`);
      break;
    }
    if (workerCpu >= SATURATED_CPU) {
      console.log(`stopped: the worker's core is saturated at ${consumers} consumers`);
      break;
    }
  }
} finally {
  sender.close();
  await receivers.close();
  await node.close();
}
