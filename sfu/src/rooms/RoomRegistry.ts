import { clientTelemetry } from '../http/metrics.ts';
import type { Logger } from '../log.ts';
import type { BusClock } from '../program/ProgramBus.ts';
import { SafeEmitter } from '../util/SafeEmitter.ts';
import type { WorkerPool } from '../workers/WorkerPool.ts';
import { HealthReporter } from './HealthReporter.ts';
import { Room } from './Room.ts';
import type { RoomLimits } from './types.ts';

export interface RoomRegistryOptions {
  pool: WorkerPool;
  limits: RoomLimits;
  defaultTransitionMs: number;
  /** Bandwidth estimate a new WebRTC transport starts from (bits/s). */
  initialOutgoingBitrate?: number;
  logger: Logger;
  /** How long an empty room (and its program bus) is kept for peers coming back. */
  idleCloseMs?: number;
  clock?: BusClock;
  /** How often directors get `health:sources` (default 2000 ms; see HealthReporter). */
  healthIntervalMs?: number;
}

export class RegistryClosedError extends Error {
  override name = 'RegistryClosedError';
}

/**
 * Rooms by id. Places a new room on the least-loaded worker (or a given slot), closes rooms that
 * stayed empty for `idleCloseMs`, and recovers the rooms of a worker that died.
 */
export type RoomRegistryObserverEvents = {
  /** A room was created; emitted before anyone can join it (an edge attaches its upstream here). */
  newroom: [Room];
};

export class RoomRegistry {
  readonly observer: SafeEmitter<RoomRegistryObserverEvents>;
  readonly #options: RoomRegistryOptions;
  readonly #log: Logger;
  readonly #rooms = new Map<string, Room>();
  readonly #opening = new Map<string, Promise<Room>>();
  readonly #idleTimers = new Map<string, NodeJS.Timeout>();
  readonly #onWorkerDied: (slot: number) => void;
  #closed = false;

  constructor(options: RoomRegistryOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.observer = new SafeEmitter((event, error) =>
      options.logger.error('registry observer threw', { event, error: String(error) }),
    );
    this.#onWorkerDied = (slot) => this.#recoverSlot(slot);
    options.pool.on('died', this.#onWorkerDied);
  }

  get(roomId: string): Room | undefined {
    return this.#rooms.get(roomId);
  }

  rooms(): Room[] {
    return [...this.#rooms.values()];
  }

  get peerCount(): number {
    let n = 0;
    for (const room of this.#rooms.values()) n += room.peerCount;
    return n;
  }

  /**
   * The room with this id, created when missing. `slot` forces placement of a NEW room on one
   * worker (tests, operators); an existing room stays where it is.
   */
  open(roomId: string, placement: { slot?: number } = {}): Promise<Room> {
    if (this.#closed) return Promise.reject(new RegistryClosedError('room registry is closed'));
    const existing = this.#rooms.get(roomId);
    if (existing) return Promise.resolve(existing);
    const pending = this.#opening.get(roomId);
    if (pending) return pending;
    const opening = this.#create(roomId, placement.slot).finally(() => this.#opening.delete(roomId));
    this.#opening.set(roomId, opening);
    return opening;
  }

  async #create(roomId: string, slot: number | undefined): Promise<Room> {
    const { pool } = this.#options;
    const { router, worker } = await pool.createRouter(slot);
    if (this.#closed) {
      router.close();
      throw new RegistryClosedError('room registry is closed');
    }
    const room = new Room({
      roomId,
      router,
      worker,
      limits: this.#options.limits,
      defaultTransitionMs: this.#options.defaultTransitionMs,
      ...(this.#options.initialOutgoingBitrate
        ? { initialOutgoingBitrate: this.#options.initialOutgoingBitrate }
        : {}),
      createRouter: () => pool.createRouter(),
      logger: this.#log,
      ...(this.#options.clock ? { clock: this.#options.clock } : {}),
    });
    this.#rooms.set(roomId, room);
    // Directors' health feed; device figures come from the node's client telemetry (same
    // instance signaling records into: clientTelemetry is keyed by this registry).
    const telemetry = clientTelemetry(this);
    const health = new HealthReporter(room, {
      devices: (sourceId) => telemetry.deviceFigures(roomId, sourceId),
      ...(this.#options.healthIntervalMs ? { intervalMs: this.#options.healthIntervalMs } : {}),
      logger: this.#log,
    });
    room.observer.on('peerleft', (peer) => telemetry.forgetSource(roomId, peer.clientId));
    this.observer.safeEmit('newroom', room);
    room.on('empty', () => this.#scheduleIdleClose(room));
    room.observer.on('newpeer', () => this.#cancelIdleClose(roomId));
    room.on('@close', () => {
      health.close();
      telemetry.forgetRoom(roomId);
      this.#cancelIdleClose(roomId);
      if (this.#rooms.get(roomId) === room) this.#rooms.delete(roomId);
    });
    this.#log.info('room opened', { room: roomId, slot: worker.slot });
    return room;
  }

  #scheduleIdleClose(room: Room): void {
    this.#cancelIdleClose(room.id);
    const timer = setTimeout(() => {
      this.#idleTimers.delete(room.id);
      if (room.peerCount === 0 && !room.recovering) {
        this.#log.info('closing idle room', { room: room.id });
        room.close();
      }
    }, this.#options.idleCloseMs ?? 60_000);
    timer.unref();
    this.#idleTimers.set(room.id, timer);
  }

  #cancelIdleClose(roomId: string): void {
    const timer = this.#idleTimers.get(roomId);
    if (timer) clearTimeout(timer);
    this.#idleTimers.delete(roomId);
  }

  #recoverSlot(slot: number): void {
    for (const room of this.#rooms.values()) {
      if (room.workerSlot === slot && room.router.closed) {
        room.recover().catch((error: unknown) => {
          this.#log.error('room recovery failed', { room: room.id, error: String(error) });
        });
      }
    }
  }

  /** Closes every room. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.pool.off('died', this.#onWorkerDied);
    for (const timer of this.#idleTimers.values()) clearTimeout(timer);
    this.#idleTimers.clear();
    for (const room of this.rooms()) room.close();
    this.#rooms.clear();
    this.observer.removeAllListeners();
  }
}
