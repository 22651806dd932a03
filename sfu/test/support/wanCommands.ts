// iproute2 invocations for the emulated WAN (wan.ts). Every failure carries the exact command line
// and the tool's own message, so a broken environment reads as what failed, not as a stack trace.
import { execFile, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export class WanCommandError extends Error {
  constructor(
    readonly command: string,
    readonly stderr: string,
  ) {
    super(`\`${command}\` failed: ${stderr.trim() || 'no message'}`);
  }
}

/** An executable by name: PATH first, then the sbin folders a non-login root shell may lack. */
export function findTool(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  return null;
}

let tools: { ip: string; tc: string } | null = null;

/** Absolute path of `ip` or `tc`; throws when iproute2 is missing. */
export function tool(name: 'ip' | 'tc'): string {
  if (!tools) {
    const ip = findTool('ip');
    const tc = findTool('tc');
    if (!ip || !tc) throw new Error(`iproute2 not found (ip: ${ip ?? 'missing'}, tc: ${tc ?? 'missing'})`);
    tools = { ip, tc };
  }
  return tools[name];
}

const commandLine = (name: string, args: string[]): string => [name, ...args].join(' ');

/** `ip -n ns …` / `tc -n ns …` arguments from one line (names and addresses here have no spaces). */
export const inNs = (ns: string, command: string): string[] => ['-n', ns, ...command.split(' ')];

/** Runs `ip`/`tc` and resolves with stdout; rejects with a WanCommandError. */
export function run(name: 'ip' | 'tc', args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(tool(name), args, { maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new WanCommandError(commandLine(name, args), stderr || error.message));
      else resolve(stdout);
    });
  });
}

/** Synchronous twin of run() for exit handlers, which can't wait for callbacks. */
export function runSync(name: 'ip' | 'tc', args: string[]): string {
  const result = spawnSync(tool(name), args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new WanCommandError(commandLine(name, args), result.stderr || String(result.error ?? ''));
  }
  return result.stdout;
}

/** Best effort: teardown steps whose target may already be gone. */
export function tryRunSync(name: 'ip' | 'tc', args: string[]): boolean {
  try {
    runSync(name, args);
    return true;
  } catch {
    return false;
  }
}

export function listNetns(): string[] {
  // `ip netns list` prints "name (id: 3)" for namespaces that have an id.
  return runSync('ip', ['netns', 'list'])
    .split('\n')
    .map((line) => line.trim().split(' ')[0] ?? '')
    .filter(Boolean);
}

export function listLinks(): string[] {
  return runSync('ip', ['-o', 'link', 'show'])
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? '')
    .filter(Boolean);
}

/** SIGKILLs whatever still runs inside a namespace: `ip netns del` only drops the name, and a
 * process left inside would keep the namespace (and its addresses) alive. */
export function killNetnsProcesses(ns: string): void {
  let pids: number[];
  try {
    pids = runSync('ip', ['netns', 'pids', ns]).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return;
  }
  for (const pid of pids) {
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}
