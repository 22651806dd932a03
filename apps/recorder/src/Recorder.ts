import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RecorderStatus } from '@microstudio/protocol';
import type { DiskGuard } from './DiskGuard.ts';
import { journalFile } from './journalFile.ts';
import type { Logger } from './log.ts';
import type { NodeClient, SourceInfo } from './NodeClient.ts';
import type { PortAllocator } from './ports.ts';
import { RecentErrors } from './RecentErrors.ts';
import { TrackRecorder } from './TrackRecorder.ts';
import type { Uploader } from './Uploader.ts';
import type { UploadJournal } from './UploadJournal.ts';

/** This recorder process in status reports. */
export const RECORDER_ID = `${hostname()}:${process.pid}`;

/** A track whose ffmpeg died is tried again after this long (not in a tight loop). */
const RETRY_FAILED_MS = 5000;

export interface RecorderOptions {
  node: NodeClient;
  roomId: string;
  dir: string;
  ports: PortAllocator;
  ip: string;
  segmentSeconds: number;
  journal: UploadJournal;
  uploader: Uploader | undefined;
  /** Free space and writability of `dir`: checked every tick, before anything starts. */
  disk: DiskGuard;
  /** Record every source whatever the plan says (MICROSTUDIO_RECORD_ALL). */
  recordAll?: boolean;
  logger: Logger;
}

/**
 * Records the tracks of the sources the room's plan names (the control room's Record), or every
 * source with `recordAll`: every tick it checks the disk, follows the node's source list (a
 * TrackRecorder per planned producer, stopped when the producer ends or leaves the plan, or when
 * the disk falls below its floor), journals each finished segment (and its sidecar) for upload
 * under `<room>/<source>/<kind>-<producer>/`, and reports its status to the node for the
 * control room. A track whose ffmpeg dies is reported and retried; the others go on.
 */
export class Recorder {
  readonly #o: RecorderOptions;
  readonly #tracks = new Map<string, { source: SourceInfo; track: TrackRecorder }>();
  /** producerId → when its ffmpeg last died. */
  readonly #failedAt = new Map<string, number>();
  readonly errors = new RecentErrors();
  readonly recorderId = RECORDER_ID;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: RecorderOptions) {
    this.#o = options;
  }

  follow(intervalMs = 2000): void {
    const tick = (): void => {
      this.tick()
        .catch((error: unknown) => this.#o.logger.warn('recorder tick failed', { error: String(error) }))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(tick, intervalMs);
        });
    };
    tick();
  }

  /** Disk check, sync with the node's plan, status report. */
  async tick(): Promise<void> {
    const disk = await this.#o.disk.check();
    if (disk.problem) this.errors.note(disk.problem);
    let sources: SourceInfo[] | undefined;
    try {
      sources = (await this.#o.node.room(this.#o.roomId)).sources;
    } catch (error) {
      // Room not open yet (404): nothing to record. Node unreachable: keep recording what runs.
      if ((error as { status?: number }).status === 404) sources = [];
      else this.#o.logger.warn('cannot list sources', { error: String(error) });
    }
    if (sources) await this.sync(sources);
    await this.#o.node.report(this.#o.roomId, await this.status()).catch((error: unknown) => {
      if ((error as { status?: number }).status !== 404)
        this.#o.logger.warn('cannot report status', { error: String(error) });
    });
  }

  /** Starts and stops track recorders so that exactly the planned, live producers record. */
  async sync(sources: SourceInfo[]): Promise<void> {
    const wanted = new Map<string, SourceInfo>();
    if (this.#o.disk.writable)
      for (const source of sources)
        if (source.record || this.#o.recordAll)
          for (const track of source.tracks) wanted.set(track.producerId, source);
    for (const [producerId, { source, track }] of this.#tracks) {
      if (track.failure) {
        this.errors.note(`${source.displayName}: ${track.failure}`, source.sourceId);
        this.#failedAt.set(producerId, Date.now());
      } else if (wanted.has(producerId)) continue;
      this.#tracks.delete(producerId);
      await track.stop();
    }
    for (const [producerId, source] of wanted) {
      if (this.#tracks.has(producerId)) continue;
      if (Date.now() - (this.#failedAt.get(producerId) ?? 0) < RETRY_FAILED_MS) continue;
      const kind = source.tracks.find((t) => t.producerId === producerId)?.kind ?? 'video';
      this.#start(source, producerId, kind);
    }
  }

  #start(source: SourceInfo, producerId: string, kind: 'audio' | 'video'): void {
    const prefix = `${this.#o.roomId}/${source.sourceId}/${kind}-${producerId.slice(0, 8)}`;
    const track = new TrackRecorder({
      node: this.#o.node,
      roomId: this.#o.roomId,
      producerId,
      dir: join(this.#o.dir, prefix),
      ip: this.#o.ip,
      ports: this.#o.ports,
      segmentSeconds: this.#o.segmentSeconds,
      logger: this.#o.logger.child(source.sourceId),
      onSegment: async (path, sidecar) => {
        try {
          await this.#journal(`${prefix}/${sidecar.file}`, path);
          await this.#journal(`${prefix}/${sidecar.file}.json`, `${path}.json`);
        } catch (error) {
          this.errors.note(`cannot journal ${sidecar.file} for upload: ${String(error)}`, source.sourceId);
          this.#o.logger.error('cannot journal segment', { file: path, error: String(error) });
        }
      },
    });
    this.#tracks.set(producerId, { source, track });
    track.start().catch((error: unknown) => {
      this.errors.note(`cannot record ${source.displayName} (${kind}): ${String(error)}`, source.sourceId);
      this.#o.logger.error('cannot record track', { source: source.sourceId, error: String(error) });
      this.#failedAt.set(producerId, Date.now());
      if (this.#tracks.get(producerId)?.track === track) this.#tracks.delete(producerId);
    });
  }

  /** What the control room shows: tracks, disk, upload queue, recent errors. */
  async status(): Promise<RecorderStatus> {
    const tracks = await Promise.all(
      [...this.#tracks.values()].map(async ({ source, track }) => ({
        sourceId: source.sourceId,
        kind: track.info?.kind ?? 'video',
        state: track.state,
        seconds: Math.round(track.seconds * 10) / 10,
        bytes: await track.bytes(),
        segments: track.segments,
        ...(track.failure ? { error: track.failure.slice(0, 500) } : {}),
      })),
    );
    return {
      recorderId: this.recorderId,
      at: Date.now(),
      disk: this.#o.disk.status,
      uploads: this.#uploads(),
      tracks: tracks.slice(0, 64),
      errors: this.errors.list(),
    };
  }

  #uploads(): RecorderStatus['uploads'] {
    if (this.#o.uploader) return this.#o.uploader.status();
    // No bucket: segments are journaled all the same, and uploaded once one is configured.
    const pending = this.#o.journal.pending();
    const pendingBytes = pending.reduce((n, e) => n + e.size, 0);
    return {
      state: 'off',
      bucket: null,
      pending: pending.length,
      pendingBytes,
      confirmed: 0,
      lastError: null,
    };
  }

  #journal(key: string, path: string): Promise<void> {
    return this.#o.uploader ? this.#o.uploader.enqueue(key, path) : journalFile(this.#o.journal, key, path);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await Promise.all([...this.#tracks.values()].map(({ track }) => track.stop()));
    this.#tracks.clear();
  }
}
