import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { WorkerPool } from '../workers/WorkerPool.ts';
import { health } from './health.ts';

export interface HttpAppDeps {
  pool: WorkerPool;
  registry: RoomRegistry;
  startedAt?: number;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * The node's plain HTTP routes. socket.io, attached after this handler, answers /socket.io itself
 * and passes everything else here: GET /healthz, and 404 for any other path.
 */
export function createHttpApp(deps: HttpAppDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const startedAt = deps.startedAt ?? Date.now();
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return json(res, 405, { error: 'method not allowed' });
      return json(res, 200, health(deps.pool, deps.registry, startedAt));
    }
    json(res, 404, { error: 'not found' });
  };
}
