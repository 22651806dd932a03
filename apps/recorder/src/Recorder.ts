import { join } from 'node:path';
import type { Logger } from './log.ts';
import type { NodeClient } from './NodeClient.ts';
import type { PortAllocator } from './ports.ts';
import { TrackRecorder } from './TrackRecorder.ts';
import type { Uploader } from './Uploader.ts';

/**
 * Records every track of a room's sources: follows the node's source list, starts a TrackRecorder
 * per new producer, and journals each finished segment (and its sidecar) for upload under
 * `<room>/<source>/<kind>-<producer>/`. Tracks that end (producer closed) are stopped.
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
        const { rtpPort, rtcpPort } = await this.o.ports.allocate();
        const prefix = `${this.o.roomId}/${source.sourceId}/${track.kind}-${track.producerId.slice(0, 8)}`;
        const recorder = new TrackRecorder({
          node: this.o.node,
          roomId: this.o.roomId,
          producerId: track.producerId,
          dir: join(this.o.dir, prefix),
          ip: this.o.ip,
          rtpPort,
          rtcpPort,
          segmentSeconds: this.o.segmentSeconds,
          logger: this.o.logger.child(source.sourceId),
          onSegment: (path, sidecar) => {
            const uploader = this.o.uploader;
            if (!uploader) return;
            const enqueue = async (): Promise<void> => {
              await uploader.enqueue(`${prefix}/${sidecar.file}`, path);
              await uploader.enqueue(`${prefix}/${sidecar.file}.json`, `${path}.json`);
            };
            enqueue().catch((error: unknown) =>
              this.o.logger.error('cannot journal segment', { file: path, error: String(error) }),
            );
          },
        });
        this.#tracks.set(track.producerId, recorder);
        recorder.start().catch((error: unknown) => {
          this.o.logger.error('cannot record track', { source: source.sourceId, error: String(error) });
          this.#tracks.delete(track.producerId);
          this.o.ports.release(rtpPort);
        });
      }
    }
    for (const [producerId, recorder] of this.#tracks) {
      if (live.has(producerId)) continue;
      this.#tracks.delete(producerId);
      await recorder.stop();
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    await Promise.all([...this.#tracks.values()].map((t) => t.stop()));
    this.#tracks.clear();
  }
}
