import type { NodeRecord } from './Fabric.ts';

export interface PlacementWish {
  /** The region the viewer asked for (`/watch?region=…`). */
  region?: string;
  /** Nodes the viewer just lost (failover): never placed there again by this call. */
  exclude?: readonly string[];
}

function loadRatio(node: NodeRecord): number {
  return node.capacity > 0 ? node.viewers / node.capacity : Number.POSITIVE_INFINITY;
}

function hasSpareCapacity(node: NodeRecord): boolean {
  return node.viewers < node.capacity;
}

/** Least loaded first; equal loads by nodeId (code-unit order, not locale) so every node agrees. */
function byLoadThenId(a: NodeRecord, b: NodeRecord): number {
  const difference = loadRatio(a) - loadRatio(b);
  if (difference !== 0 && !Number.isNaN(difference)) return difference;
  return a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0;
}

function leastLoaded(nodes: NodeRecord[]): NodeRecord | undefined {
  return [...nodes].sort(byLoadThenId)[0];
}

/**
 * Where a viewer should watch from. The rule, in order:
 *  1. Only nodes not in `exclude` are considered.
 *  2. A usable edge is role 'edge', uplink 'up' (it can reach the site, so it has the program)
 *     and viewers < capacity.
 *  3. A usable edge in the wished region, least loaded (viewers / capacity) first.
 *  4. Otherwise a usable edge in any region, least loaded first.
 *  5. Otherwise a site node (it always has the program): one with spare capacity before a full
 *     one, then the wished region, then least loaded. A full site still beats turning the
 *     viewer away.
 *  6. Otherwise undefined (no node at all).
 * Ties always break by nodeId, so every node computes the same answer from the same records.
 */
export function placeViewer(nodes: readonly NodeRecord[], wish: PlacementWish = {}): NodeRecord | undefined {
  const excluded = new Set(wish.exclude ?? []);
  const candidates = nodes.filter((node) => !excluded.has(node.nodeId));
  const usableEdges = candidates.filter(
    (node) => node.role === 'edge' && node.uplink === 'up' && hasSpareCapacity(node),
  );
  if (wish.region !== undefined) {
    const local = leastLoaded(usableEdges.filter((node) => node.region === wish.region));
    if (local) return local;
  }
  const edge = leastLoaded(usableEdges);
  if (edge) return edge;
  const sites = candidates.filter((node) => node.role === 'site');
  const rank = (node: NodeRecord): number =>
    (hasSpareCapacity(node) ? 0 : 2) + (wish.region === undefined || node.region === wish.region ? 0 : 1);
  return [...sites].sort((a, b) => rank(a) - rank(b) || byLoadThenId(a, b))[0];
}
