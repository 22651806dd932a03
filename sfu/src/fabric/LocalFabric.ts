import { type Fabric, FabricError, type NodeAnnouncement, type NodeRecord } from './Fabric.ts';
import { checkAnnouncement, checkNodeId } from './nodeRecord.ts';

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

  async close(): Promise<void> {
    this.#closed = true;
    this.#entries.clear();
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new FabricError(`cannot ${what}: the fabric is closed`);
  }
}
