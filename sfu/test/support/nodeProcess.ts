import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Wan } from './wan.ts';

const SFU_DIR = fileURLToPath(new URL('../..', import.meta.url));

/** A media node running as its own process (the production entry point, src/main.ts). */
export interface NodeProcess {
  readonly child: ChildProcess;
  /** Resolves once the node printed its "sfu listening" line; rejects if it exits first. */
  readonly ready: Promise<void>;
  /** The last 8 KB of its stdout and stderr, for failure messages. */
  output(): string;
  /** Sends a signal and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `node --import tsx src/main.ts` (this very Node 24 and worker binary) with `env`, in a
 * WAN host's network namespace when one is given. Nothing of the parent's MICROSTUDIO_* leaks in.
 */
export function spawnNode(
  env: Record<string, string>,
  where?: { wan: Wan; host: string },
  /** The Node.js that runs it (mediasoup needs ≥ 22: the provisioned one outside sfu's tests). */
  execPath: string = process.execPath,
): NodeProcess {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('MICROSTUDIO_')),
  ) as Record<string, string>;
  const options = { cwd: SFU_DIR, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] as const };
  const args = ['--import', 'tsx', 'src/main.ts'];
  const child = where
    ? where.wan.spawn(where.host, execPath, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(execPath, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (data: Buffer) => {
    output = (output + data.toString()).slice(-8192);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (output.includes('sfu listening on')) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`node exited (${signal ?? code}) before listening:\n${output}`)),
    );
  });
  ready.catch(() => {});
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    child,
    ready,
    output: () => output,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
