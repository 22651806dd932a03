// Delay and loss on the WAN pairs only (wan.ts): traffic between a pair's two hosts is shaped, while
// the root namespace (browser, redis) and non-WAN pairs reach every host at bridge speed.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inNs, run } from './wanCommands.ts';
import type { WanNames } from './wanLease.ts';
import type { WanShaper } from './wanSupport.ts';

export interface ShapedHost {
  name: string;
  ns: string;
  ip: string;
}

export interface ShapingPlan {
  names: WanNames;
  hosts: Record<string, ShapedHost>;
  pairs: [string, string][];
  /** Round trip: each direction gets half. */
  delayMs: number;
  /** Round trip: each direction loses p with (1 - p)² = 1 - loss. */
  lossPercent: number;
}

export interface Shaping {
  kind: WanShaper;
  /** `ip route` arguments, run in `host`'s namespace, that put host→peer back on its normal path
   * after a cut sent it into the void device. */
  restoreRoute(host: string, peer: string): string[];
  /** Synchronous so exit handlers can call it. */
  stop(): void;
}

/** Non-WAN paths are the bridge's subnet route: restoring one only drops the cut's /32. */
const unvoid = (to: string): string[] => ['route', 'del', to, 'dev', 'void'];

const oneWayLoss = (lossPercent: number): number => 1 - Math.sqrt(1 - lossPercent / 100);

function host(plan: ShapingPlan, name: string): ShapedHost {
  const found = plan.hosts[name];
  if (!found) throw new Error(`unknown WAN host ${name}`);
  return found;
}

/** Kernel shaping in each host's egress: a prio qdisc whose extra band 4 (reached only through u32
 * filters on the WAN peers' addresses) holds a netem, so everything else keeps the plain bands. */
async function startNetem(plan: ShapingPlan): Promise<Shaping> {
  const peers = new Map<string, string[]>();
  for (const [a, b] of plan.pairs) {
    peers.set(a, [...(peers.get(a) ?? []), b]);
    peers.set(b, [...(peers.get(b) ?? []), a]);
  }
  const netem = ['limit', '10000', 'delay', `${plan.delayMs / 2}ms`];
  const loss = oneWayLoss(plan.lossPercent) * 100;
  if (loss > 0) netem.push('loss', 'random', `${loss.toFixed(4)}%`);
  if (plan.delayMs > 0 || loss > 0) {
    await Promise.all(
      [...peers].map(async ([name, peerNames]) => {
        const ns = host(plan, name).ns;
        const priomap = '1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1';
        await run('tc', inNs(ns, `qdisc add dev eth0 root handle 1: prio bands 4 priomap ${priomap}`));
        await run('tc', [...inNs(ns, 'qdisc add dev eth0 parent 1:4 handle 40: netem'), ...netem]);
        for (const peer of peerNames) {
          const match = `u32 match ip dst ${host(plan, peer).ip}/32 flowid 1:4`;
          await run('tc', inNs(ns, `filter add dev eth0 parent 1: protocol ip prio 1 ${match}`));
        }
      }),
    );
  }
  return {
    kind: 'netem',
    restoreRoute: (_host, peer) => unvoid(`${host(plan, peer).ip}/32`),
    stop: () => {},
  };
}

const RELAY = fileURLToPath(new URL('./wanRelay.py', import.meta.url));

function waitReady(relay: ChildProcess, stderr: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`WAN relay not ready in 5 s: ${stderr()}`)), 5000);
    let out = '';
    relay.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
    relay.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`WAN relay exited (${signal ?? code}): ${stderr()}`));
    });
  });
}

/** User-space shaping (wanRelay.py): each pair talks through its own TUN link, routed by a /32 in
 * both namespaces, and the relay delays or drops what crosses it. */
async function startRelay(plan: ShapingPlan): Promise<Shaping> {
  if (plan.pairs.length === 0) {
    return {
      kind: 'relay',
      restoreRoute: (_host, peer) => unvoid(`${host(plan, peer).ip}/32`),
      stop: () => {},
    };
  }
  const links = plan.pairs.map(([a, b], k) => ({
    a,
    b,
    devA: plan.names.relayLink(k, 'a'),
    devB: plan.names.relayLink(k, 'b'),
  }));
  const config = {
    links: links.map((l) => ({
      a: l.devA,
      b: l.devB,
      delayMs: plan.delayMs / 2,
      loss: oneWayLoss(plan.lossPercent),
    })),
  };
  // stdin stays open: the relay exits when it closes, so it can't outlive this process.
  const relay = spawn('python3', [RELAY, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  relay.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let stopping = false;
  const stop = (): void => {
    stopping = true;
    relay.kill('SIGKILL');
  };
  try {
    await waitReady(relay, () => stderr);
    relay.once('exit', (code, signal) => {
      if (!stopping) process.emitWarning(`WAN relay died (${signal ?? code}); WAN pairs are cut: ${stderr}`);
    });
    const dev = new Map<string, string>(); // "host>peer" -> TUN device in host's namespace
    for (const l of links) {
      dev.set(`${l.a}>${l.b}`, l.devA);
      dev.set(`${l.b}>${l.a}`, l.devB);
    }
    await Promise.all(
      [...dev].map(async ([key, name]) => {
        const [self, peer] = key.split('>') as [string, string];
        const ns = host(plan, self).ns;
        await run('ip', ['link', 'set', 'dev', name, 'netns', ns]);
        await run('ip', ['-n', ns, 'link', 'set', 'dev', name, 'up']);
        await run(
          'ip',
          inNs(ns, `route add ${host(plan, peer).ip}/32 dev ${name} src ${host(plan, self).ip}`),
        );
      }),
    );
    for (const stream of [relay.stdin, relay.stdout, relay.stderr])
      (stream as { unref?: () => void } | null)?.unref?.();
    relay.unref();
    return {
      kind: 'relay',
      restoreRoute: (self, peer) => {
        const name = dev.get(`${self}>${peer}`);
        const to = `${host(plan, peer).ip}/32`;
        return name ? ['route', 'replace', to, 'dev', name, 'src', host(plan, self).ip] : unvoid(to);
      },
      stop,
    };
  } catch (error) {
    stop();
    throw error;
  }
}

export function startShaping(kind: WanShaper, plan: ShapingPlan): Promise<Shaping> {
  return kind === 'netem' ? startNetem(plan) : startRelay(plan);
}
