/**
 * Forwarding capacity of ONE mediasoup worker: one VP8-like producer (≈1.5 Mbit/s, 30 fps,
 * 1200-byte packets) on a PlainTransport, fanned out to N PlainTransport consumers whose packets
 * land on lightweight UDP receivers (a worker thread, one socket each). For each step N it prints
 * the worker's CPU (getrusage deltas), CPU per 100 consumers, and loss measured at the receivers.
 * Steps stop early when loss exceeds 0.1 % or the worker's core saturates. No pass/fail.
 *   npm run bench:capacity -w @microstudio/sfu
 *   (CAPACITY_STEPS=50,100,200 · CAPACITY_WINDOW_MS=5000 to change the shape)
 * With --janus (`npm run bench:capacity:janus` from the root, which installs Debian's Janus), the
 * same load then runs through Janus's VideoRoom (a plain-RTP remote publisher fanned out by
 * `rtp_forward` forwarders, see janus.ts), the janus process's CPU read from /proc, and a table puts
 * the two side by side with ratios.
 */
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { types } from 'mediasoup';
import { startTestNode } from '../test/helpers.ts';
import type { CapacityTarget } from './capacity-target.ts';
import { startJanusVideoRoom } from './janus.ts';
import type { ReceiverCommand, ReceiverReply, ReceiverStats } from './udp-receivers.ts';
import { Vp8Sender } from './vp8-sender.ts';

const WITH_JANUS = process.argv.slice(2).includes('--janus');
// Janus's forwarders are lighter than mediasoup's consumers: its run goes on past 800.
const DEFAULT_STEPS = `50,100,200,400,500,600,800${WITH_JANUS ? ',1000,1200,1600' : ''}`;
const STEPS = (process.env.CAPACITY_STEPS ?? DEFAULT_STEPS).split(',').map(Number);
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

/** What one step measured. */
interface Step {
  consumers: number;
  cpu: number;
  loss: number;
  silent: number;
}

/** A mediasoup worker: a PlainTransport producer (comedia) and PlainTransport consumers. */
async function startMediasoup(): Promise<CapacityTarget> {
  const node = await startTestNode({ MICROSTUDIO_WORKERS: '1', MICROSTUDIO_LOG_LEVEL: 'error' });
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
    const all: types.Consumer[] = [];
    const pid = worker.worker.pid;
    if (pid === undefined) throw new Error('mediasoup worker without a pid');
    return {
      name: 'mediasoup',
      pid,
      ingressPort: ingress.tuple.localPort,
      ssrc: SSRC,
      async add(ports) {
        const ssrcs: number[] = [];
        for (let i = 0; i < ports.length; i += 50) {
          const batch = await Promise.all(
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
              return ssrc;
            }),
          );
          ssrcs.push(...batch);
        }
        return ssrcs;
      },
      async cpuMs() {
        const u = await worker.worker.getResourceUsage();
        return u.ru_utime + u.ru_stime;
      },
      /** Packets the worker received on the producer and sent on all consumers (its own counters). */
      async counts() {
        const inbound = (await producer.getStats()).reduce((n, s) => n + s.packetCount, 0);
        let out = 0;
        for (let i = 0; i < all.length; i += 100) {
          const batch = await Promise.all(all.slice(i, i + 100).map((c) => c.getStats()));
          for (const stats of batch)
            for (const s of stats) if (s.type === 'outbound-rtp') out += s.packetCount;
        }
        return { in: inbound, out };
      },
      close: () => node.close(),
    };
  } catch (error) {
    await node.close();
    throw error;
  }
}

/** One forwarder under test, with its own sender and receivers thread. */
class Run {
  readonly receivers = new Receivers();
  readonly sender: Vp8Sender;
  readonly steps: Step[] = [];
  consumers = 0;
  done = false;
  constructor(readonly target: CapacityTarget) {
    this.sender = new Vp8Sender(target.ssrc, VP8_PT);
  }

  async close(): Promise<void> {
    this.sender.close();
    await this.receivers.close();
    await this.target.close();
  }

