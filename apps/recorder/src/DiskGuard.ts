import { mkdir, statfs, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RecorderStatus } from '@microstudio/protocol';

export type DiskReport = RecorderStatus['disk'] & {
  /** Why the directory is unusable (state 'error'), or how full it is (state 'full'). */
  problem?: string;
};

const MB = 1024 * 1024;
const human = (bytes: number): string =>
  bytes >= 1024 * MB ? `${(bytes / 1024 / MB).toFixed(1)} GB` : `${Math.round(bytes / MB)} MB`;

/**
 * The recordings filesystem as the recorder needs it: writable (a probe file is written and
 * removed: permissions, a read-only mount and a missing directory all show up, even for root) and
 * with room left (the directory is created when missing). Below `minBytes` the recorder stops recording cleanly, so ffmpeg never hits
 * ENOSPC halfway through a segment; below `warnBytes` the control room warns.
 */
export class DiskGuard {
  readonly #dir: string;
  readonly #warnBytes: number;
  readonly #minBytes: number;
  #last: DiskReport;

  constructor(options: { dir: string; warnBytes: number; minBytes: number }) {
    this.#dir = options.dir;
    this.#warnBytes = options.warnBytes;
    this.#minBytes = options.minBytes;
    this.#last = {
      path: options.dir,
      freeBytes: 0,
      totalBytes: 0,
      warnBytes: options.warnBytes,
      state: 'ok',
    };
  }

  /** The latest check's result. */
  get last(): DiskReport {
    return this.#last;
  }

  /** The latest check as the control room gets it (its `problem` goes to the errors list). */
  get status(): RecorderStatus['disk'] {
    const { problem: _problem, ...disk } = this.#last;
    return disk;
  }

  /** Whether new segments may be written now (by the latest check). */
  get writable(): boolean {
    return this.#last.state === 'ok' || this.#last.state === 'low';
  }

  async check(): Promise<DiskReport> {
    const base = { path: this.#dir, warnBytes: this.#warnBytes };
    const probe = join(this.#dir, '.write-probe');
    try {
      // Made if missing (a disk mounted late): its own error (EROFS, EACCES) is the one to tell.
      await mkdir(this.#dir, { recursive: true });
      await writeFile(probe, 'probe\n');
      await unlink(probe);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      const reason =
        code === 'EROFS'
          ? 'the filesystem is read-only'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : code === 'ENOENT' || code === 'ENOTDIR'
              ? 'the directory does not exist'
              : code === 'ENOSPC'
                ? 'the disk is full'
                : String((error as Error).message);
      this.#last = {
        ...base,
        freeBytes: 0,
        totalBytes: 0,
        state: code === 'ENOSPC' ? 'full' : 'error',
        problem: `cannot write recordings to ${this.#dir}: ${reason} (${code})`,
      };
      return this.#last;
    }
    const stats = await statfs(this.#dir);
    const freeBytes = stats.bavail * stats.bsize;
    const totalBytes = stats.blocks * stats.bsize;
    const state = freeBytes < this.#minBytes ? 'full' : freeBytes < this.#warnBytes ? 'low' : 'ok';
    this.#last = {
      ...base,
      freeBytes,
      totalBytes,
      state,
      ...(state === 'full'
        ? {
            problem: `disk full: ${human(freeBytes)} free on ${this.#dir}, below the ${human(this.#minBytes)} floor (MICROSTUDIO_RECORDER_DISK_MIN_BYTES): recording stopped; free space to resume`,
          }
        : {}),
    };
    return this.#last;
  }
}
