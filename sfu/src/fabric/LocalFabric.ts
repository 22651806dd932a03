import {
  type Fabric,
  FabricError,
  type NodeAnnouncement,
  type NodeRecord,
  type Revocation,
} from './Fabric.ts';
import { checkAnnouncement, checkNodeId } from './nodeRecord.ts';
import { checkInviteId, checkRevocations } from './revocation.ts';

export interface LocalFabricOptions {
  /** The clock (ms since epoch); tests pass a fake one to expire entries without sleeping. */
  now?: () => number;
}

interface Entry {
  record: NodeRecord;
  expiresAt: number;
}

/**
 * The fabric of a single process (one node on one box, and tests). Expiry is evaluated on read
 * rather than by timers, so there is nothing to clean up and a fake clock is enough to test it.
 */
export class LocalFabric implements Fabric {
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  /** inviteId → when its revocation expires (ms since epoch). */
  readonly #revoked = new Map<string, number>();
  #closed = false;

  constructor(options: LocalFabricOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  async announce(node: NodeAnnouncement, ttlMs: number): Promise<void> {
    this.#assertOpen('announce');
    const valid = checkAnnouncement(node, ttlMs);
    const now = this.#now();
    this.#entries.set(valid.nodeId, { record: { ...valid, updatedAt: now }, expiresAt: now + ttlMs });
  }

  async withdraw(nodeId: string): Promise<void> {
    this.#assertOpen('withdraw');
    this.#entries.delete(checkNodeId(nodeId));
  }

  async nodes(): Promise<NodeRecord[]> {
    this.#assertOpen('list nodes');
    const now = this.#now();
    const live: NodeRecord[] = [];
    for (const [nodeId, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(nodeId);
      // A copy: a caller mutating its view must not change the registry.
      else live.push({ ...entry.record });
    }
    return live;
  }

  async revoke(revocations: readonly Revocation[]): Promise<void> {
    this.#assertOpen('record revocations');
    const valid = checkRevocations(revocations);
    const now = this.#now();
    for (const { inviteId, expiresAt } of valid) {
      if (expiresAt > now) this.#revoked.set(inviteId, Math.max(expiresAt, this.#revoked.get(inviteId) ?? 0));
    }
  }

  async isRevoked(inviteId: string): Promise<boolean> {
    this.#assertOpen('check a revocation');
    const expiresAt = this.#revoked.get(checkInviteId(inviteId));
    return expiresAt !== undefined && expiresAt > this.#now();
  }

  async revocations(): Promise<Revocation[]> {
    this.#assertOpen('list revocations');
    const now = this.#now();
    const live: Revocation[] = [];
    for (const [inviteId, expiresAt] of this.#revoked) {
      if (expiresAt <= now) this.#revoked.delete(inviteId);
      else live.push({ inviteId, expiresAt });
    }
    return live;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#entries.clear();
    this.#revoked.clear();
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new FabricError(`cannot ${what}: the fabric is closed`);
  }
}
