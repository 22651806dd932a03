import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ). */
export const CLK_TCK = ((): number => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

/** Fields of /proc/<pid>/stat after the command name ("state" is index 0, utime index 11). */
function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime + stime of a process (all its threads, living and exited), in CPU seconds. */
export function cpuSeconds(pid: number): number | undefined {
  const f = statFields(pid);
  if (!f) return undefined;
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** cutime + cstime of this process: CPU of the children it has reaped (ffprobe runs), in seconds. */
export function reapedChildrenSeconds(): number {
  const f = statFields('self');
  return f ? (Number(f[13]) + Number(f[14])) / CLK_TCK : 0;
}

/**
 * On-CPU time of a process's live threads in nanoseconds (/proc/<pid>/task/<tid>/schedstat):
 * the fine-grained clock for per-second samples (utime/stime move in 10 ms ticks).
 */
export function threadsNs(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended between the listing and the read
      }
    }
    return ns;
  } catch {
    return undefined;
  }
}

/** Bytes a process passed to write calls, and how many write calls (/proc/<pid>/io). */
export function writes(pid: number): { bytes: number; calls: number } | undefined {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? 0);
    return { bytes: field('wchar'), calls: field('syscw') };
  } catch {
    return undefined;
  }
}

/**
 * The whole machine's busy time (every core, every process, the kernel's softirq work such as
 * loopback UDP delivery) and its softirq part alone, in CPU seconds since boot (/proc/stat).
 */
export function machineSeconds(): { busy: number; softirq: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = [user, nice, system, irq, softirq, steal].reduce<number>((a, b) => a + (b ?? 0), 0);
    return { busy: busy / CLK_TCK, softirq: (softirq ?? 0) / CLK_TCK };
  } catch {
    return { busy: Number.NaN, softirq: Number.NaN };
  }
}

/**
 * The kernel's UDP counters for the whole machine (/proc/net/snmp): datagrams dropped because a
 * socket's receive buffer was full, and all receive errors.
 */
export function udpDrops(): { rcvbuf: number; inErrors: number } {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const field = (name: string): number => Number(values[names.indexOf(name)] ?? Number.NaN);
    return { rcvbuf: field('RcvbufErrors'), inErrors: field('InErrors') };
  } catch {
    return { rcvbuf: Number.NaN, inErrors: Number.NaN };
  }
}

/** Inodes of the sockets a process holds open (/proc/<pid>/fd). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match?.[1]) inodes.add(match[1]);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // the process is gone
  }
  return inodes;
}

/**
 * Datagrams the kernel dropped (full receive buffer) at each process's UDP sockets, counted
 * since each socket was opened (/proc/net/udp and udp6, "drops" column): tells which hop lost.
 */
export function udpDropsByProcess(pids: readonly number[]): number[] {
  const drops = new Map<string, number>();
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    try {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length >= 13 && f[9]) drops.set(f[9], Number(f.at(-1)));
      }
    } catch {
      // no such table
    }
  }
  return pids.map((pid) => {
    let n = 0;
    for (const inode of socketInodes(pid)) n += drops.get(inode) ?? 0;
    return n;
  });
}

/** Nearest-rank percentile (p in 0..100) of the samples; NaN for none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

export const mean = (samples: readonly number[]): number =>
  samples.length === 0 ? Number.NaN : samples.reduce((a, b) => a + b, 0) / samples.length;

export interface PidTrace {
  pid: number;
  /** utime + stime over the window / wall time: share of one core (1 = a whole core). */
  share: number;
  /** The same per second (from schedstat), one sample per second of the window. */
  perSecond: number[];
}

export interface Trace {
  wallSeconds: number;
  pids: PidTrace[];
  /** This process (process.cpuUsage: all its threads). */
  self: { share: number; perSecond: number[] };
  /** CPU seconds of children this process reaped during the window (ffprobe). */
  reapedSeconds: number;
  /** The whole machine, in cores busy (2 = both of two cores), and its softirq part. */
  machine: { busy: number; softirq: number };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Watches the CPU of `pids` and of this process for `seconds`, sampling once a second. Window
 * shares come from utime + stime (and process.cpuUsage for this process); per-second samples
 * from the threads' schedstat clocks.
 */
export async function traceCpu(pids: readonly number[], seconds: number): Promise<Trace> {
  const start = performance.now();
  const ticks0 = pids.map((pid) => cpuSeconds(pid) ?? Number.NaN);
  const self0 = process.cpuUsage();
  const reaped0 = reapedChildrenSeconds();
  const machine0 = machineSeconds();
  const perSecond = pids.map((): number[] => []);
  const selfPerSecond: number[] = [];
  let previousNs = pids.map((pid) => threadsNs(pid) ?? Number.NaN);
  let previousSelf = self0;
  let previousAt = start;
  for (let i = 1; i <= seconds; i++) {
    await sleep(Math.max(0, start + i * 1000 - performance.now()));
    const now = performance.now();
    const dt = (now - previousAt) / 1000;
    const ns = pids.map((pid) => threadsNs(pid) ?? Number.NaN);
    const self = process.cpuUsage();
    for (const [j, value] of ns.entries()) {
      const delta = value - (previousNs[j] ?? Number.NaN);
      // A thread that ended takes its time with it: such a second is not sampled.
      if (Number.isFinite(delta) && delta >= 0) perSecond[j]?.push(delta / 1e9 / dt);
    }
    selfPerSecond.push((self.user - previousSelf.user + self.system - previousSelf.system) / 1e6 / dt);
    previousNs = ns;
    previousSelf = self;
    previousAt = now;
  }
  const wallSeconds = (performance.now() - start) / 1000;
  const self1 = process.cpuUsage(self0);
  const machine1 = machineSeconds();
  return {
    wallSeconds,
    pids: pids.map((pid, j) => ({
      pid,
      share: ((cpuSeconds(pid) ?? Number.NaN) - (ticks0[j] ?? Number.NaN)) / wallSeconds,
      perSecond: perSecond[j] ?? [],
    })),
    self: { share: (self1.user + self1.system) / 1e6 / wallSeconds, perSecond: selfPerSecond },
    reapedSeconds: reapedChildrenSeconds() - reaped0,
    machine: {
      busy: (machine1.busy - machine0.busy) / wallSeconds,
      softirq: (machine1.softirq - machine0.softirq) / wallSeconds,
    },
  };
}
