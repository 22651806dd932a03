/**
 * The studio's /api/fabric answer: the media nodes of the fabric as the control room sees them.
 * Also /api/placement's answer. Pure (no server-only imports): the route handlers build these,
 * the browser side reads them.
 */
import { MAX_UPLINK_RTT_MS } from '@microstudio/protocol/limits';

export type FabricRole = 'site' | 'edge';
export type FabricUplink = 'up' | 'down' | 'none';

/** A media node's fabric record without its node-to-node address (internalUrl is ops-internal). */
export interface FabricNode {
  nodeId: string;
  role: FabricRole;
  region: string;
  /** Where browsers reach the node's signaling. */
  publicUrl: string;
  /** Viewers the node takes before placement prefers another. */
  capacity: number;
  viewers: number;
  /** Open site↔edge pipes on the node. */
  pipes: number;
  /** An edge's link to its site; `none` on the site. */
  uplink: FabricUplink;
  /** An edge's smoothed round-trip time to its site, ms; absent while down, unmeasured, on the site. */
  uplinkRttMs?: number;
  /** The 95th percentile of the edge's recent probes to its site, ms. */
  uplinkRttP95Ms?: number;
  /** ms since epoch of the node's last heartbeat (the node's clock). */
  updatedAt: number;
}

/** GET /api/fabric → 200 FabricAnswer, or 5xx { error }. */
export interface FabricAnswer {
  nodes: FabricNode[];
  /** The studio server's clock (ms since epoch) when it answered: ages are measured against it. */
  now: number;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;
const isText = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= max;
const isRtt = (value: unknown): value is number => isCount(value) && value <= MAX_UPLINK_RTT_MS;

/**
 * The public fields of one node record (an allow-list: unknown fields never pass), or null. An
 * RTT figure out of bounds is dropped (shown as unknown), not the node.
 */
export function publicNode(value: unknown): FabricNode | null {
  if (!isRecord(value)) return null;
  const { nodeId, role, region, publicUrl, capacity, viewers, pipes, uplink, updatedAt } = value;
  const { uplinkRttMs, uplinkRttP95Ms } = value;
  if (!isText(nodeId, 64) || !isText(region, 64) || typeof publicUrl !== 'string') return null;
  if (role !== 'site' && role !== 'edge') return null;
  if (uplink !== 'up' && uplink !== 'down' && uplink !== 'none') return null;
  if (!isCount(capacity) || !isCount(viewers) || !isCount(pipes) || !isCount(updatedAt)) return null;
  return {
    nodeId,
    role,
    region,
    publicUrl,
    capacity,
    viewers,
    pipes,
    uplink,
    ...(isRtt(uplinkRttMs) ? { uplinkRttMs } : {}),
    ...(isRtt(uplinkRttP95Ms) ? { uplinkRttP95Ms } : {}),
    updatedAt,
  };
}

/** Every node of a `{ nodes: [...] }` body, or null when the body or any record is malformed. */
export function publicNodes(body: unknown): FabricNode[] | null {
  if (!isRecord(body) || !Array.isArray(body.nodes)) return null;
  const nodes = body.nodes.map(publicNode);
  return nodes.every((node) => node !== null) ? (nodes as FabricNode[]) : null;
}

/** GET /api/placement → 200 PlacementAnswer, or 400/502/503 { error }. */
export interface PlacementAnswer {
  nodeId: string;
  role: FabricRole;
  region: string;
  /** The node's signaling URL (where the viewer connects). */
  url: string;
}

/** The fields of a placement answer (an allow-list), or null when malformed. */
export function placementOf(body: unknown): PlacementAnswer | null {
  if (!isRecord(body)) return null;
  const { nodeId, role, region, url } = body;
  if (!isText(nodeId, 64) || !isText(region, 64) || !isText(url, 2048)) return null;
  if (role !== 'site' && role !== 'edge') return null;
  return { nodeId, role, region, url };
}

/** The `error` text of an error body (bounded), or null. */
export function errorText(body: unknown): string | null {
  return isRecord(body) && typeof body.error === 'string' && body.error !== ''
    ? body.error.slice(0, 300)
    : null;
}
