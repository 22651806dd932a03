// Emulated WAN for multi-node tests: one Linux network namespace per host on a shared bridge, with
// delay and loss only between the WAN pairs, and pairs that can be cut and restored.
//
//   root namespace (test, browser, redis) ── gatewayIp 10.77.n.1 ─┐
//                                                                 bridge ── site 10.77.n.10
//                                                                        ── edge1 10.77.n.11 …
//
// Needs root and iproute2; wanSupport() says whether (and why not) before a test relies on it.
import { type ChildProcess, execFile, type SpawnOptions, spawn } from 'node:child_process';
import { killNetnsProcesses, run, tool, tryRunSync, WanCommandError } from './wanCommands.ts';
import { guard } from './wanGuard.ts';
import { acquireLease, removeStale, SUBNET_BASE } from './wanLease.ts';
import { type Shaping, startShaping } from './wanShaping.ts';
import { type WanShaper, wanSupport } from './wanSupport.ts';
import { buildTopology } from './wanTopology.ts';

export type { WanShaper, WanSupport } from './wanSupport.ts';
export { wanSupport };

export interface WanHost {
  name: string;
  /** Its network namespace (for `ip netns exec`). */
  ns: string;
  ip: string;
}

export interface WanOptions {
  /** Lowercase letters, at most 5; every name created starts with it (default 'mst'). */
  prefix?: string;
  /** Host names: a lowercase letter, then up to 15 lowercase letters or digits. */
  hosts: string[];
  /** Round-trip delay between each WAN pair (default 20 ms: half each way). */
  delayMs?: number;
  /** Round-trip loss between each WAN pair (default 1 %: split between the two directions). */
  lossPercent?: number;
  /** The pairs that cross the WAN; all other traffic goes at bridge speed. */
  wanPairs?: [string, string][];
  /** 'auto' (default): netem where the kernel has it, else the user-space relay. */
  shaper?: WanShaper | 'auto';
}

export interface Wan {
  hosts: Record<string, WanHost>;
  /** The root-namespace address on the bridge: processes in namespaces reach root-ns services
   * (redis, the browser's page) through it. */
  gatewayIp: string;
  /** Which shaper delays the WAN pairs here. */
  shaper: WanShaper;
  /** Every namespace and link this WAN creates is named `${id}` then a non-digit. */
  id: string;
  /** Spawn a process inside a host's namespace (child_process.spawn args), env passed through. */
  spawn(host: string, command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Run a command inside a host's namespace; rejects (with its stderr) on a non-zero exit. */
  exec(
    host: string,
    command: string,
    args: string[],
    options?: { timeoutMs?: number },
  ): Promise<{ stdout: string; stderr: string }>;
  /** Drop all traffic between two hosts, both directions, silently (TCP stalls, UDP vanishes);
   * every other path is unaffected. */
  cut(a: string, b: string): Promise<void>;
  restore(a: string, b: string): Promise<void>;
  /** Kills what still runs in the namespaces and removes everything created; idempotent. */
  close(): Promise<void>;
}

const HOST_NAME = /^[a-z][a-z0-9]{0,15}$/;

function validate(prefix: string, options: WanOptions): [string, string][] {
  if (!/^[a-z]{1,5}$/.test(prefix)) throw new Error(`WAN prefix must be 1-5 lowercase letters: ${prefix}`);
  const names = new Set(options.hosts);
  if (names.size !== options.hosts.length) throw new Error('WAN host names must be unique');
  if (options.hosts.length === 0 || options.hosts.length > 200) throw new Error('a WAN has 1 to 200 hosts');
  for (const name of options.hosts) if (!HOST_NAME.test(name)) throw new Error(`bad WAN host name: ${name}`);
  const pairs = options.wanPairs ?? [];
  const seen = new Set<string>();
  for (const [a, b] of pairs) {
    if (!names.has(a) || !names.has(b) || a === b) throw new Error(`bad WAN pair ${a}↔${b}`);
    const key = [a, b].sort().join('|');
    if (seen.has(key)) throw new Error(`WAN pair ${a}↔${b} given twice`);
    seen.add(key);
  }
  const { delayMs = 20, lossPercent = 1 } = options;
  if (!(delayMs >= 0) || !(lossPercent >= 0 && lossPercent < 100)) throw new Error('bad WAN delay or loss');
  return pairs;
}

export async function createWan(options: WanOptions): Promise<Wan> {
  const prefix = options.prefix ?? 'mst';
  const pairs = validate(prefix, options);
  const support = await wanSupport(prefix);
  if (!support.ok) throw new Error(`emulated WAN unavailable: ${support.reason}`);
  const shaper = !options.shaper || options.shaper === 'auto' ? support.shaper : options.shaper;

  removeStale(prefix);
  const lease = acquireLease(prefix);
  const { names } = lease;
  const subnet = `${SUBNET_BASE}.${names.index}`;
  const gatewayIp = `${subnet}.1`;
  const hosts: Record<string, WanHost> = Object.fromEntries(
    options.hosts.map((name, i) => [name, { name, ns: names.hostNs(name), ip: `${subnet}.${10 + i}` }]),
  );

  let shaping: Shaping | null = null;
  // Synchronous, so the exit safety net can run it too.
  const teardown = (): void => {
    shaping?.stop();
    for (const host of Object.values(hosts)) killNetnsProcesses(host.ns);
    tryRunSync('ip', ['link', 'del', 'dev', names.rootLink]);
    for (const host of Object.values(hosts)) tryRunSync('ip', ['netns', 'del', host.ns]);
    tryRunSync('ip', ['netns', 'del', names.switchNs]);
    lease.release();
  };
  const unguard = guard(teardown);
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    unguard();
    teardown();
  };

