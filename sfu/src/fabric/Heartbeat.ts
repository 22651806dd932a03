import type { Logger } from '../log.ts';
import type { Fabric, NodeAnnouncement } from './Fabric.ts';

export interface HeartbeatOptions {
  fabric: Fabric;
  /** This node as it is now; called on every beat (it may throw: that beat then fails). */
  describe: () => NodeAnnouncement;
  intervalMs: number;
  logger: Logger;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Keeps this node's fabric entry alive: announces every `intervalMs` with a ttl of three
 * intervals, so the entry survives two lost beats and disappears after the third. Failures are
 * logged once per outage (and the recovery once), never thrown out of the timer.
 */
export class Heartbeat {
  readonly #fabric: Fabric;
  readonly #describe: () => NodeAnnouncement;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #nodeId: string | undefined;
  #failingSince: number | undefined;
  #failedBeats = 0;
  #stopped = false;

  constructor(options: HeartbeatOptions) {
    if (!Number.isSafeInteger(options.intervalMs) || options.intervalMs <= 0) {
      throw new RangeError(`heartbeat intervalMs must be a positive integer, got ${options.intervalMs}`);
    }
    this.#fabric = options.fabric;
    this.#describe = options.describe;
    this.#intervalMs = options.intervalMs;
    this.#logger = options.logger;
  }

  /** True until a beat fails, and again once one succeeds. */
  get healthy(): boolean {
    return this.#failingSince === undefined;
  }

  /** Announces now, then every interval. Calling it again, or after stop(), does nothing. */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    // The beat alone must not keep a process alive that has otherwise finished.
    this.#timer.unref();
    this.#tick();
  }

  /** Stops beating and withdraws the entry (a failure to withdraw is logged: it expires anyway). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    // A beat still in flight would otherwise land after the withdraw and resurrect the entry.
    await this.#inFlight;
    const nodeId = this.#nodeId ?? this.#describeSafely()?.nodeId;
    if (nodeId === undefined) return;
    try {
      await this.#fabric.withdraw(nodeId);
    } catch (error) {
      this.#logger.warn('could not withdraw from the fabric; the entry will expire by itself', {
        nodeId,
        error: messageOf(error),
      });
    }
  }

  #tick(): void {
    // A slow store must not pile up announcements: skip this beat, the next one carries the news.
    if (this.#inFlight !== undefined || this.#stopped) return;
    this.#inFlight = this.#beat().finally(() => {
      this.#inFlight = undefined;
    });
  }

  async #beat(): Promise<void> {
    try {
      const node = this.#describe();
      this.#nodeId = node.nodeId;
      await this.#fabric.announce(node, 3 * this.#intervalMs);
    } catch (error) {
      this.#failed(error);
      return;
    }
    this.#succeeded();
  }

  #failed(error: unknown): void {
    this.#failedBeats += 1;
    if (this.#failingSince !== undefined) return;
    this.#failingSince = Date.now();
    this.#logger.warn('fabric announce failing; other nodes will lose sight of this one', {
      nodeId: this.#nodeId,
      error: messageOf(error),
    });
  }

  #succeeded(): void {
    if (this.#failingSince === undefined) return;
    this.#logger.info('fabric announce recovered', {
      nodeId: this.#nodeId,
      failedBeats: this.#failedBeats,
      outageMs: Date.now() - this.#failingSince,
    });
    this.#failingSince = undefined;
    this.#failedBeats = 0;
  }

  #describeSafely(): NodeAnnouncement | undefined {
    try {
      return this.#describe();
    } catch {
      return undefined;
    }
  }
}
