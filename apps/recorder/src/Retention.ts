import { lstat, realpath, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { Logger } from './log.ts';
import type { JournalEntry, UploadJournal } from './UploadJournal.ts';

const HOUR_MS = 3_600_000;
/** How often the sweep looks for confirmed files that have aged past the policy. */
const SWEEP_INTERVAL_MS = 5 * 60_000;

export interface RetentionOptions {
  /** The recordings directory: nothing outside it is ever deleted. */
  dir: string;
  journal: UploadJournal;
  /**
   * MICROSTUDIO_RECORDER_KEEP_UPLOADED_HOURS. undefined: keep every local file forever; 0: delete
   * a file as soon as its upload is confirmed; N: delete confirmed files older than N hours (by
   * their modification time, i.e. when they were written).
   */
  keepHours: number | undefined;
  logger: Logger;
  /** Clock for ages (tests). */
  now?: () => number;
}

export interface RetentionStatus {
  /** null: local files are kept forever. */
  keepHours: number | null;
  /** Local files deleted (and their bytes) since the recorder started. */
  deletedFiles: number;
  deletedBytes: number;
}

/**
 * Deletes local recordings under the retention policy, and only files the bucket has: a journal
 * entry marked done (HeadObject confirmed its size and ETag) whose file is still the one that was
 * uploaded (same size), a regular file inside the recordings directory (symlinks resolved). A
 * pending entry is never touched, so during a storage outage every local file stays. A segment
 * and its sidecar are separate entries (separate keys): each goes when its own upload is confirmed.
 *
 * Each deletion is journaled (`deleted`), so it is not looked at again after a restart; a crash
 * between the unlink and that line only means the next sweep finds the file gone (ENOENT) and
 * journals it then. Deleting never blocks uploading or recording: a failure is logged and tried
 * again at the next sweep.
 *
 * Two triggers, because the two policies wait for different things: with 0 hours a file is due at
 * the moment of its confirmation, so the Uploader calls confirmed() right after markDone (no disk
 * space held until a timer fires); with N hours a file becomes due by the clock alone, with no
 * event to hang it on, so a periodic sweep (start()) finds it. The sweep also catches, for either
 * policy, files confirmed by an earlier run that ended before deleting them.
 */
export class Retention {
  readonly #o: RetentionOptions;
  readonly #keepMs: number | undefined;
  readonly #busy = new Set<string>();
  /** key → earliest time it may go (files seen too young; saves a stat per sweep). */
  readonly #notBefore = new Map<string, number>();
  /** Keys refused for safety (outside the directory, changed since upload): logged once. */
  readonly #refused = new Set<string>();
  #root: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  deletedFiles = 0;
  deletedBytes = 0;

  constructor(options: RetentionOptions) {
    const { keepHours } = options;
    if (keepHours !== undefined && !(Number.isFinite(keepHours) && keepHours >= 0))
      throw new RangeError(`keepHours must be a non-negative number of hours, not ${keepHours}`);
    this.#o = options;
    this.#keepMs = keepHours === undefined ? undefined : keepHours * HOUR_MS;
  }

  /** Whether any local file is ever deleted (false: keep forever). */
  get enabled(): boolean {
    return this.#keepMs !== undefined;
  }

  status(): RetentionStatus {
    return {
      keepHours: this.#o.keepHours ?? null,
      deletedFiles: this.deletedFiles,
      deletedBytes: this.deletedBytes,
    };
  }

  /** The Uploader confirmed `key` (after markDone): with a 0-hour policy its file goes now. */
  async confirmed(key: string): Promise<void> {
    if (this.#keepMs !== 0) return;
    const entry = this.#o.journal.get(key);
    if (entry) await this.#consider(entry, this.#now());
  }

  /** Deletes every confirmed file that is due. Never throws (failures are logged). */
  async sweep(): Promise<void> {
    if (this.#keepMs === undefined) return;
    if (this.#sweeping) return this.#sweeping;
    this.#sweeping = (async () => {
      const now = this.#now();
      for (const entry of this.#o.journal.all()) {
        if (!entry.done || entry.deleted) continue;
        if ((this.#notBefore.get(entry.key) ?? 0) > now) continue;
        await this.#consider(entry, now);
      }
    })().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  /** Sweeps now and then every `intervalMs`; nothing when files are kept forever. */
  start(intervalMs = SWEEP_INTERVAL_MS): void {
    if (this.#keepMs === undefined || this.#timer) return;
    const tick = (): void => {
      void this.sweep().finally(() => {
        if (this.#timer) this.#timer = setTimeout(tick, intervalMs).unref();
      });
    };
    this.#timer = setTimeout(tick, 0).unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
  }

  #now(): number {
    return this.#o.now?.() ?? Date.now();
  }

  async #consider(entry: JournalEntry, now: number): Promise<void> {
    const keepMs = this.#keepMs;
    // Only what the bucket confirmed, once; a pending entry is never deleted.
    if (keepMs === undefined || !entry.done || entry.deleted || this.#busy.has(entry.key)) return;
    if (this.#refused.has(entry.key)) return;
    this.#busy.add(entry.key);
    try {
      await this.#delete(entry, keepMs, now);
    } catch (error) {
      this.#o.logger.warn('cannot delete an uploaded local file; will try again', {
        key: entry.key,
        path: entry.path,
        error: error instanceof Error ? error.message : String(error),
      });
    } finally {
      this.#busy.delete(entry.key);
    }
  }

  async #delete(entry: JournalEntry, keepMs: number, now: number): Promise<void> {
    this.#root ??= await realpath(resolve(this.#o.dir));
    const root = this.#root;
    const lexical = resolve(entry.path);
    if (!isInside(resolve(this.#o.dir), lexical))
      return this.#refuse(entry, 'outside the recordings directory');
    let parent: string;
    try {
      parent = await realpath(dirname(lexical));
    } catch (error) {
      if (code(error) === 'ENOENT') return this.#gone(entry);
      throw error;
    }
    // A symlinked directory on the way must not lead out of the recordings directory either.
    if (!isInside(root, parent) && parent !== root)
      return this.#refuse(entry, 'outside the recordings directory');
    const path = join(parent, basename(lexical));
    let info: Awaited<ReturnType<typeof lstat>>;
    try {
      info = await lstat(path);
    } catch (error) {
      if (code(error) === 'ENOENT') return this.#gone(entry);
      throw error;
    }
    if (!info.isFile()) return this.#refuse(entry, 'not a regular file');
    if (info.size !== entry.size)
      return this.#refuse(entry, `changed since its upload (${info.size} bytes, uploaded ${entry.size})`);
    const due = info.mtimeMs + keepMs;
    if (due > now) {
      this.#notBefore.set(entry.key, due);
      return;
    }
    try {
      await unlink(path);
    } catch (error) {
      if (code(error) === 'ENOENT') return this.#gone(entry);
      throw error;
    }
    this.#o.journal.markDeleted(entry.key);
    this.#notBefore.delete(entry.key);
    this.deletedFiles += 1;
    this.deletedBytes += entry.size;
    this.#o.logger.info('deleted an uploaded local file', { key: entry.key, path, bytes: entry.size });
  }

  /** Already gone (deleted by hand, or by us just before a crash): journal it and move on. */
  #gone(entry: JournalEntry): void {
    this.#o.journal.markDeleted(entry.key);
    this.#notBefore.delete(entry.key);
  }

  #refuse(entry: JournalEntry, why: string): void {
    this.#refused.add(entry.key);
    this.#o.logger.warn(`not deleting an uploaded file: ${why}`, { key: entry.key, path: entry.path });
  }
}

/** Whether `path` is strictly inside directory `dir` (both absolute and normalized). */
function isInside(dir: string, path: string): boolean {
  const prefix = dir.endsWith(sep) ? dir : `${dir}${sep}`;
  return path.startsWith(prefix) && path.length > prefix.length;
}

const code = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | null)?.code;
