/**
 * The fabric: which media nodes exist, where, and how loaded. One interface, two
 * implementations — LocalFabric (in memory, one process) and RedisFabric (many processes) — and
 * every caller (placement, the edge's site lookup, health) goes through this interface only.
 */

export type NodeRole = 'site' | 'edge';

/** The state of an edge's link to its site, as the edge sees it. */
export type UplinkState = 'up' | 'down' | 'none';

export interface NodeRecord {
  nodeId: string;
  role: NodeRole;
  region: string;
  /** Where browsers reach this node's signaling (socket.io) and WHEP/HTTP. */
  publicUrl: string;
  /** Where other nodes reach this node's node-to-node channel (socket.io namespace /fabric). */
  internalUrl: string;
  /** Viewers this node takes before placement prefers another. */
  capacity: number;
  /** Peers connected now (viewers on an edge). */
  viewers: number;
  /** Open site↔edge pipes (PipeTransports) on this node. */
  pipes: number;
  uplink: UplinkState;
  /** An edge's smoothed round-trip time to its site, ms; absent while down, unmeasured, on a site. */
  uplinkRttMs?: number;
  /** The 95th percentile of its recent probes (the last 20), ms; absent as uplinkRttMs. */
  uplinkRttP95Ms?: number;
  /** ms since epoch of the last heartbeat (set by the fabric on announce). */
  updatedAt: number;
}

export type NodeAnnouncement = Omit<NodeRecord, 'updatedAt'>;

/**
 * An invite the director revoked at the site, kept until the invite itself expires (after that
 * its token is refused for being expired, so the revocation has nothing left to say).
 */
export interface Revocation {
  /** The invite's id: the `jti` of its token (a random UUID, unique across rooms). */
  inviteId: string;
  /** ms since epoch: the invite's expiry. */
  expiresAt: number;
}

export interface Fabric {
  /**
   * Creates or renews this node's entry; it expires `ttlMs` after the last announce unless
   * renewed (a crashed node disappears by itself).
   */
  announce(node: NodeAnnouncement, ttlMs: number): Promise<void>;
  /** Removes an entry at once (graceful shutdown). */
  withdraw(nodeId: string): Promise<void>;
  /** Every live (unexpired) node, in no particular order. */
  nodes(): Promise<NodeRecord[]>;
  /**
   * Records revoked invites (one write for all of them; recording one again is harmless). An
   * entry whose expiresAt has passed is not stored.
   */
  revoke(revocations: readonly Revocation[]): Promise<void>;
  /** Whether this invite id is revoked and its revocation not yet expired. */
  isRevoked(inviteId: string): Promise<boolean>;
  /** Every live (unexpired) revocation, in no particular order (edges poll this). */
  revocations(): Promise<Revocation[]>;
  /** Releases connections and timers. Safe to call twice. */
  close(): Promise<void>;
}

/** A fabric operation failed (store unreachable, bad record); callers keep their last view. */
export class FabricError extends Error {
  override name = 'FabricError';
}
