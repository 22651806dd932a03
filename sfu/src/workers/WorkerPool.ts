import type { types } from 'mediasoup';
import * as mediasoup from 'mediasoup';
import type { Logger } from '../log.ts';
import { SafeEmitter } from '../util/SafeEmitter.ts';
import { mediaCodecs } from './codecs.ts';

export interface WorkerPoolOptions {
  /** Number of workers (slots). */
  size: number;
  /** Interface the WebRtcServers bind. */
  listenIp: string;
  /** Address put in ICE candidates. */
  announcedAddress: string;
  /** Worker i's WebRtcServer listens on rtcPort + i (UDP and TCP). */
  rtcPort: number;
  /** mediasoup-worker binary; default: MEDIASOUP_WORKER_BIN / mediasoup's own. */
  workerBin?: string;
  logger: Logger;
  /** Delay between attempts to re-bind a dead worker's port (ms). */
  respawnDelayMs?: number;
}

/** One live worker with its WebRtcServer. Replaced (a new object) when its process dies. */
export interface PoolWorker {
  readonly slot: number;
  readonly worker: types.Worker;
  readonly webRtcServer: types.WebRtcServer;
  readonly port: number;
  /** Routers (rooms) currently open on this worker. */
  routers: number;
}

export interface WorkerInfo {
  slot: number;
  pid: number | null;
  rooms: number;
  alive: boolean;
}

export type WorkerPoolEvents = {
  /** A worker process died; rooms whose routers lived there must be recovered. */
  died: [slot: number, pid: number, error: Error];
  /** A replacement worker is running in `slot`. */
  replaced: [slot: number, pid: number];
  /** A replacement could not be started (logged; the pool keeps the other workers). */
  respawnfailed: [slot: number, error: Error];
};

export class PoolClosedError extends Error {
  override name = 'PoolClosedError';
}

export class NoLiveWorkerError extends Error {
  override name = 'NoLiveWorkerError';
}

/**
 * One mediasoup worker per slot, each with one WebRtcServer on a fixed port, so the firewall
 * needs only N ports. A worker that dies is replaced in its slot (same port) and `died` is
 * emitted so the room layer moves that worker's rooms elsewhere.
 */
export class WorkerPool extends SafeEmitter<WorkerPoolEvents> {
  readonly #options: WorkerPoolOptions;
  readonly #log: Logger;
  readonly #slots: (PoolWorker | undefined)[];
  /** Resolves when a slot's replacement is running (or failed). */
  readonly #respawning = new Map<number, Promise<void>>();
  #closed = false;

  private constructor(options: WorkerPoolOptions) {
    super((event, error) => options.logger.error('pool listener threw', { event, error: String(error) }));
    this.#options = options;
    this.#log = options.logger;
    this.#slots = new Array<PoolWorker | undefined>(options.size).fill(undefined);
  }

  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new TypeError('size must be a positive integer');
    const pool = new WorkerPool(options);
    try {
      await Promise.all(pool.#slots.map((_, slot) => pool.#spawn(slot)));
    } catch (error) {
      pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.#slots.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The first and last RTC ports this pool uses. */
  get portRange(): [number, number] {
    return [this.#options.rtcPort, this.#options.rtcPort + this.#slots.length - 1];
  }

  get announcedAddress(): string {
    return this.#options.announcedAddress;
  }

  /** The live worker in a slot, if any (a slot is empty while its replacement starts). */
  worker(slot: number): PoolWorker | undefined {
    return this.#slots[slot];
  }

  info(): WorkerInfo[] {
    return this.#slots.map((w, slot) => ({
      slot,
      pid: w?.worker.pid ?? null,
      rooms: w?.routers ?? 0,
      alive: w !== undefined,
    }));
  }

