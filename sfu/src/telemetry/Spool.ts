import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { type Logger, silentLogger } from '../log.ts';

/**
 * A durable on-disk queue of records for shipping (logs, telemetry) while the uplink is down.
 *
 * Layout of `dir`:
 * - `seg-<first seq, 16 digits>.jsonl`: append-only segments, one `{"seq":N,"record":…}` per line;
 *   a new segment starts once the current one reaches `segmentBytes`.
 * - `cursor`: `{"shipped":N,"sending":M}`: the last sequence number the receiver acknowledged, and
 *   the end of the batch in flight (so a restart resends the same batch); replaced atomically
 *   (write `cursor.tmp`, fsync, rename, fsync the directory).
 *
 * Durability: `append()` only buffers (cheap, never throws); a timer writes and fsyncs the buffer
 * every `flushIntervalMs` (200 ms), and a segment is fsynced before it is rotated. A crash loses at
 * most the last interval. Sequence numbers start at 1 and are derived on open from the last
 * segment's last complete line (a torn tail is cut off) and the cursor, so they are never reused.
 *
 * Size cap: when the segments exceed `maxBytes`, the oldest whole segments (never the current one)
 * are deleted and the unshipped range they held is appended as
 * `{"type":"spool-dropped","from":seq,"to":seq}`, so the loss itself is shipped. Records lost to a
 * failed write are reported the same way. Within the cap nothing is lost.
 *
 * Disk errors never reach the caller: they are counted (`stats().errors`) and logged once per
 * outage; if the directory cannot be opened at all, appends are counted as errors and dropped.
 */
export interface SpoolOptions {
  dir: string;
  /** Cap on the segments' total size on disk (MICROSTUDIO_SPOOL_MAX_BYTES). */
  maxBytes: number;
  /** Rotate segments at this size; default 1 MiB (at most a quarter of maxBytes). */
  segmentBytes?: number;
  /** Batch fsync period; default 200 ms. */
  flushIntervalMs?: number;
  /** Records buffered in memory beyond this are dropped (and reported); default 4 MiB. */
  maxBufferBytes?: number;
  logger?: Logger;
}

export interface SpoolStats {
  /** Records accepted by append(). */
  appended: number;
  /** Records lost: to the size cap, to failed writes, or refused because the spool is unusable. */
  dropped: number;
  /** Disk errors (open, write, fsync, cursor, delete). */
  errors: number;
  segments: number;
  bytes: number;
  /** The sequence number the next record gets. */
  nextSeq: number;
  /** The last sequence number acknowledged by the receiver. */
  shipped: number;
}

/** Consecutive durable records, as stored lines (`{"seq":N,"record":…}`). */
export interface SpoolBatch {
  firstSeq: number;
  lastSeq: number;
  lines: string[];
  bytes: number;
}

interface Segment {
  name: string;
  firstSeq: number;
  /** Bytes on disk (written). */
  bytes: number;
}

const segmentPattern = /^seg-(\d{16})\.jsonl$/;
const segmentName = (seq: number): string => `seg-${String(seq).padStart(16, '0')}.jsonl`;
const newline = 0x0a;

function seqOf(line: string): number | undefined {
  try {
    const parsed = JSON.parse(line) as { seq?: unknown };
    return typeof parsed.seq === 'number' && Number.isSafeInteger(parsed.seq) ? parsed.seq : undefined;
  } catch {
    return undefined;
  }
}

