import type { NodeNotificationOf, RoomSnapshot, Source } from '@microstudio/protocol';
import type { types } from 'mediasoup';
import { NotFoundError, UpstreamUnavailableError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomUpstream } from '../rooms/types.ts';
import { type PipeListen, pipeListenInfo } from './MirrorServer.ts';
import type { SiteLink } from './SiteLink.ts';

export interface RoomMirrorOptions {
  room: Room;
  link: SiteLink;
  listen: PipeListen;
  /** How long the pipe stays after the last viewer left (MICROSTUDIO_MIRROR_IDLE_MS). */
  idleMs: number;
  /** Delay between attempts to open the pipe while viewers wait (default 1000 ms). */
  retryMs?: number;
  logger: Logger;
}

/** The edge's end of one room's pipe. Thrown away whole when the link or the site drops it. */
interface EdgePipe {
  pipeId: string;
  transport: types.PipeTransport;
  /** site producer id (kept by the pipe) → the pipe producer on this edge's router. */
  producers: Map<string, types.Producer>;
  pending: Map<string, Promise<types.Producer>>;
}

/**
 * One edge room's upstream: opens a pipe to the site when the room has viewers, follows the
 * site's sources and program, pipes the program and preview sources at once (so a cut at the
 * site is a switch between producers already here) and any other producer a viewer asks for,
 * and lets the pipe go `idleMs` after the last viewer left. When the uplink drops, viewers keep
 * the last state with `uplink: 'down'`; when it returns the pipe is opened afresh.
 */
export class RoomMirror implements RoomUpstream {
  readonly #options: RoomMirrorOptions;
  readonly #room: Room;
  readonly #link: SiteLink;
  readonly #log: Logger;
  #siteRoom: RoomSnapshot | undefined;
  #pipe: EdgePipe | undefined;
  #opening: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: RoomMirrorOptions) {
    this.#options = options;
    this.#room = options.room;
    this.#link = options.link;
    this.#log = options.logger;
    const room = this.#room;
    room.observer.on('newpeer', () => {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
      this.#ensureOpen();
    });
    room.on('empty', () => this.#scheduleIdle());
    // The edge's worker died: the pipe died with the router; open a new one on the new router.
    room.on('recovered', () => {
      this.#dropPipe('edge worker restarted', false);
      this.#ensureOpen();
    });
    room.on('@close', () => this.close());
  }

  get uplink(): 'up' | 'down' {
    return this.#link.state === 'up' && this.#pipe ? 'up' : 'down';
  }

  get pipeOpen(): boolean {
    return this.#pipe !== undefined;
  }

  get pipeId(): string | undefined {
    return this.#pipe?.pipeId;
  }

