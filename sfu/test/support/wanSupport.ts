// Can this machine host an emulated WAN (wan.ts), and with which shaper? Probes the real thing in a
// throwaway namespace, so a skip message names the exact command that failed and why.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { findTool, inNs, run, tryRunSync } from './wanCommands.ts';

/** netem: kernel qdiscs (prio + netem + u32) on each host's egress. relay: a user-space TUN relay
 * (wanRelay.py), for kernels built without sch_netem. */
export type WanShaper = 'netem' | 'relay';

export type WanSupport =
  | {
      ok: true;
      shaper: WanShaper /** why the kernel shaper can't be used, when it can't */;
      netemUnavailable?: string;
    }
  | { ok: false; reason: string };

/** The kernel config lines for `keys` (from /proc/config.gz), e.g. "CONFIG_NET_SCH_NETEM is not set". */
function kernelConfig(keys: string[]): string {
  let config: string;
  try {
    config = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  } catch {
    return `kernel ${release()} (no /proc/config.gz to say why)`;
  }
  const states = keys.map((key) => {
    const value = new RegExp(`^${key}=(.*)$`, 'm').exec(config)?.[1];
    return value ? `${key}=${value}` : `${key} is not set`;
  });
  return `kernel ${release()}: ${states.join(', ')}`;
}

async function failure(tool: 'ip' | 'tc', args: string[]): Promise<string | null> {
  try {
    await run(tool, args);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Errors of the kernel shaper's three parts, tried on their own so each reports its own cause. */
async function netemFailures(ns: string): Promise<string[]> {
  const prio = await failure('tc', inNs(ns, 'qdisc add dev v0 root handle 1: prio bands 4'));
  const failures = [
    prio,
    await failure('tc', inNs(ns, 'qdisc add dev v1 root netem delay 1ms loss random 1%')),
  ];
  if (!prio) {
    const match = 'u32 match ip dst 10.77.0.1/32 flowid 1:3';
    failures.push(await failure('tc', inNs(ns, `filter add dev v0 parent 1: protocol ip prio 1 ${match}`)));
  }
  return failures.filter((f): f is string => f !== null);
}

function relayFailure(): string | null {
  const python = spawnSync('python3', ['-c', 'import fcntl, select'], { encoding: 'utf8' });
  if (python.status !== 0) return `python3 is not usable: ${python.stderr || python.error?.message}`;
  try {
    accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/net/tun is not accessible';
  }
  return null;
}

async function probe(prefix: string): Promise<WanSupport> {
  if (process.platform !== 'linux') return { ok: false, reason: `needs Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0)
    return { ok: false, reason: `needs root for network namespaces (uid ${process.getuid?.()})` };
  if (!findTool('ip') || !findTool('tc'))
    return { ok: false, reason: 'needs iproute2 (ip and tc not found)' };

  const ns = `${prefix}probe${process.pid}`;
  try {
    // What every WAN needs: namespaces, a bridge, veth pairs, and a TUN device to cut pairs with.
    const basics = [
      'link add name b type bridge',
      'link add name v0 type veth peer name v1',
      'tuntap add dev void mode tun',
    ];
    for (const args of [['netns', 'add', ns], ...basics.map((command) => inNs(ns, command))]) {
      const failed = await failure('ip', args);
      const needs = ['CONFIG_NET_NS', 'CONFIG_BRIDGE', 'CONFIG_VETH', 'CONFIG_TUN'];
      if (failed) return { ok: false, reason: `${failed} (${kernelConfig(needs)})` };
    }
    const netem = await netemFailures(ns);
    if (netem.length === 0) return { ok: true, shaper: 'netem' };
    const why = `${netem.join('; ')} (${kernelConfig(['CONFIG_NET_SCH_NETEM', 'CONFIG_NET_SCH_PRIO', 'CONFIG_NET_CLS_U32', 'CONFIG_MODULES'])})`;
    const relay = relayFailure();
    if (relay)
      return {
        ok: false,
        reason: `no shaper: netem unavailable: ${why}; user-space relay unavailable: ${relay}`,
      };
    return { ok: true, shaper: 'relay', netemUnavailable: why };
  } finally {
    tryRunSync('ip', ['netns', 'del', ns]);
  }
}

let cached: Promise<WanSupport> | null = null;

/** Whether createWan() can work here (root, iproute2, namespaces, bridge, veth, TUN) and which
 * shaper it would use; probed once per process. */
export function wanSupport(prefix = 'mst'): Promise<WanSupport> {
  cached ??= probe(prefix);
  return cached;
}
