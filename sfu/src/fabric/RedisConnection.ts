import { createClient } from 'redis';
import type { Logger } from '../log.ts';
import { FabricError } from './Fabric.ts';

export type RedisClient = ReturnType<typeof createClient>;

export interface RedisConnectionOptions {
  /** redis:// or rediss:// (credentials and database number as in the URL scheme). */
  url: string;
  logger: Logger;
  /** An operation not answered within this rejects (a hung or black-holed server). */
  operationTimeoutMs?: number;
  /** First reconnect delay; doubles per failed attempt up to reconnectMaxMs. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

type State = 'connecting' | 'ready' | 'down' | 'closed';

/** The URL without credentials, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    // net.connect to "localhost" tries ::1 and 127.0.0.1 and reports both in an AggregateError.
    return error.errors.map(messageOf).join(', ');
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/**
 * One Redis connection that survives the server going away: the client's 'error' events are
 * handled (an unhandled one would crash the process), it reconnects by itself with capped
 * exponential backoff, and `run` fails fast with a FabricError while the server is down instead
 * of queueing commands that would all fire, stale, on reconnect.
 */
export class RedisConnection {
  readonly #client: RedisClient;
  readonly #logger: Logger;
  readonly #where: string;
  readonly #timeoutMs: number;
  #state: State = 'connecting';
  #lastError = '';
  /** Settles when the first connection attempt succeeds or fails (only 'connecting' waits on it). */
  readonly #firstOutcome: Promise<void>;
  #settleFirst: () => void = () => {};

  constructor(options: RedisConnectionOptions) {
    this.#logger = options.logger;
    this.#where = redactUrl(options.url);
    this.#timeoutMs = options.operationTimeoutMs ?? 2000;
    const minMs = options.reconnectMinMs ?? 100;
    const maxMs = options.reconnectMaxMs ?? 5000;
    this.#firstOutcome = new Promise((resolve) => {
      this.#settleFirst = resolve;
    });
    this.#client = createClient({
      url: options.url,
      // Commands issued while disconnected reject at once (and we answer FabricError) rather
      // than waiting in an offline queue: a heartbeat must not replay old announcements.
      disableOfflineQueue: true,
      // Redis Enterprise maintenance notifications: nothing to negotiate with a plain server.
      maintNotifications: 'disabled',
      socket: {
        connectTimeout: Math.max(this.#timeoutMs, 1000),
        // Never gives up: the store coming back must be enough to heal the fabric. The jitter
        // keeps many nodes from reconnecting in lockstep after the store restarts.
        reconnectStrategy: (retries) =>
          Math.min(minMs * 2 ** Math.min(retries, 20), maxMs) + Math.floor(Math.random() * minMs),
      },
    });
    this.#client.on('error', (error: unknown) => this.#onError(error));
    this.#client.on('ready', () => this.#onReady());
    // connect() resolves on the first success and rejects only when close() interrupts it; the
    // failures in between arrive as 'error' events.
    this.#client.connect().catch((error: unknown) => {
      if (this.#state !== 'closed') this.#onError(error);
    });
  }

  /** Whether the last thing known about the server is that it answers. */
  get ready(): boolean {
    return this.#state === 'ready';
  }

  /**
   * Runs `op` against the server. Rejects with a FabricError when the fabric is closed, the
   * server is unreachable, the operation fails, or it takes longer than the operation timeout.
   */
  async run<T>(what: string, op: (client: RedisClient) => Promise<T>): Promise<T> {
    if (this.#state === 'connecting') {
      // Only the very first connection is waited for, so a node's first announce at start-up
      // does not fail just because it raced the TCP handshake.
      await this.#withDeadline(this.#firstOutcome, what);
    }
    if (this.#state === 'closed') throw new FabricError(`cannot ${what}: the fabric is closed`);
    if (this.#state !== 'ready') {
      throw new FabricError(
        `cannot ${what}: fabric store ${this.#where} is unreachable (${this.#lastError})`,
      );
    }
    try {
      return await this.#withDeadline(op(this.#client), what);
    } catch (error) {
      if (error instanceof FabricError) throw error;
      throw new FabricError(`cannot ${what} on fabric store ${this.#where}: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  /** Closes the connection; pending operations reject. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#settleFirst();
    // destroy(), not close(): close() waits for replies a hung server may never send.
    this.#client.destroy();
  }

  #withDeadline<T>(promise: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new FabricError(
            `cannot ${what}: fabric store ${this.#where} did not answer within ${this.#timeoutMs} ms`,
          ),
        );
      }, this.#timeoutMs);
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  #onError(error: unknown): void {
    if (this.#state === 'closed') return;
    this.#lastError = messageOf(error);
    if (this.#state === 'ready' || this.#state === 'connecting') {
      // Once per outage: the client reports every failed reconnect attempt as well.
      this.#logger.warn('fabric store unreachable; reconnecting in the background', {
        store: this.#where,
        error: this.#lastError,
      });
      this.#state = 'down';
      this.#settleFirst();
    } else {
      this.#logger.debug('fabric store still unreachable', { store: this.#where, error: this.#lastError });
    }
  }

  #onReady(): void {
    if (this.#state === 'closed') return;
    const recovered = this.#state === 'down';
    this.#state = 'ready';
    this.#settleFirst();
    if (recovered) this.#logger.info('fabric store reachable again', { store: this.#where });
    else this.#logger.info('connected to fabric store', { store: this.#where });
  }
}
