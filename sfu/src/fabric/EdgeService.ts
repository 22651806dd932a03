import { MAX_UPLINK_RTT_MS, type UplinkRtt } from '@microstudio/protocol';
import type { types } from 'mediasoup';
import type { Logger } from '../log.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { Fabric } from './Fabric.ts';
import type { PipeListen } from './MirrorServer.ts';
import { RoomMirror } from './RoomMirror.ts';
import { SiteLink } from './SiteLink.ts';

export interface EdgeServiceOptions {
  registry: RoomRegistry;
  fabric: Fabric;
  nodeId: string;
  /** Mints the `node` token the site's node channel asks for (see SiteLink). */
  nodeToken: () => Promise<string>;
  listen: PipeListen;
  idleMs: number;
  logger: Logger;
  /** Called with every answered probe's round trip, ms (the node's uplink RTT histogram). */
  onRtt?: (rttMs: number) => void;
}

/**
 * The edge role: one link to the site, and a RoomMirror as the upstream of every room this node
 * opens (attached before anyone can join it). Routes the site's notifications to the mirrors.
 */
export class EdgeService {
  readonly link: SiteLink;
  readonly #mirrors = new Map<Room, RoomMirror>();
  readonly #options: EdgeServiceOptions;
  readonly #onNewRoom: (room: Room) => void;
  #closed = false;

  constructor(options: EdgeServiceOptions) {
    this.#options = options;
    const log = options.logger;
    this.link = new SiteLink({
      fabric: options.fabric,
      nodeId: options.nodeId,
      nodeToken: options.nodeToken,
      logger: log.child('uplink'),
    });
    this.#onNewRoom = (room) => {
      const mirror = new RoomMirror({
        room,
        link: this.link,
        listen: options.listen,
        idleMs: options.idleMs,
        logger: log.child('mirror'),
      });
      room.attachUpstream(mirror);
      this.#mirrors.set(room, mirror);
      room.on('@close', () => this.#mirrors.delete(room));
    };
    options.registry.observer.on('newroom', this.#onNewRoom);
    if (options.onRtt) this.link.on('rtt', options.onRtt);
    this.link.on('state', (state) => {
      for (const mirror of this.#mirrors.values()) mirror.onLinkState(state);
    });
    this.link.on('mirror:room', (n) => {
      for (const mirror of this.#mirrors.values()) mirror.onRoom(n);
    });
    this.link.on('mirror:program', (n) => {
      for (const mirror of this.#mirrors.values()) mirror.onProgram(n);
    });
    this.link.on('mirror:producer', (n) => {
      for (const mirror of this.#mirrors.values()) mirror.onProducer(n);
    });
    this.link.on('mirror:closed', (n) => {
      for (const mirror of this.#mirrors.values()) mirror.onClosed(n);
    });
    this.link.start();
  }

  get uplink(): 'up' | 'down' {
    return this.link.state;
  }

  /**
   * The link's round-trip time as this node announces it (ms, to 0.01): the moving average and
   * the p95 of the recent probes; nothing while the link is down or not yet measured. Clamped to
   * the announcement's bound: an out-of-bound figure would fail the heartbeat, hiding the edge.
   */
  get uplinkRtt(): UplinkRtt {
    const rtt = this.link.rtt;
    if (!rtt) return {};
    const round = (ms: number) => Math.min(MAX_UPLINK_RTT_MS, Math.round(ms * 100) / 100);
    return { uplinkRttMs: round(rtt.smoothedMs), uplinkRttP95Ms: round(rtt.p95Ms) };
  }

  /** Open pipes to the site (one per mirrored room). */
  get pipeCount(): number {
    let n = 0;
    for (const mirror of this.#mirrors.values()) if (mirror.pipeOpen) n += 1;
    return n;
  }

  pipedProducers(): types.Producer[] {
    return [...this.#mirrors.values()].flatMap((mirror) => mirror.pipedProducers());
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.registry.observer.off('newroom', this.#onNewRoom);
    for (const mirror of this.#mirrors.values()) mirror.close();
    this.#mirrors.clear();
    this.link.close();
  }
}
