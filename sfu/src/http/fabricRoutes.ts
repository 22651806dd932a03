import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Fabric } from '../fabric/Fabric.ts';
import { placeViewer } from '../fabric/placement.ts';

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

const REGION = /^[a-z0-9-]{1,32}$/;
const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * GET /fabric/nodes — every live node (role, region, viewers, pipes, uplink) for the control
 * room's edge panel; GET /placement?region=&exclude=a,b — the node a viewer should watch at.
 * Returns false for paths it does not own.
 */
export function createFabricRoutes(fabric: Fabric) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    // Not new URL(): a request line like `//x` is not a relative URL and would throw.
    const [pathname = '/', query = ''] = (req.url ?? '/').split('?', 2);
    if (pathname !== '/fabric/nodes' && pathname !== '/placement') return false;
    const url = { pathname, searchParams: new URLSearchParams(query) };
    if (req.method !== 'GET') {
      json(res, 405, { error: 'method not allowed' });
      return true;
    }
    if (url.pathname === '/fabric/nodes') {
      fabric.nodes().then(
        (nodes) => json(res, 200, { nodes: nodes.sort((a, b) => a.nodeId.localeCompare(b.nodeId)) }),
        (error: unknown) => json(res, 503, { error: `fabric unavailable: ${String(error).slice(0, 200)}` }),
      );
      return true;
    }
    const region = url.searchParams.get('region') ?? undefined;
    if (region !== undefined && !REGION.test(region)) {
      json(res, 400, { error: 'region must be 1–32 of a-z 0-9 -' });
      return true;
    }
    const exclude = (url.searchParams.get('exclude') ?? '').split(',').filter((id) => id !== '');
    if (exclude.length > 16 || exclude.some((id) => !NODE_ID.test(id))) {
      json(res, 400, { error: 'exclude is up to 16 comma-separated node ids' });
      return true;
    }
    fabric.nodes().then(
      (nodes) => {
        const node = placeViewer(nodes, { ...(region ? { region } : {}), exclude });
        if (!node) return json(res, 503, { error: 'no media node can take a viewer now' });
        json(res, 200, { nodeId: node.nodeId, role: node.role, region: node.region, url: node.publicUrl });
      },
      (error: unknown) => json(res, 503, { error: `fabric unavailable: ${String(error).slice(0, 200)}` }),
    );
    return true;
  };
}
