import { type Logger, silentLogger } from '../log.ts';
import type { Spool, SpoolBatch } from './Spool.ts';

/**
 * Ships a Spool's records to a central receiver: from the cursor, in batches of at most
 * `maxRecords` (500) records and `maxBytes` (256 KiB), each POSTed as JSON
 * `{ node, batchFirstSeq, batchLastSeq, records: [{ seq, record }] }` with
 * `Authorization: Bearer <secret>` and `Idempotency-Key: <node>:<firstSeq>-<lastSeq>`.
 *
 * A 2xx advances the cursor (and deletes shipped segments). Anything else (refused connection,
 * non-2xx, timeout, a lost response) backs off (250 ms doubling to 10 s) and resends the SAME
 * batch: the batch is held in memory until acknowledged, so its boundaries and key do not change.
 * Delivery is at-least-once; a receiver that keeps records by (node, seq) stores each exactly once.
 * Failures are counted and logged once per outage; nothing here throws into the node.
 */
export interface ShipperOptions {
  spool: Spool;
  /** MICROSTUDIO_SHIP_URL. */
  url: string;
  /** This node's name (MICROSTUDIO_NODE_ID or the derived one). */
  node: string;
  /** MICROSTUDIO_NODE_SECRET, sent as a Bearer token; no Authorization header when unset. */
  secret?: string | undefined;
  logger?: Logger;
  maxRecords?: number;
  maxBytes?: number;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often an idle shipper looks for records even without a flush notification; default 1 s. */
  idlePollMs?: number;
}

export interface ShipperStats {
  /** Batches acknowledged. */
  batches: number;
  /** Records acknowledged. */
  records: number;
  /** Failed attempts (each is retried). */
  failures: number;
}

export class Shipper {
  private readonly options: Required<Omit<ShipperOptions, 'secret' | 'logger'>> & {
    secret: string | undefined;
  };
  private readonly logger: Logger;
  private readonly abort = new AbortController();
  private inFlight: SpoolBatch | undefined;
  private wakeUp: (() => void) | undefined;
  private readonly unsubscribe: () => void;
  private loop: Promise<void> | undefined;
  private failing = false;
  private closed = false;
  private counters: ShipperStats = { batches: 0, records: 0, failures: 0 };

  constructor(options: ShipperOptions) {
    this.options = {
      spool: options.spool,
      url: options.url,
      node: options.node,
      secret: options.secret,
      maxRecords: options.maxRecords ?? 500,
      maxBytes: options.maxBytes ?? 256 * 1024,
      timeoutMs: options.timeoutMs ?? 10_000,
      initialBackoffMs: options.initialBackoffMs ?? 250,
      maxBackoffMs: options.maxBackoffMs ?? 10_000,
      idlePollMs: options.idlePollMs ?? 1000,
    };
    this.logger = options.logger ?? silentLogger;
    this.unsubscribe = options.spool.onFlush(() => this.wake());
  }

  /** Starts shipping in the background. */
  start(): void {
    this.loop ??= this.run().catch((error: unknown) => {
      this.logger.error('log shipper stopped on an unexpected error', { error: String(error) });
    });
  }

  stats(): ShipperStats {
    return { ...this.counters };
  }

  /** Stops shipping (a request in flight is aborted; its batch is resent by the next run). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.abort.abort();
    this.wake();
    await this.loop;
  }

  private wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake(), ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const { spool, maxRecords, maxBytes, initialBackoffMs, maxBackoffMs, idlePollMs } = this.options;
    let backoff = initialBackoffMs;
    while (!this.closed) {
      if (!this.inFlight) {
        this.inFlight = spool.readBatch(spool.shipped, maxRecords, maxBytes);
        if (this.inFlight) spool.markSending(this.inFlight.lastSeq);
      }
      const batch = this.inFlight;
      if (!batch) {
        await this.wait(idlePollMs);
        continue;
      }
      const error = await this.post(batch);
      if (this.closed) break;
      if (error === undefined) {
        spool.commit(batch.lastSeq);
        this.inFlight = undefined;
        this.counters.batches += 1;
        this.counters.records += batch.lines.length;
        backoff = initialBackoffMs;
        if (this.failing) {
          this.failing = false;
          this.logger.info('log shipping resumed', { url: this.options.url, shipped: batch.lastSeq });
        }
        continue;
      }
      this.counters.failures += 1;
      if (!this.failing) {
        this.failing = true;
        this.logger.warn('log shipping failed: spooling to disk and retrying (logged once per outage)', {
          url: this.options.url,
          error,
        });
      }
      // Only a close interrupts the back-off: flushes must not turn it into a busy retry.
      await this.backOff(backoff);
      backoff = Math.min(backoff * 2, maxBackoffMs);
    }
  }

  private backOff(ms: number): Promise<void> {
    const signal = this.abort.signal;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** One attempt; undefined on a 2xx, else what went wrong. */
  private async post(batch: SpoolBatch): Promise<string | undefined> {
    const { url, node, secret, timeoutMs } = this.options;
    // The stored lines are already `{"seq":N,"record":…}`: the body is built without re-encoding them.
    const body = `{"node":${JSON.stringify(node)},"batchFirstSeq":${batch.firstSeq},"batchLastSeq":${
      batch.lastSeq
    },"records":[${batch.lines.join(',')}]}`;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'idempotency-key': `${node}:${batch.firstSeq}-${batch.lastSeq}`,
    };
    if (secret) headers.authorization = `Bearer ${secret}`;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(timeoutMs)]),
      });
      await response.arrayBuffer().catch(() => {});
      return response.ok ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return cause ?? String(error);
    }
  }
}