  /** The producers piped from the site now. */
  pipedProducers(): types.Producer[] {
    return [...(this.#pipe?.producers.values() ?? [])];
  }

  sources(): Source[] {
    return this.#siteRoom?.sources ?? [];
  }

  async producer(producerId: string): Promise<types.Producer> {
    if (!this.#siteRoom?.sources.some((s) => s.tracks.some((t) => t.producerId === producerId))) {
      throw new NotFoundError('producer', producerId);
    }
    if (!this.#pipe && this.#opening) await this.#opening;
    const pipe = this.#pipe;
    if (!pipe)
      throw new UpstreamUnavailableError("the edge's pipe to the site is not open: retrying by itself");
    const piped = pipe.producers.get(producerId);
    if (piped) return piped;
    const pending = pipe.pending.get(producerId);
    if (pending) return pending;
    const piping = this.#pipeProducer(pipe, producerId).finally(() => pipe.pending.delete(producerId));
    pipe.pending.set(producerId, piping);
    return piping;
  }

  // ── link events (routed here by the EdgeService) ──────────────────────────────────────────

  onLinkState(state: 'up' | 'down'): void {
    if (state === 'down') {
      // The site has let (or will let) this pipe go; viewers keep their last frame under a slate.
      this.#room.refreshState();
      return;
    }
    this.#dropPipe('uplink came back', false);
    this.#ensureOpen();
  }

  onRoom({ pipeId, room }: NodeNotificationOf<'mirror:room'>): void {
    if (pipeId !== this.#pipe?.pipeId) return;
    this.#siteRoom = room;
    this.#room.refreshState();
    this.#prefetch();
  }

  onProgram({ pipeId, program }: NodeNotificationOf<'mirror:program'>): void {
    if (pipeId !== this.#pipe?.pipeId) return;
    if (this.#siteRoom) this.#siteRoom = { ...this.#siteRoom, program };
    this.#room.bus.adopt(program);
    this.#prefetch();
  }

  onProducer({ pipeId, producerId, event }: NodeNotificationOf<'mirror:producer'>): void {
    const producer = pipeId === this.#pipe?.pipeId ? this.#pipe.producers.get(producerId) : undefined;
    if (!producer) return;
    if (event === 'close') producer.close();
    else if (event === 'pause') void producer.pause().catch(() => {});
    else void producer.resume().catch(() => {});
  }

  onClosed({ pipeId, reason }: NodeNotificationOf<'mirror:closed'>): void {
    if (pipeId !== this.#pipe?.pipeId) return;
    this.#log.warn('the site closed the pipe', { room: this.#room.id, reason });
    this.#dropPipe(reason, false);
    this.#ensureOpen();
  }

  /** Lets the pipe go (telling the site when the link is up). Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#idleTimer);
    this.#dropPipe('room closed', true);
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────

  #wanted(): boolean {
    return !this.#closed && this.#room.peerCount > 0;
  }

  #ensureOpen(): void {
    if (this.#pipe || this.#opening || !this.#wanted()) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#opening = this.#open()
      .catch((error: unknown) => {
        this.#log.once('warn', `mirror-open:${this.#room.id}:${String(error)}`, 'cannot open the pipe yet', {
          room: this.#room.id,
          error: String(error),
        });
        if (!this.#wanted()) return;
        this.#retryTimer = setTimeout(() => this.#ensureOpen(), this.#options.retryMs ?? 1000);
        this.#retryTimer.unref();
      })
      .finally(() => {
        this.#opening = undefined;
      });
  }

  async #open(): Promise<void> {
    const opened = await this.#link.request('mirror:open', { roomId: this.#room.id });
    let transport: types.PipeTransport | undefined;
    try {
      transport = await this.#room.router.createPipeTransport({
        listenInfo: pipeListenInfo(this.#options.listen),
        enableSrtp: true,
        enableRtx: true,
      });
      await transport.connect({
        ip: opened.site.ip,
        port: opened.site.port,
        srtpParameters: opened.site.srtpParameters,
      });
      const srtpParameters = transport.srtpParameters;
      if (!srtpParameters) throw new Error('pipe transport has no SRTP parameters');
      await this.#link.request('mirror:connect', {
        pipeId: opened.pipeId,
        edge: { ip: this.#options.listen.announcedAddress, port: transport.tuple.localPort, srtpParameters },
      });
    } catch (error) {
      transport?.close();
      void this.#link.request('mirror:close', { pipeId: opened.pipeId }).catch(() => {});
      throw error;
    }
    if (this.#closed || !this.#wanted()) {
      transport.close();
      void this.#link.request('mirror:close', { pipeId: opened.pipeId }).catch(() => {});
      return;
    }
    this.#pipe = { pipeId: opened.pipeId, transport, producers: new Map(), pending: new Map() };
    this.#siteRoom = opened.room;
    this.#log.info('pipe open', {
      room: this.#room.id,
      pipe: opened.pipeId,
      sources: opened.room.sources.length,
    });
    this.#room.bus.adopt(opened.room.program);
    this.#room.refreshState();
    this.#prefetch();
  }

  async #pipeProducer(pipe: EdgePipe, producerId: string): Promise<types.Producer> {
    const answer = await this.#link.request('mirror:consume', { pipeId: pipe.pipeId, producerId });
    if (pipe !== this.#pipe) throw new UpstreamUnavailableError('the pipe closed while piping a producer');
    const producer = await pipe.transport.produce({
      id: answer.producerId,
      kind: answer.kind,
      rtpParameters: answer.rtpParameters as types.RtpParameters,
      paused: answer.paused,
      appData: { purpose: answer.purpose },
    });
    if (pipe !== this.#pipe) {
      producer.close();
      throw new UpstreamUnavailableError('the pipe closed while piping a producer');
    }
    pipe.producers.set(producerId, producer);
    producer.observer.once('close', () => {
      if (pipe.producers.get(producerId) === producer) pipe.producers.delete(producerId);
    });
    return producer;
  }

  /** Pipes what viewers will need next: the program, the preview and a fade's target. */
  #prefetch(): void {
    const room = this.#siteRoom;
    if (!room || !this.#pipe) return;
    const { program } = room;
    const wanted = new Set([
      program.programSourceId,
      program.previewSourceId,
      program.transition?.toSourceId,
    ]);
    for (const source of room.sources) {
      if (!wanted.has(source.sourceId)) continue;
      for (const track of source.tracks) {
        this.producer(track.producerId).catch((error: unknown) =>
          this.#log.debug('prefetch failed', { room: this.#room.id, error: String(error) }),
        );
      }
    }
  }

  #scheduleIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#room.peerCount > 0) return;
      this.#log.info('unpiping an idle room', { room: this.#room.id });
      this.#dropPipe('no viewers left', true);
    }, this.#options.idleMs);
    this.#idleTimer.unref();
  }

  #dropPipe(reason: string, tellSite: boolean): void {
    const pipe = this.#pipe;
    if (!pipe) return;
    this.#pipe = undefined;
    this.#log.info('pipe dropped', { room: this.#room.id, pipe: pipe.pipeId, reason });
    // Closing the transport closes the pipe producers; viewers' consumers close with them and
    // their pages consume again from the next pipe.
    pipe.transport.close();
    if (tellSite && this.#link.state === 'up') {
      void this.#link.request('mirror:close', { pipeId: pipe.pipeId }).catch(() => {});
    }
  }
}
