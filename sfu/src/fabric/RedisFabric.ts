import type { Logger } from '../log.ts';
import type { Fabric, NodeAnnouncement, NodeRecord, Revocation } from './Fabric.ts';
import { checkAnnouncement, checkNodeId, parseStoredRecord } from './nodeRecord.ts';
import { RedisConnection, type RedisConnectionOptions } from './RedisConnection.ts';
import { checkInviteId, checkRevocations } from './revocation.ts';

export interface RedisFabricOptions extends RedisConnectionOptions {
  /** Prepended to every key; tests use their own to share one server. Default `microstudio:`. */
  keyPrefix?: string;
  /** Stamps updatedAt (ms since epoch). */
  now?: () => number;
}

/**
 * Removes index members whose entry has expired, atomically: checking and removing in one script
 * means a node that re-announces between our read and our prune is never dropped from the index.
 * KEYS[1] is the index, KEYS[i + 1] the entry of member ARGV[i].
 */
const PRUNE_SCRIPT = `
local removed = 0
for i, member in ipairs(ARGV) do
  if redis.call('EXISTS', KEYS[i + 1]) == 0 then
    removed = removed + redis.call('SREM', KEYS[1], member)
  end
end
return removed
`;

/**
 * The fabric over Redis, for several processes. Each node is a key `<prefix>node:<nodeId>`
 * holding its record as JSON, written with SET … PX ttl: Redis itself forgets a node that stops
 * renewing, and never returns an expired key, so `nodes()` cannot see a dead node.
 *
 * Discovery uses a set `<prefix>nodes` of node ids rather than SCAN, so listing costs the number
 * of nodes, not the size of a Redis shared with other data. A crashed node's id stays in the set
 * after its key expired; readers prune such ids (atomically, see PRUNE_SCRIPT).
 *
 * Revocations are one sorted set `<prefix>revoked`: member = invite id, score = its expiry (ms).
 * One key answers "is it revoked" (ZSCORE) and "all live ones" (ZRANGEBYSCORE) without an index
 * to keep in step; expired members are removed by time (ZREMRANGEBYSCORE) on every write and list.
 */
export class RedisFabric implements Fabric {
  readonly #connection: RedisConnection;
  readonly #logger: Logger;
  readonly #prefix: string;
  readonly #indexKey: string;
  readonly #revokedKey: string;
  readonly #now: () => number;
  /** nodeId → why its entry was refused, so a bad entry is logged once, not on every read. */
  readonly #malformed = new Map<string, string>();

  constructor(options: RedisFabricOptions) {
    this.#logger = options.logger;
    this.#prefix = options.keyPrefix ?? 'microstudio:';
    this.#indexKey = `${this.#prefix}nodes`;
    this.#revokedKey = `${this.#prefix}revoked`;
    this.#now = options.now ?? Date.now;
    this.#connection = new RedisConnection(options);
  }

  /** Whether the connection to the store is up now (for health reporting). */
  get connected(): boolean {
    return this.#connection.ready;
  }

  async announce(node: NodeAnnouncement, ttlMs: number): Promise<void> {
    const valid = checkAnnouncement(node, ttlMs);
    const record: NodeRecord = { ...valid, updatedAt: this.#now() };
    await this.#connection.run('announce', (client) =>
      client
        .multi()
        .set(this.#nodeKey(valid.nodeId), JSON.stringify(record), {
          expiration: { type: 'PX', value: ttlMs },
        })
        .sAdd(this.#indexKey, valid.nodeId)
        .exec(),
    );
  }

  async withdraw(nodeId: string): Promise<void> {
    const id = checkNodeId(nodeId);
    await this.#connection.run('withdraw', (client) =>
      client.multi().del(this.#nodeKey(id)).sRem(this.#indexKey, id).exec(),
    );
  }

  async nodes(): Promise<NodeRecord[]> {
    const { ids, values } = await this.#connection.run('list nodes', async (client) => {
      const members = await client.sMembers(this.#indexKey);
      if (members.length === 0) return { ids: members, values: [] };
      return { ids: members, values: await client.mGet(members.map((id) => this.#nodeKey(id))) };
    });
    const live: NodeRecord[] = [];
    const expired: string[] = [];
    ids.forEach((nodeId, i) => {
      const text = values[i];
      if (text === null || text === undefined) {
        expired.push(nodeId);
        return;
      }
      const parsed = parseStoredRecord(text);
      if (!parsed.ok) {
        this.#reportMalformed(nodeId, parsed.reason);
      } else if (parsed.record.nodeId !== nodeId) {
        this.#reportMalformed(nodeId, `it names node "${parsed.record.nodeId}"`);
      } else {
        this.#malformed.delete(nodeId);
        live.push(parsed.record);
      }
    });
    if (expired.length > 0) await this.#prune(expired);
    return live;
  }

  async revoke(revocations: readonly Revocation[]): Promise<void> {
    const now = this.#now();
    const live = checkRevocations(revocations).filter((r) => r.expiresAt > now);
    if (live.length === 0) return;
    const members = live.map((r) => ({ value: r.inviteId, score: r.expiresAt }));
    await this.#connection.run('record revocations', (client) =>
      client
        .multi()
        // GT: a revocation is never shortened by a stale copy of it.
        .zAdd(this.#revokedKey, members, { comparison: 'GT' })
        .zRemRangeByScore(this.#revokedKey, '-inf', now)
        .exec(),
    );
  }

  async isRevoked(inviteId: string): Promise<boolean> {
    const id = checkInviteId(inviteId);
    const score = await this.#connection.run('check a revocation', (client) =>
      client.zScore(this.#revokedKey, id),
    );
    return score !== null && score > this.#now();
  }

  async revocations(): Promise<Revocation[]> {
    const now = this.#now();
    const listed = await this.#connection.run('list revocations', async (client) => {
      // Housekeeping first (the range below skips expired members anyway): keeps the set bounded
      // by the revocations still in force even when the site that wrote them has gone.
      await client.zRemRangeByScore(this.#revokedKey, '-inf', now);
      return client.zRangeByScoreWithScores(this.#revokedKey, `(${now}`, '+inf');
    });
    return listed.map(({ value, score }) => ({ inviteId: String(value), expiresAt: Number(score) }));
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }

  #nodeKey(nodeId: string): string {
    return `${this.#prefix}node:${nodeId}`;
  }

  async #prune(nodeIds: string[]): Promise<void> {
    for (const nodeId of nodeIds) this.#malformed.delete(nodeId);
    try {
      await this.#connection.run('prune expired nodes', (client) =>
        client.eval(PRUNE_SCRIPT, {
          keys: [this.#indexKey, ...nodeIds.map((id) => this.#nodeKey(id))],
          arguments: nodeIds,
        }),
      );
    } catch (error) {
      // Housekeeping only: the listing itself is already correct, and the next read retries.
      this.#logger.debug('could not prune expired fabric entries', { error: String(error) });
    }
  }

  #reportMalformed(nodeId: string, reason: string): void {
    if (this.#malformed.get(nodeId) === reason) return;
    if (this.#malformed.size >= 1000) this.#malformed.clear();
    this.#malformed.set(nodeId, reason);
    // Skipped, not deleted: it may be a newer node's format; removing it is the operator's call.
    this.#logger.warn('skipping a malformed fabric entry', {
      key: this.#nodeKey(nodeId).slice(0, 200),
      reason: reason.slice(0, 300),
    });
  }
}