  try {
    await buildTopology(names, gatewayIp, Object.values(hosts));
    shaping = await startShaping(shaper, {
      names,
      hosts,
      pairs,
      delayMs: options.delayMs ?? 20,
      lossPercent: options.lossPercent ?? 1,
    });
  } catch (error) {
    await close();
    throw error;
  }
  const shaped = shaping;

  const host = (name: string): WanHost => {
    const found = hosts[name];
    if (!found) throw new Error(`unknown WAN host ${name}`);
    return found;
  };
  const cuts = new Set<string>();
  const pairKey = (a: string, b: string): string => {
    if (a === b) throw new Error(`can't cut ${a} from itself`);
    host(a);
    host(b);
    return [a, b].sort().join('|');
  };
  const bothWays = (a: string, b: string, route: (self: WanHost, peer: WanHost) => string[]) =>
    Promise.all([
      run('ip', ['-n', host(a).ns, ...route(host(a), host(b))]),
      run('ip', ['-n', host(b).ns, ...route(host(b), host(a))]),
    ]);

  return {
    hosts,
    gatewayIp,
    shaper,
    id: `${prefix}${names.index}`,
    spawn: (name, command, args, spawnOptions = {}) =>
      spawn(tool('ip'), ['netns', 'exec', host(name).ns, command, ...args], {
        env: process.env,
        ...spawnOptions,
      }),
    exec: (name, command, args, execOptions = {}) => {
      const argv = ['netns', 'exec', host(name).ns, command, ...args];
      return new Promise((resolve, reject) => {
        execFile(
          tool('ip'),
          argv,
          { timeout: execOptions.timeoutMs ?? 0, maxBuffer: 16 << 20 },
          (error, stdout, stderr) => {
            if (error) reject(new WanCommandError(['ip', ...argv].join(' '), stderr || error.message));
            else resolve({ stdout, stderr });
          },
        );
      });
    },
    cut: async (a, b) => {
      const key = pairKey(a, b);
      if (cuts.has(key)) return;
      await bothWays(a, b, (_self, peer) => ['route', 'replace', `${peer.ip}/32`, 'dev', 'void']);
      cuts.add(key);
    },
    restore: async (a, b) => {
      const key = pairKey(a, b);
      if (!cuts.has(key)) return;
      await bothWays(a, b, (self, peer) => shaped.restoreRoute(self.name, peer.name));
      cuts.delete(key);
    },
    close,
  };
}
