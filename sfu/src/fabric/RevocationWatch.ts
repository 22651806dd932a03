import type { RemoteRevocations } from '../auth/Authenticator.ts';
import type { Logger } from '../log.ts';
import { SafeEmitter } from '../util/SafeEmitter.ts';
import type { Fabric, Revocation } from './Fabric.ts';
import { OutageLog } from './OutageLog.ts';

/** How often an edge reads the site's revocations: a revoked viewer is let go within this. */
export const REVOCATION_POLL_MS = 2000;

export interface RevocationWatchOptions {
  fabric: Fabric;
  pollMs?: number;
  logger: Logger;
  now?: () => number;
}

export type RevocationWatchEvents = {
  /** A revocation this edge had not seen: its viewers must be let go. */
  revoked: [revocation: Revocation];
};

/**
 * An edge's view of the revocations the site wrote to the fabric. Polls the whole live list
 * (bounded by the invites revoked and not yet expired) rather than subscribing, so it works the
 * same over LocalFabric and Redis and needs no second connection; what is new is emitted once.
 *
 * A join asks the fabric directly, so it is refused even inside the poll interval. When the store
 * cannot answer, the join is judged on the last poll rather than refused: a store outage must not
 * turn every viewer of every edge away (the node registry fails the same way, open).
 */
export class RevocationWatch extends SafeEmitter<RevocationWatchEvents> implements RemoteRevocations {
  readonly #fabric: Fabric;
  readonly #pollMs: number;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #outage: OutageLog;
  /** inviteId → expiry (ms since epoch) of every live revocation seen. */
  readonly #known = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #inFlight = false;
  #closed = false;

  constructor(options: RevocationWatchOptions) {
    super((event, error) =>
      options.logger.error('a revocation listener threw', { event, error: String(error) }),
    );
    this.#fabric = options.fabric;
    this.#pollMs = options.pollMs ?? REVOCATION_POLL_MS;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
    this.#outage = new OutageLog(options.logger, 'reading revocations from the fabric');
  }

  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => void this.#poll(), this.#pollMs);
    this.#timer.unref();
    void this.#poll();
  }

  async isRevoked(inviteId: string): Promise<boolean> {
    const known = this.#known.get(inviteId);
    if (known !== undefined && known > this.#now()) return true;
    try {
      // Not remembered here: the poll must still see it as new and let its viewers go.
      return await this.#fabric.isRevoked(inviteId);
    } catch (error) {
      this.#logger.debug('revocation check failed; judging on the last poll', {
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.removeAllListeners();
  }

  async #poll(): Promise<void> {
    // A slow store must not pile up reads: skip this round, the next one sees the same news.
    if (this.#inFlight || this.#closed) return;
    this.#inFlight = true;
    let listed: Revocation[];
    try {
      listed = await this.#fabric.revocations();
      this.#outage.succeeded();
    } catch (error) {
      this.#outage.failed(error);
      return;
    } finally {
      this.#inFlight = false;
    }
    if (this.#closed) return;
    const now = this.#now();
    for (const [inviteId, expiresAt] of this.#known) if (expiresAt <= now) this.#known.delete(inviteId);
    for (const revocation of listed) {
      if (revocation.expiresAt <= now || this.#known.has(revocation.inviteId)) continue;
      this.#known.set(revocation.inviteId, revocation.expiresAt);
      this.#logger.info('invite revoked at the site', { inviteId: revocation.inviteId });
      this.safeEmit('revoked', revocation);
    }
  }
}
