// Names, subnet leases and crash leftovers of emulated WANs (wan.ts).
//
// A WAN of prefix p holds index n: subnet 10.77.n.0/24 and every name "p<n>…". The index is leased
// with a lock file holding the owner's pid, taken before anything is created and dropped after
// everything is removed; so anything named p<n>… with no live owner is a crashed run's leftover,
// and concurrent test files (node --test runs them in parallel) never tear down each other's WAN.
import { accessSync, constants, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killNetnsProcesses, listLinks, listNetns, runSync, tryRunSync } from './wanCommands.ts';

export const SUBNET_BASE = '10.77';

export interface WanNames {
  prefix: string;
  index: number;
  /** Namespace holding the bridge; its own namespace so that br_netfilter sees only its own, empty
   * firewall, and the root namespace gets a single link of ours. */
  switchNs: string;
  /** The root namespace's veth into the bridge, carrying the gateway address. */
  rootLink: string;
  hostNs(host: string): string;
  /** TUN device of user-space link k (side a or b), created in the root namespace by the relay. */
  relayLink(k: number, side: 'a' | 'b'): string;
}

export function wanNames(prefix: string, index: number): WanNames {
  const base = `${prefix}${index}`;
  return {
    prefix,
    index,
    switchNs: `${base}_sw`,
    rootLink: `${base}gw`,
    hostNs: (host) => `${base}-${host}`,
    relayLink: (k, side) => `${base}r${k}${side}`,
  };
}

function lockDir(): string {
  try {
    accessSync('/run', constants.W_OK);
    return '/run';
  } catch {
    return tmpdir();
  }
}

const lockPath = (prefix: string, index: number): string => join(lockDir(), `${prefix}-wan-${index}.lock`);

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether index n of `prefix` has no live owner. An empty lock file is one being written (the
 * owner creates it exclusively, then writes its pid), so it counts as owned. */
function ownerless(prefix: string, index: number): boolean {
  let text: string;
  try {
    text = readFileSync(lockPath(prefix, index), 'utf8').trim();
  } catch {
    return true;
  }
  return text !== '' && !alive(Number(text));
}

function subnetInUse(index: number): boolean {
  const text =
    runSync('ip', ['-4', '-o', 'addr', 'show']) + runSync('ip', ['-4', 'route', 'show', 'table', 'all']);
  return new RegExp(`(^|[^\\d.])${SUBNET_BASE.replace('.', '\\.')}\\.${index}\\.`, 'm').test(text);
}

export interface Lease {
  names: WanNames;
  release(): void;
}

/** Leases the first index whose subnet no route or address in the root namespace uses. */
export function acquireLease(prefix: string): Lease {
  const netns = new Set(listNetns());
  const links = new Set(listLinks());
  for (let index = 0; index < 256; index++) {
    const names = wanNames(prefix, index);
    if (netns.has(names.switchNs) || links.has(names.rootLink) || subnetInUse(index)) continue;
    const path = lockPath(prefix, index);
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
    } catch {
      continue; // another process holds it (or a dead one that removeStale left to its owner check)
    }
    return {
      names,
      release: () => {
        try {
          unlinkSync(path);
        } catch {}
      },
    };
  }
  throw new Error(`no free ${SUBNET_BASE}.<n>.0/24 subnet for prefix ${prefix}`);
}

/** Removes what dead owners of `prefix` left behind (namespaces, root links, lock files), and any
 * support-probe namespace of a dead process. Returns the names it removed. */
export function removeStale(prefix: string): string[] {
  const removed: string[] = [];
  const ownNs = new RegExp(`^${prefix}(\\d+)[-_]`);
  const ownLink = new RegExp(`^${prefix}(\\d+)(gw|r\\d+[ab])$`);
  const probeNs = new RegExp(`^${prefix}probe(\\d+)$`);
  const ownLock = new RegExp(`^${prefix}-wan-(\\d+)\\.lock$`);
  const stale = (index: number): boolean => ownerless(prefix, index);

  for (const ns of listNetns()) {
    const probe = probeNs.exec(ns);
    const own = ownNs.exec(ns);
    if ((probe && !alive(Number(probe[1]))) || (own && stale(Number(own[1])))) {
      killNetnsProcesses(ns);
      if (tryRunSync('ip', ['netns', 'del', ns])) removed.push(ns);
    }
  }
  for (const link of listLinks()) {
    const own = ownLink.exec(link);
    if (own && stale(Number(own[1])) && tryRunSync('ip', ['link', 'del', link])) removed.push(link);
  }
  for (const file of readdirSync(lockDir())) {
    const own = ownLock.exec(file);
    if (own && stale(Number(own[1]))) {
      try {
        unlinkSync(join(lockDir(), file));
        removed.push(file);
      } catch {}
    }
  }
  return removed;
}
