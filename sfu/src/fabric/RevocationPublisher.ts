import type { Logger } from '../log.ts';
import type { Fabric, Revocation } from './Fabric.ts';
import { OutageLog } from './OutageLog.ts';

export interface RevocationPublisherOptions {
  fabric: Fabric;
  /** How often every revocation still in force is written again (the heartbeat interval). */
  intervalMs: number;
  logger: Logger;
  now?: () => number;
}

/**
 * The site's side of revocations: writes each one to the fabric at once, and then again every
 * interval until the invite expires. The rewrite is what keeps a revocation from being lost: a
 * write that failed (store down or hung) succeeds on a later beat, and a store that restarted
 * empty is refilled. One batched write per beat, of the revocations still in force only.
 */
export class RevocationPublisher {
  readonly #fabric: Fabric;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #outage: OutageLog;
  /** inviteId → expiry (ms since epoch), until it passes. */
  readonly #live = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  /** A revocation arrived while a write was in flight: write again as soon as it settles. */
  #again = false;
  #closed = false;

  constructor(options: RevocationPublisherOptions) {
    this.#fabric = options.fabric;
    this.#intervalMs = options.intervalMs;
    this.#now = options.now ?? Date.now;
    this.#outage = new OutageLog(options.logger, 'recording revocations in the fabric');
  }

  /** Revocations not yet expired that this site keeps writing. */
  get size(): number {
    return this.#live.size;
  }

  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setInterval(() => this.#flush(), this.#intervalMs);
    this.#timer.unref();
  }

  publish(revocation: Revocation): void {
    if (this.#closed || revocation.expiresAt <= this.#now()) return;
    const known = this.#live.get(revocation.inviteId) ?? 0;
    this.#live.set(revocation.inviteId, Math.max(known, revocation.expiresAt));
    this.#flush();
  }

  /** Stops writing; waits for a write in flight (what it did not write was in force here only). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }

  #flush(): void {
    if (this.#closed) return;
    if (this.#inFlight !== undefined) {
      this.#again = true;
      return;
    }
    const now = this.#now();
    for (const [inviteId, expiresAt] of this.#live) if (expiresAt <= now) this.#live.delete(inviteId);
    if (this.#live.size === 0) return;
    const batch = [...this.#live].map(([inviteId, expiresAt]) => ({ inviteId, expiresAt }));
    this.#inFlight = this.#write(batch).finally(() => {
      this.#inFlight = undefined;
      if (this.#again) {
        this.#again = false;
        this.#flush();
      }
    });
  }

  async #write(batch: Revocation[]): Promise<void> {
    try {
      await this.#fabric.revoke(batch);
      this.#outage.succeeded({ revocations: batch.length });
    } catch (error) {
      // Kept in #live: the next beat writes it again.
      this.#outage.failed(error, { revocations: batch.length });
    }
  }
}
