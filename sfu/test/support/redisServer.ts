import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REDIS_SERVER = '/usr/bin/redis-server';
const START_TIMEOUT_MS = 10_000;

export interface TestRedis {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops it, then starts a fresh, empty one on the same port (an outage and a recovery). */
  restart(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open but nothing answers (a hung server). */
  pause(): void;
  /** Lets a paused server run again (SIGCONT). */
  resume(): void;
}

export class RedisServerError extends Error {
  override name = 'RedisServerError';
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new RedisServerError('no TCP port');
  return address.port;
}

/** One PING over a raw socket: true when the server answers +PONG. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      reply += data.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** One redis-server process; `ServerHandle` restarts it by making another. */
class RedisProcess {
  output = '';
  readonly exited: Promise<void>;
  readonly #child: ChildProcess;
  readonly #killOnExit = () => this.#child.kill('SIGKILL');

  private constructor(
    readonly port: number,
    readonly dir: string,
    alsoBind: string | undefined,
  ) {
    // Everything on the command line and no config file: nothing from a system redis applies.
    this.#child = spawn(
      REDIS_SERVER,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        ...(alsoBind ? [alsoBind, '--protected-mode', 'no'] : []),
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const collect = (data: Buffer) => {
      this.output = (this.output + data.toString()).slice(-4000);
    };
    this.#child.stdout?.on('data', collect);
    this.#child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', () => resolve());
      this.#child.once('error', (error) => {
        this.output += String(error);
        resolve();
      });
    });
    // A test that crashes must not leave a server behind.
    process.once('exit', this.#killOnExit);
  }

  static async start(port: number, alsoBind?: string): Promise<RedisProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'microstudio-redis-'));
    const server = new RedisProcess(port, dir, alsoBind);
    let exited = false;
    void server.exited.then(() => {
      exited = true;
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!exited && Date.now() < deadline) {
      if (await pings(port)) return server;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await server.stop();
    throw new RedisServerError(
      `redis-server on port ${port} did not answer PING${exited ? ' (it exited)' : ''}: ${server.output.trim()}`,
    );
  }

  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  async stop(): Promise<void> {
    process.off('exit', this.#killOnExit);
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      // A paused server would keep the SIGTERM pending forever.
      this.#child.kill('SIGCONT');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(timer);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts a private redis-server on a free loopback port; resolves once it answers PING.
 * `alsoBind` adds an address (a WAN gateway, so nodes in network namespaces reach it).
 */
export async function startRedisServer(options: { alsoBind?: string } = {}): Promise<TestRedis> {
  let lastError: unknown;
  // The free port can be taken by someone else before redis binds it: try another.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      return handle(await RedisProcess.start(port, options.alsoBind), options.alsoBind);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function handle(first: RedisProcess, alsoBind: string | undefined): TestRedis {
  let current: RedisProcess | undefined = first;
  const port = first.port;
  const stop = async (): Promise<void> => {
    const server = current;
    current = undefined;
    await server?.stop();
  };
  const restart = async (): Promise<void> => {
    await stop();
    current = await RedisProcess.start(port, alsoBind);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    restart,
    pause: () => current?.signal('SIGSTOP'),
    resume: () => current?.signal('SIGCONT'),
  };
}
