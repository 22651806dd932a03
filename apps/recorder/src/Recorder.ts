import { join } from 'node:path';
import { journalFile } from './journalFile.ts';
import type { Logger } from './log.ts';
import type { NodeClient } from './NodeClient.ts';
import type { PortAllocator } from './ports.ts';
import { TrackRecorder } from './TrackRecorder.ts';
import type { Uploader } from './Uploader.ts';
import type { UploadJournal } from './UploadJournal.ts';

/**
 * Records every track of a room's sources: follows the node's source list, starts a TrackRecorder
 * per new producer, and journals each finished segment (and its sidecar) for upload under
 * `<room>/<source>/<kind>-<producer>/` — with or without a bucket configured, so segments
 * recorded without one are uploaded once it is set. Tracks that end (producer closed) are stopped.
 */
export class Recorder {
  readonly #tracks = new Map<string, TrackRecorder>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly o: {
      node: NodeClient;
      roomId: string;
      dir: string;
      ports: PortAllocator;
      ip: string;
      segmentSeconds: number;
      journal: UploadJournal;
      uploader: Uploader | undefined;
      logger: Logger;
    },
  ) {}

  follow(intervalMs = 2000): void {
    const tick = (): void => {
      this.sync()
        .catch((error: unknown) => this.o.logger.warn('cannot list sources', { error: String(error) }))
        .finally(() => {
          this.#timer = setTimeout(tick, intervalMs);
        });
    };
    tick();
  }

  async sync(): Promise<void> {
    const sources = await this.o.node.sources(this.o.roomId).catch((error: unknown) => {
      if ((error as { status?: number }).status === 404) return []; // room not open yet
      throw error;
    });
    const live = new Set<string>();
    for (const source of sources) {
      for (const track of source.tracks) {
        live.add(track.producerId);
        if (this.#tracks.has(track.producerId)) continue;
        const prefix = `${this.o.roomId}/${source.sourceId}/${track.kind}-${track.producerId.slice(0, 8)}`;
        const recorder = new TrackRecorder({
          node: this.o.node,
          roomId: this.o.roomId,
          producerId: track.producerId,
          dir: join(this.o.dir, prefix),
          ip: this.o.ip,
          ports: this.o.ports,
          segmentSeconds: this.o.segmentSeconds,
          logger: this.o.logger.child(source.sourceId),
          onSegment: async (path, sidecar) => {
            try {
              await this.#journal(`${prefix}/${sidecar.file}`, path);
              await this.#journal(`${prefix}/${sidecar.file}.json`, `${path}.json`);
            } catch (error) {
              this.o.logger.error('cannot journal segment', { file: path, error: String(error) });
            }
          },
        });
        this.#tracks.set(track.producerId, recorder);
        recorder.start().catch((error: unknown) => {
          this.o.logger.error('cannot record track', { source: source.sourceId, error: String(error) });
          this.#tracks.delete(track.producerId);
        });
      }
    }
    for (const [producerId, recorder] of this.#tracks) {
      if (live.has(producerId)) continue;
      this.#tracks.delete(producerId);
      await recorder.stop();
    }
  }

  #journal(key: string, path: string): Promise<void> {
    return this.o.uploader ? this.o.uploader.enqueue(key, path) : journalFile(this.o.journal, key, path);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    await Promise.all([...this.#tracks.values()].map((t) => t.stop()));
    this.#tracks.clear();
  }
}
