import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { WorkerPool } from '../workers/WorkerPool.ts';

export interface Health {
  status: 'ok' | 'degraded';
  role: 'site';
  workers: { pid: number | null; rooms: number }[];
  rooms: number;
  peers: number;
  /** Where each room runs: ops need it to see a worker's blast radius (and tests to aim a kill). */
  placement: { roomId: string; workerPid: number | null; peers: number; recovering: boolean }[];
  /** Seconds since the node started. */
  uptime: number;
}

/** `degraded` while a worker slot is waiting for its replacement. */
export function health(pool: WorkerPool, registry: RoomRegistry, startedAt: number): Health {
  const workers = pool.info();
  return {
    status: workers.every((w) => w.alive) ? 'ok' : 'degraded',
    role: 'site',
    workers: workers.map((w) => ({ pid: w.pid, rooms: w.rooms })),
    rooms: registry.rooms().length,
    peers: registry.peerCount,
    placement: registry.rooms().map((room) => ({
      roomId: room.id,
      workerPid: room.recovering ? null : room.workerPid,
      peers: room.peerCount,
      recovering: room.recovering,
    })),
    uptime: Math.round((Date.now() - startedAt) / 1000),
  };
}
