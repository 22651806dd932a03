import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { WorkerPool } from '../workers/WorkerPool.ts';

/** This node as the fabric sees it. */
export interface NodeHealth {
  nodeId: string;
  role: 'site' | 'edge';
  region: string;
  /** An edge's link to its site; `none` on a site. */
  uplink: 'up' | 'down' | 'none';
  /** An edge's smoothed round-trip time to its site, ms (and its recent p95); absent while down. */
  uplinkRttMs?: number;
  uplinkRttP95Ms?: number;
  /** Open site↔edge pipes. */
  pipes: number;
  viewers: number;
}

export interface Health {
  status: 'ok' | 'degraded';
  role: 'site' | 'edge';
  node?: NodeHealth;
  workers: { pid: number | null; rooms: number }[];
  rooms: number;
  peers: number;
  /** Where each room runs: ops need it to see a worker's blast radius (and tests to aim a kill). */
  placement: { roomId: string; workerPid: number | null; peers: number; recovering: boolean }[];
  /** Seconds since the node started. */
  uptime: number;
}

/** `degraded` while a worker slot is waiting for its replacement. */
export function health(
  pool: WorkerPool,
  registry: RoomRegistry,
  startedAt: number,
  node?: NodeHealth,
): Health {
  const workers = pool.info();
  const uplinkDown = node?.uplink === 'down';
  return {
    status: workers.every((w) => w.alive) && !uplinkDown ? 'ok' : 'degraded',
    role: node?.role ?? 'site',
    ...(node ? { node } : {}),
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