export class Spool {
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly maxBufferBytes: number;
  private readonly logger: Logger;
  /** Oldest first; the last one is the one being written (once `fd` is open). */
  private segments: Segment[] = [];
  private fd: number | undefined;
  private nextSeq = 1;
  /** The last sequence number written to disk. */
  private writtenSeq = 0;
  private shippedSeq = 0;
  /** The highest sequence number handed to a reader (in flight: not lost if its segment goes). */
  private readSeq = 0;
  /** The last seq of the batch being sent (persisted in the cursor); 0 when none. */
  private sendingSeq = 0;
  private pending: { seq: number; line: string }[] = [];
  private pendingBytes = 0;
  /** Lost ranges not yet written as spool-dropped records: disjoint, adjacent ones merged. */
  private unreportedLoss: { from: number; to: number }[] = [];
  /** spool-dropped records not yet shipped, by seq: if one is lost too, its range is reported again. */
  private readonly lossRecords = new Map<number, { from: number; to: number }>();
  /** The directory could not be opened: nothing is spooled. */
  private unusable = false;
  private failing = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly flushListeners = new Set<() => void>();
  /** Where the last read stopped, so the next batch does not rescan its segment. */
  private readPos: { name: string; offset: number; afterSeq: number } | undefined;
  private counters = { appended: 0, dropped: 0, errors: 0 };

  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.segmentBytes = Math.max(
      1024,
      Math.min(options.segmentBytes ?? 1024 * 1024, Math.floor(options.maxBytes / 4)),
    );
    this.maxBufferBytes = options.maxBufferBytes ?? 4 * 1024 * 1024;
    this.logger = options.logger ?? silentLogger;
    try {
      this.open();
    } catch (error) {
      this.unusable = true;
      this.fail('open', error);
    }
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs ?? 200);
    this.timer.unref();
  }

  /** Queues a record (any JSON value); cheap and never throws. Returns its sequence number. */
  append(record: unknown): number | undefined {
    let json: string;
    try {
      json = JSON.stringify(record);
    } catch {
      this.counters.errors += 1;
      return undefined;
    }
    return json === undefined ? undefined : this.appendJson(json);
  }

  /** Queues a record already serialised as one line of JSON (a JSON log line). */
  appendJson(json: string): number | undefined {
    if (this.closed) return undefined;
    if (this.unusable) {
      this.counters.errors += 1;
      this.counters.dropped += 1;
      return undefined;
    }
    const seq = this.nextSeq++;
    const line = `{"seq":${seq},"record":${json}}\n`;
    this.counters.appended += 1;
    if (this.pendingBytes + line.length > this.maxBufferBytes) {
      // The disk is not keeping up (or failing): this record is lost, and reported.
      this.counters.dropped += 1;
      this.noteLoss(seq, seq);
      return seq;
    }
    this.pending.push({ seq, line });
    this.pendingBytes += line.length;
    return seq;
  }

  /** Writes and fsyncs what is buffered, then applies the size cap. Never throws. */
  flush(): void {
    if (this.unusable || this.closed) return;
    const wrote = this.writePending();
    if (this.enforceCap() || this.unreportedLoss.length > 0) this.writePending();
    if (wrote) for (const listener of this.flushListeners) listener();
  }

  /** Called after each flush that wrote records (the shipper wakes up on it). */
  onFlush(listener: () => void): () => void {
    this.flushListeners.add(listener);
    return () => this.flushListeners.delete(listener);
  }

  /** The last sequence number acknowledged by the receiver. */
  get shipped(): number {
    return this.shippedSeq;
  }

  stats(): SpoolStats {
    return {
      ...this.counters,
      segments: this.segments.length,
      bytes: this.totalBytes(),
      nextSeq: this.nextSeq,
      shipped: this.shippedSeq,
    };
  }

  /**
   * Durable records after `afterSeq` (records lost to the cap are skipped), at most `maxRecords`
   * and `maxBytes` of lines (at least one record). Undefined when there is none.
   */
  readBatch(afterSeq: number, maxRecords: number, maxBytes: number): SpoolBatch | undefined {
    if (this.unusable) return undefined;
    const lines: string[] = [];
    let bytes = 0;
    let firstSeq = 0;
    let lastSeq = afterSeq;
    // A batch sent before a restart and never acknowledged is cut at the same boundary again.
    const until = this.sendingSeq > afterSeq ? this.sendingSeq : Number.POSITIVE_INFINITY;
    let startIndex = 0;
    for (let i = 0; i < this.segments.length; i++) {
      if ((this.segments[i] as Segment).firstSeq <= afterSeq + 1) startIndex = i;
    }
    try {
      for (let i = startIndex; i < this.segments.length; i++) {
        const segment = this.segments[i] as Segment;
        const cached = this.readPos;
        let offset =
          cached && cached.name === segment.name && cached.afterSeq === afterSeq ? cached.offset : 0;
        const length = segment.bytes - offset;
        if (length <= 0) continue;
        const buffer = Buffer.alloc(length);
        const fd = openSync(join(this.dir, segment.name), 'r');
        try {
          readSync(fd, buffer, 0, length, offset);
        } finally {
          closeSync(fd);
        }
        let start = 0;
        for (let end = buffer.indexOf(newline, start); end !== -1; end = buffer.indexOf(newline, start)) {
          const line = buffer.toString('utf8', start, end);
          const lineBytes = end + 1 - start;
          const seq = seqOf(line);
          if (seq !== undefined && seq > lastSeq) {
            if (
              (seq > until && lines.length > 0) ||
              lines.length >= maxRecords ||
              (lines.length > 0 && bytes + lineBytes > maxBytes)
            ) {
              this.readPos = { name: segment.name, offset, afterSeq: lastSeq };
              return this.handOut({ firstSeq, lastSeq, lines, bytes });
            }
            if (lines.length === 0) firstSeq = seq;
            lines.push(line);
            bytes += lineBytes;
            lastSeq = seq;
          }
          offset += lineBytes;
          start = end + 1;
        }
        this.readPos = { name: segment.name, offset, afterSeq: lastSeq };
      }
    } catch (error) {
      this.fail('read', error);
      // A segment deleted by the cap under us: the next read starts from what remains.
      this.readPos = undefined;
      if (lines.length === 0) return undefined;
    }
    return lines.length === 0 ? undefined : this.handOut({ firstSeq, lastSeq, lines, bytes });
  }

  /** Records that the receiver acknowledged everything up to `seq`: cursor, then shipped segments go. */
  commit(seq: number): void {
    if (seq <= this.shippedSeq || this.unusable) return;
    this.shippedSeq = seq;
    if (this.sendingSeq <= seq) this.sendingSeq = 0;
    for (const lossSeq of this.lossRecords.keys()) if (lossSeq <= seq) this.lossRecords.delete(lossSeq);
    if (!this.writeCursor()) return;
    // Fully shipped segments (never the one being written) are deleted.
    while (this.segments.length > 1 && this.segmentLastSeq(0) <= this.shippedSeq) {
      const segment = this.segments[0] as Segment;
      try {
        unlinkSync(join(this.dir, segment.name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.fail('delete', error);
          return;
        }
      }
      this.segments.shift();
    }
  }

  /**
   * Records (in the cursor file) that a batch ending at `lastSeq` is being sent, so that after a
   * restart the first batch is cut at the same boundary (same Idempotency-Key) until acknowledged.
   */
  markSending(lastSeq: number): void {
    if (this.unusable || lastSeq === this.sendingSeq) return;
    this.sendingSeq = lastSeq;
    this.writeCursor();
  }

  /** Replaces `cursor` atomically: temp file, fsync, rename, fsync the directory. */
  private writeCursor(): boolean {
    const cursor: { shipped: number; sending?: number } = { shipped: this.shippedSeq };
    if (this.sendingSeq > this.shippedSeq) cursor.sending = this.sendingSeq;
    try {
      const tmp = join(this.dir, 'cursor.tmp');
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, `${JSON.stringify(cursor)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, join(this.dir, 'cursor'));
      this.fsyncDir();
      return true;
    } catch (error) {
      this.fail('cursor', error);
      return false;
    }
  }

  /** Flushes and fsyncs what is buffered, then stops. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.stop();
  }

  /** Tests: stop as a killed process would, without writing what is buffered. */
  abandon(): void {
    this.stop();
  }

  private stop(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.flushListeners.clear();
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {}
      this.fd = undefined;
    }
  }

  private handOut(batch: SpoolBatch): SpoolBatch {
    if (batch.lastSeq > this.readSeq) this.readSeq = batch.lastSeq;
    return batch;
  }

  private open(): void {
    mkdirSync(this.dir, { recursive: true });
    try {
      const cursor = JSON.parse(readFileSync(join(this.dir, 'cursor'), 'utf8')) as {
        shipped?: unknown;
        sending?: unknown;
      };
      if (typeof cursor.shipped === 'number' && Number.isSafeInteger(cursor.shipped)) {
        this.shippedSeq = cursor.shipped;
      }
      if (typeof cursor.sending === 'number' && Number.isSafeInteger(cursor.sending)) {
        this.sendingSeq = cursor.sending;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.fail('cursor', error);
    }
    this.readSeq = this.shippedSeq;
    const names = readdirSync(this.dir)
      .filter((name) => segmentPattern.test(name))
      .sort();
    this.segments = names.map((name) => ({
      name,
      firstSeq: Number(segmentPattern.exec(name)?.[1]),
      bytes: statSync(join(this.dir, name)).size,
    }));
    let lastSeq = 0;
    const last = this.segments.at(-1);
    if (last) {
      lastSeq = last.firstSeq - 1;
      const path = join(this.dir, last.name);
      const content = readFileSync(path);
      const complete = content.lastIndexOf(newline) + 1;
      if (complete < content.length) {
        // A torn last line (crash mid-write): cut it off; it was never fsynced as a whole.
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, complete);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        last.bytes = complete;
      }
      const lines = content.toString('utf8', 0, complete).split('\n');
      for (let i = lines.length - 1; i >= 0; i--) {
        const seq = seqOf(lines[i] as string);
        if (seq !== undefined) {
          lastSeq = seq;
          break;
        }
      }
    }
    this.writtenSeq = Math.max(lastSeq, this.shippedSeq);
    this.nextSeq = this.writtenSeq + 1;
    // The previous run's segments are closed; appends go to a new one (opened on the first flush).
  }

  private writePending(): boolean {
    const losses = this.unreportedLoss;
    this.unreportedLoss = [];
    for (const { from, to } of losses) {
      const seq = this.append({ type: 'spool-dropped', from, to, time: new Date().toISOString() });
      if (seq !== undefined) this.lossRecords.set(seq, { from, to });
    }
    if (this.pending.length === 0) return false;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    let index = 0;
    try {
      while (index < batch.length) {
        const current = this.fd === undefined ? undefined : this.segments.at(-1);
        if (!current || current.bytes >= this.segmentBytes) {
          this.rotate((batch[index] as { seq: number }).seq);
          continue;
        }
        // Up to the rotation size (at least one line) in one write.
        let chunk = '';
        let chunkBytes = 0;
        let end = index;
        while (end < batch.length) {
          const line = (batch[end] as { line: string }).line;
          const lineBytes = Buffer.byteLength(line);
          if (chunkBytes > 0 && current.bytes + chunkBytes + lineBytes > this.segmentBytes) break;
          chunk += line;
          chunkBytes += lineBytes;
          end += 1;
        }
        const bytes = Buffer.from(chunk, 'utf8');
        let written = 0;
        while (written < bytes.length) {
          written += writeSync(this.fd as number, bytes, written, bytes.length - written);
        }
        current.bytes += bytes.length;
        index = end;
      }
      if (this.fd !== undefined) fsyncSync(this.fd);
      this.writtenSeq = (batch.at(-1) as { seq: number }).seq;
      this.recovered();
      return true;
    } catch (error) {
      this.fail('write', error);
      if (index > 0) this.writtenSeq = (batch[index - 1] as { seq: number }).seq;
      const lost = batch.slice(index);
      if (lost.length > 0) {
        this.counters.dropped += lost.length;
        this.noteLoss((lost[0] as { seq: number }).seq, (lost.at(-1) as { seq: number }).seq);
        this.reportAgain((lost[0] as { seq: number }).seq, (lost.at(-1) as { seq: number }).seq);
      }
      // What was written may be torn: the next write starts a new segment.
      if (this.fd !== undefined) {
        try {
          closeSync(this.fd);
        } catch {}
        this.fd = undefined;
      }
      // Nothing written is trusted to be durable; a reader skips a torn line.
      return index > 0;
    }
  }

  /** Closes the current segment (fsynced) and opens `seg-<firstSeq>` for appending. */
  private rotate(firstSeq: number): void {
    if (this.fd !== undefined) {
      const fd = this.fd;
      this.fd = undefined;
      fsyncSync(fd);
      closeSync(fd);
    }
    const name = segmentName(firstSeq);
    const existing = this.segments.at(-1);
    this.fd = openSync(join(this.dir, name), 'a');
    if (existing?.name === name) {
      existing.bytes = statSync(join(this.dir, name)).size;
    } else {
      this.segments.push({ name, firstSeq, bytes: 0 });
    }
    this.fsyncDir();
  }

  /** Deletes the oldest segments while over the cap; true when a loss was noted. */
  private enforceCap(): boolean {
    let noted = false;
    while (this.totalBytes() > this.maxBytes && this.segments.length > 1) {
      const segment = this.segments[0] as Segment;
      const lastSeq = this.segmentLastSeq(0);
      try {
        unlinkSync(join(this.dir, segment.name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.fail('delete', error);
          return noted;
        }
      }
      this.segments.shift();
      // Shipped records and the batch in flight (held in memory by the shipper) are not lost.
      const from = Math.max(segment.firstSeq, this.shippedSeq + 1, this.readSeq + 1);
      if (from <= lastSeq) {
        this.counters.dropped += lastSeq - from + 1;
        this.noteLoss(from, lastSeq);
        this.reportAgain(from, lastSeq);
        noted = true;
      }
    }
    if (noted) {
      this.logger.once(
        'warn',
        `spool-cap:${this.dir}`,
        'spool over its size cap: oldest unshipped records dropped',
        {
          maxBytes: this.maxBytes,
        },
      );
    }
    return noted;
  }

  /** spool-dropped records among the lost seqs `from..to`: their ranges are reported again. */
  private reportAgain(from: number, to: number): void {
    for (const [seq, range] of this.lossRecords) {
      if (seq < from || seq > to) continue;
      this.lossRecords.delete(seq);
      this.noteLoss(range.from, range.to);
    }
  }

  private noteLoss(from: number, to: number): void {
    const ranges = [...this.unreportedLoss, { from, to }].sort((a, b) => a.from - b.from);
    const merged: { from: number; to: number }[] = [];
    for (const range of ranges) {
      const last = merged.at(-1);
      if (last && range.from <= last.to + 1) last.to = Math.max(last.to, range.to);
      else merged.push({ ...range });
    }
    this.unreportedLoss = merged;
  }

  private segmentLastSeq(index: number): number {
    const next = this.segments[index + 1];
    return next ? next.firstSeq - 1 : this.writtenSeq;
  }

  private totalBytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.bytes;
    return total;
  }

  private fsyncDir(): void {
    const fd = openSync(this.dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private fail(what: string, error: unknown): void {
    this.counters.errors += 1;
    if (this.failing) return;
    this.failing = true;
    this.logger.error('spool disk error (logged once until it recovers)', {
      op: what,
      dir: this.dir,
      error: String(error),
    });
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.logger.info('spool disk writes recovered', { dir: this.dir });
  }
}
