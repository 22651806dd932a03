import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { WorkerPool } from '../workers/WorkerPool.ts';
import { health, type NodeHealth } from './health.ts';
import { createNodeMetrics, type FabricStatus } from './metrics.ts';

export interface HttpAppDeps {
  pool: WorkerPool;
  registry: RoomRegistry;
  startedAt?: number;
  /** The recorder's internal API (recording/RecorderApi.ts): answers the paths it owns. */
  recorderApi?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Called with what a route threw (for the log). */
  onError?: (error: unknown) => void;
  /** This node in the fabric (role, region, uplink, pipes, viewers), for /healthz. */
  describeNode?: () => NodeHealth;
  /** Pipes, uplink and piped producers, for /metrics. */
  fabricStatus?: () => FabricStatus;
  /** /fabric/nodes and /placement (http/fabricRoutes.ts). */
  fabricRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** WHIP ingest (whip/whipHttp.ts): answers /whip/… itself. */
  whip?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** WHEP playback (whep/whepHttp.ts): answers /whep/… itself. */
  whep?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Further metrics registries for /metrics (the recorders' reports). */
  moreMetrics?: Registry[];
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
  // Created with the app so worker deaths are counted from the node's start.
  const metrics = createNodeMetrics({
    pool: deps.pool,
    registry: deps.registry,
    ...(deps.fabricStatus ? { fabric: deps.fabricStatus } : {}),
    ...(deps.moreMetrics ? { more: deps.moreMetrics } : {}),
  });
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (deps.recorderApi?.(req, res)) return;
    if (deps.whip?.(req, res)) return;
    if (deps.whep?.(req, res)) return;
    if (deps.fabricRoutes?.(req, res)) return;
    if (path === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return json(res, 405, { error: 'method not allowed' });
      return json(res, 200, health(deps.pool, deps.registry, startedAt, deps.describeNode?.()));
    }
    if (path === '/metrics') {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return json(res, 405, { error: 'method not allowed' });
      metrics.render().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (error: unknown) => json(res, 500, { error: String(error) }),
      );
      return;
    }
    json(res, 404, { error: 'not found' });
  };
  // Last line of defence: a route that throws answers 500 for that request instead of taking
  // the node (and every show on it) down.
  return (req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.destroy();
      deps.onError?.(error);
    }
  };
}