  /** Grows to `consumers`, sends for a settle time and a window, prints the step's line. */
  async step(consumers: number): Promise<void> {
    const { target, sender, receivers } = this;
    const add = consumers - this.consumers;
    if (add > 0) {
      const ports = await receivers.open(add);
      const ssrcs = await target.add(ports);
      ports.forEach((port, i) => {
        receivers.send({ type: 'watch', port, ssrc: ssrcs[i] ?? 0 });
      });
      this.consumers = consumers;
    }
    sender.start(target.ingressPort);
    try {
      await sleep(SETTLE_MS); // every consumer has its key frame (one a second, and on PLI)
      await this.#window(consumers);
    } finally {
      sender.stop();
    }
  }

  async #window(consumers: number): Promise<void> {
    const { target, sender, receivers } = this;
    // The forwarder's own counters are read outside the window (reading 800 consumers' stats
    // takes a while), so ingress loss compares them with what the sender sent since the same
    // instants, not with the window's count.
    const countsSent0 = sender.counter;
    const counts0 = await target.counts?.();
    receivers.send({ type: 'reset' });
    const wall0 = performance.now();
    const cpu0 = await target.cpuMs();
    const proc0 = process.cpuUsage();
    const counter0 = sender.counter;
    const drops0 = await udpRcvbufErrors();
    await sleep(WINDOW_MS);
    const cpu1 = await target.cpuMs();
    const proc1 = process.cpuUsage(proc0);
    const wall = performance.now() - wall0;
    const sentInWindow = sender.counter - counter0;
    const drops1 = await udpRcvbufErrors();
    const stats = await receivers.report();
    const countsSent1 = sender.counter;
    const counts1 = await target.counts?.();

    // Loss is counted over the whole window: datagrams the kernel dropped at a full receive
    // buffer (rcvbuf drops) are the receivers' share of it; the rest happened in the forwarder.
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
    const cpu = (cpu1 - cpu0) / wall;
    const procCpu = (proc1.user + proc1.system) / 1000 / wall;
    let own = `${'n/a'.padStart(14)}  ${'n/a'.padStart(12)}`;
    if (counts0 && counts1) {
      const ingressLoss = 1 - (counts1.in - counts0.in) / (countsSent1 - countsSent0);
      const sentShare = (counts1.out - counts0.out) / ((counts1.in - counts0.in) * consumers);
      own = `${(ingressLoss * 100).toFixed(3).padStart(14)}  ${(sentShare * 100).toFixed(2).padStart(12)}`;
    }
    console.log(
      `${target.name.padEnd(9)}  ${String(consumers).padStart(9)}  ${(cpu * 100).toFixed(1).padStart(7)} %` +
        `  ${((cpu * 100 * 100) / consumers).toFixed(2).padStart(15)} %` +
        `  ${(loss * 100).toFixed(3).padStart(7)}  ${String(silent).padStart(6)}` +
        `  ${Math.round((received / wall) * 1000)
          .toString()
          .padStart(15)}  ${(procCpu * 100).toFixed(1).padStart(15)} %` +
        `  ${drops0 === undefined || drops1 === undefined ? 'n/a' : String(drops1 - drops0).padStart(12)}` +
        `  ${own}`,
    );
    this.steps.push({ consumers, cpu, loss, silent });
    if (loss > MAX_LOSS || silent > 0) {
      console.log(`${target.name}: stopped, loss above ${MAX_LOSS * 100} % at ${consumers} consumers`);
      this.done = true;
    } else if (cpu >= SATURATED_CPU) {
      console.log(`${target.name}: stopped, its core is saturated at ${consumers} consumers`);
      this.done = true;
    }
  }
}

const clean = (s: Step) => s.loss <= MAX_LOSS && s.silent === 0;
const per100 = (s: Step) => (s.cpu * 100 * 100) / s.consumers;
const pct = (x: number | undefined, digits = 1) => (x === undefined ? '—' : `${x.toFixed(digits)} %`);

