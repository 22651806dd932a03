import type { RoomSnapshot, TrackPurpose } from '@microstudio/protocol';
import { Emitter } from './emitter.ts';
import type { StudioSession } from './session.ts';
import type { RemoteTrack } from './tracks.ts';

/** One wanted feed: a source's camera or mic, video at a simulcast layer. */
export interface FeedSpec {
  sourceId: string;
  purpose: TrackPurpose;
  /** Video only: 0 = lowest (multiview), 2 = top (monitors). */
  spatialLayer?: number;
}

export function feedKey({ sourceId, purpose, spatialLayer }: FeedSpec): string {
  return purpose === 'mic' ? `${sourceId}|mic` : `${sourceId}|${purpose}|${spatialLayer ?? 2}`;
}

/** The producer currently serving a spec in a room snapshot, if any. */
export function producerFor(room: RoomSnapshot | null, spec: FeedSpec): string | null {
  const source = room?.sources.find((s) => s.sourceId === spec.sourceId);
  return source?.tracks.find((t) => t.purpose === spec.purpose)?.producerId ?? null;
}

interface Entry {
  spec: FeedSpec;
  producerId: string;
  remote: RemoteTrack | null;
  off: (() => void)[];
}

/**
 * Keeps a wanted set of source feeds consumed, whatever happens underneath: a camera that
 * re-publishes (new producer), a reconnect, a re-created room. Pages say what they want to see
 * (setWanted) and listen to 'track'; they never deal with producer or consumer ids.
 */
export class SourceFeeds extends Emitter<{ track: [key: string, track: MediaStreamTrack | null] }> {
  readonly #session: StudioSession;
  readonly #entries = new Map<string, Entry>();
  #wanted = new Map<string, FeedSpec>();
  #running = false;
  #again = false;
  #closed = false;
  readonly #offSession: (() => void)[];

  constructor(session: StudioSession) {
    super();
    this.#session = session;
    this.#offSession = [
      session.on('room', () => this.#schedule()),
      session.on('state', (state) => {
        if (state === 'connected') this.#schedule();
      }),
    ];
  }

  setWanted(specs: readonly FeedSpec[]): void {
    this.#wanted = new Map(specs.map((spec) => [feedKey(spec), spec]));
    this.#schedule();
  }

  track(key: string): MediaStreamTrack | null {
    return this.#entries.get(key)?.remote?.track ?? null;
  }

  remote(key: string): RemoteTrack | null {
    return this.#entries.get(key)?.remote ?? null;
  }

  close(): void {
    this.#closed = true;
    for (const off of this.#offSession) off();
    for (const key of [...this.#entries.keys()]) this.#drop(key, false);
    this.removeAllListeners();
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    void this.#reconcile().finally(() => {
      this.#running = false;
      if (this.#again) {
        this.#again = false;
        this.#schedule();
      }
    });
  }

  #drop(key: string, notify = true): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    for (const off of entry.off) off();
    if (entry.remote) void this.#session.stopConsuming(entry.remote).catch(() => undefined);
    if (notify) this.emit('track', key, null);
  }

  async #reconcile(): Promise<void> {
    for (const key of [...this.#entries.keys()]) {
      if (!this.#wanted.has(key)) this.#drop(key);
    }
    if (this.#session.state !== 'connected') return;
    const room = this.#session.room;
    const jobs: Promise<void>[] = [];
    for (const [key, spec] of this.#wanted) {
      const producerId = producerFor(room, spec);
      const entry = this.#entries.get(key);
      if (entry && entry.producerId === producerId) continue;
      if (entry) this.#drop(key);
      if (producerId) jobs.push(this.#open(key, spec, producerId));
    }
    await Promise.all(jobs);
  }

  async #open(key: string, spec: FeedSpec, producerId: string): Promise<void> {
    const entry: Entry = { spec, producerId, remote: null, off: [] };
    this.#entries.set(key, entry);
    try {
      const options = spec.purpose === 'mic' ? {} : { spatialLayer: spec.spatialLayer ?? 2 };
      const remote = await this.#session.consume(producerId, options);
      if (this.#closed || this.#entries.get(key) !== entry) {
        void this.#session.stopConsuming(remote).catch(() => undefined);
        return;
      }
      entry.remote = remote;
      entry.off.push(
        remote.on('track', (track) => this.emit('track', key, track)),
        remote.on('ended', () => {
          if (this.#entries.get(key) !== entry) return;
          this.#entries.delete(key);
          this.emit('track', key, null);
          this.#schedule();
        }),
      );
      if (remote.track) this.emit('track', key, remote.track);
    } catch {
      // Not consumable now (reconnecting, producer gone): forget it, the next room update retries.
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    }
  }
}
