// The emulated WAN's layer 2 (wan.ts): one bridge, in its own namespace, with a port per host
// namespace and one for the root namespace, which so reaches every host directly (no routing).
import { inNs, run } from './wanCommands.ts';
import type { WanNames } from './wanLease.ts';

export interface TopologyHost {
  ns: string;
  ip: string;
}

// br_netfilter (if built in or loaded) would pass bridged frames through iptables: the switch's
// namespace has an empty firewall anyway, and turning the hooks off there makes that certain
// without touching the root namespace's setting (Docker's bridges rely on it).
const BRIDGE_NF_OFF =
  'for f in /proc/sys/net/bridge/bridge-nf-call-*; do if [ -e "$f" ]; then echo 0 > "$f"; fi; done';

async function addSwitch(names: WanNames, gatewayIp: string): Promise<void> {
  const sw = names.switchNs;
  await run('ip', ['netns', 'add', sw]);
  await run('ip', inNs(sw, 'link add name br type bridge'));
  await run('ip', inNs(sw, 'link set dev br up'));
  await run('ip', ['netns', 'exec', sw, 'sh', '-c', BRIDGE_NF_OFF]);
  await run('ip', `link add name ${names.rootLink} type veth peer name gw netns ${sw}`.split(' '));
  await run('ip', inNs(sw, 'link set dev gw master br up'));
  await run('ip', ['addr', 'add', `${gatewayIp}/24`, 'dev', names.rootLink]);
  await run('ip', ['link', 'set', 'dev', names.rootLink, 'up']);
}

async function addHost(names: WanNames, host: TopologyHost, port: string, gatewayIp: string): Promise<void> {
  const { ns, ip } = host;
  await run('ip', ['netns', 'add', ns]);
  await run('ip', inNs(ns, 'link set dev lo up'));
  await run('ip', inNs(names.switchNs, `link add name ${port} type veth peer name eth0 netns ${ns}`));
  await run('ip', inNs(names.switchNs, `link set dev ${port} master br up`));
  await run('ip', inNs(ns, `addr add ${ip}/24 dev eth0`));
  await run('ip', inNs(ns, 'link set dev eth0 up'));
  await run('ip', inNs(ns, `route add default via ${gatewayIp}`));
  // Where cut() routes a peer: a TUN device no process reads drops what it is sent, silently, the
  // way a partition does (a blackhole route would fail connect() at once instead).
  await run('ip', inNs(ns, 'tuntap add dev void mode tun'));
  await run('ip', inNs(ns, 'link set dev void up'));
}

export async function buildTopology(
  names: WanNames,
  gatewayIp: string,
  hosts: TopologyHost[],
): Promise<void> {
  await addSwitch(names, gatewayIp);
  await Promise.all(hosts.map((host, i) => addHost(names, host, `h${i}`, gatewayIp)));
}