  /**
   * Creates a router on `slot` (when given and alive) or on the least-loaded live worker.
   * When no worker is alive, waits for a replacement.
   */
  async createRouter(slot?: number): Promise<{ router: types.Router; worker: PoolWorker }> {
    if (this.#closed) throw new PoolClosedError('worker pool is closed');
    let target = slot !== undefined ? this.#slots[slot] : this.#leastLoaded();
    if (target === undefined && slot !== undefined) {
      if (slot < 0 || slot >= this.#slots.length) throw new TypeError(`no worker slot ${slot}`);
      await this.#respawning.get(slot);
      target = this.#slots[slot];
    }
    if (target === undefined) {
      await Promise.all(this.#respawning.values());
      target = this.#leastLoaded();
    }
    if (target === undefined) throw new NoLiveWorkerError('no live mediasoup worker');
    const owner = target;
    // Count the router before awaiting it, so concurrent placements spread over the workers.
    owner.routers += 1;
    let router: types.Router;
    try {
      router = await owner.worker.createRouter({ mediaCodecs });
    } catch (error) {
      owner.routers -= 1;
      throw error;
    }
    router.observer.once('close', () => {
      owner.routers -= 1;
    });
    return { router, worker: owner };
  }

  /** Closes every worker. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#slots) w?.worker.close();
    this.#slots.fill(undefined);
    this.removeAllListeners();
  }

  #leastLoaded(): PoolWorker | undefined {
    let best: PoolWorker | undefined;
    for (const w of this.#slots) {
      if (w !== undefined && (best === undefined || w.routers < best.routers)) best = w;
    }
    return best;
  }

  async #spawn(slot: number): Promise<PoolWorker> {
    const port = this.#options.rtcPort + slot;
    const worker = await mediasoup.createWorker({
      logLevel: 'warn',
      ...(this.#options.workerBin ? { workerBin: this.#options.workerBin } : {}),
      appData: { slot },
    });
    if (this.#closed) {
      worker.close();
      throw new PoolClosedError('worker pool closed while starting a worker');
    }
    let webRtcServer: types.WebRtcServer;
    try {
      webRtcServer = await worker.createWebRtcServer({
        listenInfos: [
          {
            protocol: 'udp',
            ip: this.#options.listenIp,
            announcedAddress: this.#options.announcedAddress,
            port,
          },
          {
            protocol: 'tcp',
            ip: this.#options.listenIp,
            announcedAddress: this.#options.announcedAddress,
            port,
          },
        ],
      });
    } catch (error) {
      worker.close();
      throw error;
    }
    const entry: PoolWorker = { slot, worker, webRtcServer, port, routers: 0 };
    this.#slots[slot] = entry;
    worker.on('died', (error) => this.#onDied(entry, error));
    this.#log.info('worker started', { slot, pid: worker.pid, port });
    return entry;
  }

  #onDied(entry: PoolWorker, error: Error): void {
    if (this.#closed || this.#slots[entry.slot] !== entry) return;
    this.#slots[entry.slot] = undefined;
    this.#log.error('worker died', { slot: entry.slot, pid: entry.worker.pid, error: error.message });
    const respawn = this.#respawn(entry.slot).finally(() => this.#respawning.delete(entry.slot));
    this.#respawning.set(entry.slot, respawn);
    this.safeEmit('died', entry.slot, entry.worker.pid, error);
  }

  async #respawn(slot: number): Promise<void> {
    const delay = this.#options.respawnDelayMs ?? 100;
    let lastError: Error = new Error('not attempted');
    // The dead process's sockets are released by the kernel as it exits; retry a few times.
    for (let attempt = 0; attempt < 20 && !this.#closed; attempt++) {
      try {
        const w = await this.#spawn(slot);
        this.safeEmit('replaced', slot, w.worker.pid);
        return;
      } catch (error) {
        lastError = error instanceof Error ? error : new Error(String(error));
        if (error instanceof PoolClosedError) return;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    if (this.#closed) return;
    this.#log.error('worker respawn failed', { slot, error: lastError.message });
    this.safeEmit('respawnfailed', slot, lastError);
  }
}