/** The two runs side by side: Janus's figures over mediasoup's, step by step and overall. */
function compare(ms: Step[], janus: Step[]): void {
  console.log(
    '\nside by side (same sender, receivers, steps and loss accounting; ratio = janus / mediasoup):',
  );
  console.log(
    `${'consumers'.padStart(9)}  ${'mediasoup CPU'.padStart(13)}  ${'janus CPU'.padStart(10)}` +
      `  ${'ms CPU/100'.padStart(10)}  ${'janus CPU/100'.padStart(13)}  ${'CPU ratio'.padStart(9)}` +
      `  ${'ms loss'.padStart(9)}  ${'janus loss'.padStart(10)}`,
  );
  for (const n of STEPS) {
    const m = ms.find((s) => s.consumers === n);
    const j = janus.find((s) => s.consumers === n);
    if (!m && !j) continue;
    const ratio = m && j && m.cpu > 0 ? (j.cpu / m.cpu).toFixed(2) : '—';
    console.log(
      `${String(n).padStart(9)}  ${pct(m && m.cpu * 100).padStart(13)}  ${pct(j && j.cpu * 100).padStart(10)}` +
        `  ${pct(m && per100(m), 2).padStart(10)}  ${pct(j && per100(j), 2).padStart(13)}  ${ratio.padStart(9)}` +
        `  ${pct(m && m.loss * 100, 3).padStart(9)}  ${pct(j && j.loss * 100, 3).padStart(10)}`,
    );
  }
  const most = (steps: Step[]) => steps.filter(clean).at(-1)?.consumers ?? 0;
  const [mMost, jMost] = [most(ms), most(janus)];
  const capped = (steps: Step[], n: number) =>
    n === STEPS.at(-1) && steps.every(clean) ? ' (every step)' : '';
  console.log(
    `clean (≤ ${MAX_LOSS * 100} % loss) up to: mediasoup ${mMost}${capped(ms, mMost)}, janus ${jMost}${capped(janus, jMost)}` +
      (mMost > 0 ? ` — ratio ${(jMost / mMost).toFixed(2)}` : ''),
  );
  const both = STEPS.filter((n) => {
    const m = ms.find((s) => s.consumers === n);
    const j = janus.find((s) => s.consumers === n);
    return m && j && clean(m) && clean(j);
  });
  if (both.length > 0) {
    const mean = (steps: Step[]) => {
      const at = steps.filter((s) => both.includes(s.consumers));
      return at.reduce((sum, s) => sum + per100(s), 0) / at.length;
    };
    const [m, j] = [mean(ms), mean(janus)];
    console.log(
      `CPU per 100 consumers, mean over the steps both forwarded cleanly (${both.join(', ')}): ` +
        `mediasoup ${m.toFixed(2)} %, janus ${j.toFixed(2)} % — ratio ${(j / m).toFixed(2)}`,
    );
  }
}

// Both forwarders stay up; each step is measured on one, then the other (the order alternates
// from step to step), with only the one being measured receiving the stream, so both see the
// box in the same state (this shared 2-core machine's load drifts within minutes).
const runs: Run[] = [];
try {
  const first = new Run(await startMediasoup());
  runs.push(first);
  if (WITH_JANUS) runs.push(new Run(await startJanusVideoRoom()));
  const { packetsPerSecond: pps, packetBytes, fps } = first.sender;
  console.log(
    `${runs.map((r) => `${r.target.name} (pid ${r.target.pid})`).join(' and ')}, each fed one VP8-like stream: ` +
      `${pps} packets/s × ${packetBytes} B = ${((pps * packetBytes * 8) / 1e6).toFixed(2)} Mbit/s, ${fps} fps; ` +
      `window ${WINDOW_MS} ms per step`,
  );
  console.log(
    'forwarder  consumers  proc CPU    CPU/100 consumers  loss %    silent  forwarded pkt/s  bench process CPU' +
      '  rcvbuf drops  ingress loss %  sent share %',
  );
  for (const [index, consumers] of STEPS.entries()) {
    const live = runs.filter((r) => !r.done);
    if (live.length === 0) break;
    for (const run of index % 2 === 0 ? live : live.reverse()) await run.step(consumers);
  }
  const [ms, janus] = runs;
  if (ms && janus) compare(ms.steps, janus.steps);
} finally {
  for (const run of runs) await run.close();
}
