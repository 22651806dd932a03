// Starts a netAgent inside a WAN host's namespace and calls it with typed requests.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AGENT_READY, type AgentOp, type AgentOps, type AgentReply } from './netAgentProtocol.ts';
import type { Wan } from './wan.ts';

export interface NetAgent {
  host: string;
  /** Port of its TCP and UDP echo servers. */
  port: number;
  call<K extends AgentOp>(op: K, args: AgentOps[K]['args']): Promise<AgentOps[K]['result']>;
  close(): Promise<void>;
}

const AGENT = fileURLToPath(new URL('./netAgent.ts', import.meta.url));

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startNetAgent(
  wan: Wan,
  host: string,
  port: number,
  readyMs = 10_000,
): Promise<NetAgent> {
  // The same Node and TypeScript loader as this test process, resolved here so the agent's cwd
  // doesn't matter.
  const child = wan.spawn(
    host,
    process.execPath,
    ['--import', import.meta.resolve('tsx'), AGENT, String(port)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 1;
  let ready: () => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve;
    timer = setTimeout(() => reject(new Error(`net agent in ${host} not ready in ${readyMs} ms`)), readyMs);
    child.once('exit', (code, signal) =>
      reject(new Error(`net agent in ${host} exited (${signal ?? code})`)),
    );
  });
  child.once('exit', () => {
    for (const call of pending.values()) call.reject(new Error(`net agent in ${host} exited`));
    pending.clear();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line === AGENT_READY) return ready();
    const reply = JSON.parse(line) as AgentReply;
    const call = pending.get(reply.id);
    pending.delete(reply.id);
    if ('error' in reply) call?.reject(new Error(`${host}: ${reply.error}`));
    else call?.resolve(reply.result);
  });
  try {
    await started;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    host,
    port,
    call: <K extends AgentOp>(op: K, args: AgentOps[K]['args']) =>
      new Promise<AgentOps[K]['result']>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.stdin!.write(`${JSON.stringify({ id, op, args })}\n`);
      }),
    close: async () => {
      child.stdin!.end();
      const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited(child);
      clearTimeout(kill);
    },
  };
}
