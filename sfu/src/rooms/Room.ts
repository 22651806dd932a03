import {
  type DtlsParameters,
  ErrorCode,
  type Guest,
  type GuestStatus,
  MAX_GUESTS_PER_ROOM,
  MAX_SOURCES_PER_ROOM,
  type MediaKind,
  type NotificationName,
  type NotificationOf,
  type ProgramState,
  type RoomSnapshot,
  type RtpCapabilities,
  type RtpParameters,
  type TrackPurpose,
  type TransportOptions,
} from '@microstudio/protocol';
import type { types } from 'mediasoup';
import {
  BadRequestError,
  ForbiddenError,
  InvalidStateError,
  LimitReachedError,
  NotFoundError,
  RefusedError,
  RoomRecoveringError,
} from '../errors.ts';
import type { Logger } from '../log.ts';
import { type BusClock, ProgramBus } from '../program/ProgramBus.ts';
import { SafeEmitter } from '../util/SafeEmitter.ts';
import type { PoolWorker } from '../workers/WorkerPool.ts';
import { Peer } from './Peer.ts';
import { qualityOf } from './quality.ts';
import type {
  GuestEntry,
  JoinParams,
  ProducerAppData,
  RoomLimits,
  RoomUpstream,
  TransportAppData,
  TransportDirection,
} from './types.ts';
import { toWire } from './wire.ts';

/** mediasoup's own default; the node's configuration normally overrides it. */
const DEFAULT_INITIAL_OUTGOING_BITRATE = 600_000;

export type RouterFactory = () => Promise<{ router: types.Router; worker: PoolWorker }>;

export interface RoomOptions {
  roomId: string;
  router: types.Router;
  worker: PoolWorker;
  limits: RoomLimits;
  defaultTransitionMs: number;
  /** Bandwidth estimate a new WebRTC transport starts from (bits/s). */
  initialOutgoingBitrate?: number;
  /** Where a new router comes from when this room's worker dies. */
  createRouter: RouterFactory;
  logger: Logger;
  clock?: BusClock;
}

export type RoomEvents = {
  /** The last peer left (the registry may close the room after a grace period). */
  empty: [];
  /** The room's worker died and it has a new router. */
  recovered: [slot: number];
  '@close': [];
};

export type RoomObserverEvents = {
  newpeer: [Peer];
  peerleft: [Peer];
  recovering: [];
};

/**
 * A room: one router on a pool worker, its peers, and the program bus. The Room, its id and its
 * bus outlive the router: when the worker dies the room gets a new router and every peer is
 * detached and asked to re-join (their media died with the worker).
 */
export class Room extends SafeEmitter<RoomEvents> {
  readonly id: string;
  readonly bus: ProgramBus;
  readonly observer: SafeEmitter<RoomObserverEvents>;
  readonly #limits: RoomLimits;
  readonly #initialOutgoingBitrate: number;
  readonly #createRouter: RouterFactory;
  readonly #log: Logger;
  readonly #peers = new Map<string, Peer>();
  /** producerId → owner, across the room (a consumer may target any peer's producer). */
  readonly #producerOwners = new Map<string, Peer>();
  /** Guests by client id: waiting or admitted (kept across their reconnects, dropped on reject/remove). */
  readonly #guests = new Map<string, GuestEntry>();
  #router: types.Router;
  #worker: PoolWorker;
  #recovery: Promise<void> | undefined;
  #upstream: RoomUpstream | undefined;
  #closed = false;

  constructor(options: RoomOptions) {
    const onListenerError = (event: string, error: unknown) =>
      options.logger.error('room listener threw', { room: options.roomId, event, error: String(error) });
    super(onListenerError);
    this.observer = new SafeEmitter(onListenerError);
    this.id = options.roomId;
    this.#limits = options.limits;
    this.#initialOutgoingBitrate = options.initialOutgoingBitrate ?? DEFAULT_INITIAL_OUTGOING_BITRATE;
    this.#createRouter = options.createRouter;
    this.#log = options.logger;
    this.#router = options.router;
    this.#worker = options.worker;
    this.bus = new ProgramBus({
      isSource: (id) => this.#sourcePeer(id) !== undefined,
      defaultTransitionMs: options.defaultTransitionMs,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    this.bus.on('change', (state) => {
      this.#broadcast('program:state', state);
      this.#enforceGreenRoom();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get recovering(): boolean {
    return this.#recovery !== undefined;
  }

  /** The pool slot this room's router lives on. */
  get workerSlot(): number {
    return this.#worker.slot;
  }

  get workerPid(): number {
    return this.#worker.worker.pid;
  }

  get router(): types.Router {
    return this.#router;
  }

  get peerCount(): number {
    return this.#peers.size;
  }

  peers(): Peer[] {
    return [...this.#peers.values()];
  }

  peer(peerId: string): Peer | undefined {
    return this.#peers.get(peerId);
  }

  get rtpCapabilities(): types.RtpCapabilities {
    return this.#router.rtpCapabilities;
  }

  /** The router's capabilities as they cross the wire. */
  get wireRtpCapabilities(): RtpCapabilities {
    return toWire<RtpCapabilities>(this.#router.rtpCapabilities);
  }

  /** Whether this is an edge room fed by a site (see attachUpstream). */
  get mirrored(): boolean {
    return this.#upstream !== undefined;
  }

  /**
   * Makes this an edge room: sources and program come from the site through `upstream`, only
   * viewers may join, and consuming a producer pipes it on demand. Set once, before any join.
   */
  attachUpstream(upstream: RoomUpstream): void {
    if (this.#upstream) throw new InvalidStateError('room already has an upstream');
    this.#upstream = upstream;
  }

  /** The upstream's sources (or uplink) changed: tell every peer. */
  refreshState(): void {
    if (!this.#closed) this.#broadcastState();
  }

  snapshot(): RoomSnapshot {
    const upstream = this.#upstream;
    if (upstream) {
      return {
        roomId: this.id,
        sources: upstream.sources(),
        program: this.bus.state,
        uplink: upstream.uplink,
      };
    }
    const sources = this.peers()
      .filter((p) => p.isSource)
      .map((p) => ({
        sourceId: p.clientId,
        displayName: p.displayName,
        tracks: p.tracks(),
        quality: qualityOf([...p.producers.values()].map((entry) => entry.producer)),
        ...(p.role === 'guest' ? { guest: true as const } : {}),
      }));
    return { roomId: this.id, sources, program: this.bus.state };
  }

  /** Resolves when a running recovery has finished (at most `timeoutMs`). */
  async whenReady(timeoutMs: number): Promise<void> {
    const recovery = this.#recovery;
    if (recovery === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([recovery, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  // ── peers ──────────────────────────────────────────────────────────────────────────────────

  join(params: JoinParams): Peer {
    this.#assertUsable();
    if (this.#upstream && params.role !== 'viewer') {
      throw new ForbiddenError(`an edge node serves viewers only: a ${params.role} joins the site node`);
    }
    const previous = this.peers().find((p) => p.clientId === params.clientId);
    const others = this.#peers.size - (previous ? 1 : 0);
    if (others >= this.#limits.maxPeersPerRoom)
      throw new LimitReachedError('peers per room', this.#limits.maxPeersPerRoom);
    if (params.role === 'camera' && !previous?.isSource) this.#assertSourceRoom();
    if (params.role === 'guest' && !this.#guests.has(params.clientId)) this.#assertGuestRoom();
    const wasSource = previous?.isSource ?? false;
    if (previous) this.#removePeer(previous, 'replaced');
    let guest: GuestEntry | undefined;
    if (params.role === 'guest') {
      guest = this.#guests.get(params.clientId) ?? { state: 'waiting', muted: false };
      this.#guests.set(params.clientId, guest);
    }
    const peer = new Peer({ ...params, guest });
    this.#peers.set(peer.id, peer);
    this.observer.safeEmit('newpeer', peer);
    this.#log.info('peer joined', {
      room: this.id,
      peer: peer.id,
      role: peer.role,
      replaced: previous !== undefined,
    });
    if (peer.isSource || wasSource) this.#broadcastState(peer);
    if (peer.role === 'guest') {
      this.#tellGuest(peer);
      this.#broadcastGuests();
    }
    if (peer.role === 'director') peer.sink.notify('guests:state', { guests: this.guests() });
    return peer;
  }

  /** The peer asked to leave (or its connection closed). */
  leave(peer: Peer): void {
    if (this.#peers.get(peer.id) !== peer) return;
    this.#removePeer(peer, undefined);
  }

  #removePeer(peer: Peer, reason: 'replaced' | 'closed' | 'rejected' | 'removed' | undefined): void {
    this.#peers.delete(peer.id);
    for (const producerId of peer.producers.keys()) this.#producerOwners.delete(producerId);
    // Closing the peer closes its producers; mediasoup closes their consumers and the
    // 'producerclose' handlers below tell the other peers.
    peer.close();
    if (reason) peer.sink.detached(reason);
    this.observer.safeEmit('peerleft', peer);
    this.#log.info('peer left', { room: this.id, peer: peer.id, reason: reason ?? 'left' });
    if (peer.isSource && reason !== 'replaced') this.#broadcastState();
    if (peer.role === 'guest' && reason !== 'replaced') this.#broadcastGuests();
    if (this.#peers.size === 0) this.safeEmit('empty');
  }

  // ── transports ─────────────────────────────────────────────────────────────────────────────

  async createWebRtcTransport(peer: Peer, direction: TransportDirection): Promise<TransportOptions> {
    this.#assertPeer(peer);
    if (direction === 'send') this.#assertPublisher(peer);
    this.#assertTransportRoom(peer);
    const router = this.#router;
    const transport = await router.createWebRtcTransport<TransportAppData>({
      webRtcServer: this.#worker.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: this.#initialOutgoingBitrate,
      appData: { direction },
    });
    if (!this.#adopt(peer, router, transport))
      throw new InvalidStateError('peer left while its transport was created');
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  }

  /**
   * A plain RTP transport for node-local consumers and producers (recorder, tests, encoders
   * behind a gateway). Not reachable through signaling.
   */
  async createPlainTransport(
    peer: Peer,
    direction: TransportDirection,
    options: { listenInfo: types.TransportListenInfo; rtcpMux?: boolean; comedia?: boolean },
  ): Promise<types.PlainTransport> {
    this.#assertPeer(peer);
    this.#assertTransportRoom(peer);
    const router = this.#router;
    const transport = await router.createPlainTransport<TransportAppData>({
      ...options,
      appData: { direction },
    });
    if (!this.#adopt(peer, router, transport))
      throw new InvalidStateError('peer left while its transport was created');
    return transport;
  }

  /**
   * The site's end of a site↔edge pipe, owned by the edge's mirror peer (so the peer's close
   * cascade closes it). SRTP protects media on the WAN; RTX lets the edge NACK losses.
   */
  async createPipeTransport(peer: Peer, listenInfo: types.TransportListenInfo): Promise<types.PipeTransport> {
    this.#assertPeer(peer);
    if (peer.role !== 'mirror') throw new ForbiddenError(`a ${peer.role} may not open a pipe`);
    this.#assertTransportRoom(peer);
    const router = this.#router;
    const transport = await router.createPipeTransport<TransportAppData>({
      listenInfo,
      enableSrtp: true,
      enableRtx: true,
      appData: { direction: 'recv' },
    });
    if (!this.#adopt(peer, router, transport))
      throw new InvalidStateError('peer left while its transport was created');
    return transport;
  }

  /** Pipes one of this room's producers into a mirror peer's pipe transport. */
  async consumeIntoPipe(
    peer: Peer,
    transportId: string,
    producerId: string,
  ): Promise<{ consumer: types.Consumer; purpose: TrackPurpose }> {
    const transport = this.#transport(peer, transportId) as types.PipeTransport;
    if (transport.type !== 'pipe') throw new BadRequestError('not a pipe transport');
    const owner = this.#producerOwners.get(producerId);
    const entry = owner?.producers.get(producerId);
    if (!entry) throw new NotFoundError('producer', producerId);
    if (peer.consumers.size >= this.#limits.maxConsumersPerPeer) {
      throw new LimitReachedError('consumers per peer', this.#limits.maxConsumersPerPeer);
    }
    const consumer = await transport.consume({ producerId });
    if (peer.closed || this.#peers.get(peer.id) !== peer || consumer.closed) {
      consumer.close();
      throw new InvalidStateError('peer left while its consumer was created');
    }
    peer.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => peer.consumers.delete(consumer.id));
    return { consumer, purpose: entry.purpose };
  }

  async connectTransport(peer: Peer, transportId: string, dtlsParameters: DtlsParameters): Promise<void> {
    const transport = this.#transport(peer, transportId);
    if (transport.type !== 'webrtc') throw new BadRequestError('not a WebRTC transport');
    await (transport as types.WebRtcTransport).connect({
      dtlsParameters: dtlsParameters as types.DtlsParameters,
    });
  }

  async restartIce(peer: Peer, transportId: string): Promise<{ usernameFragment: string; password: string }> {
    const transport = this.#transport(peer, transportId);
    if (transport.type !== 'webrtc') throw new BadRequestError('not a WebRTC transport');
    const iceParameters = await (transport as types.WebRtcTransport).restartIce();
    return { usernameFragment: iceParameters.usernameFragment, password: iceParameters.password };
  }

  #assertTransportRoom(peer: Peer): void {
    if (peer.transports.size >= this.#limits.maxTransportsPerPeer) {
      throw new LimitReachedError('transports per peer', this.#limits.maxTransportsPerPeer);
    }
  }

  /** Registers a transport created asynchronously; false (and closed) when the world moved on. */
  #adopt(peer: Peer, router: types.Router, transport: types.Transport<TransportAppData>): boolean {
    if (peer.closed || router !== this.#router || this.#peers.get(peer.id) !== peer || transport.closed) {
      transport.close();
      return false;
    }
    peer.transports.set(transport.id, transport);
    transport.observer.once('close', () => peer.transports.delete(transport.id));
    return true;
  }

  #transport(peer: Peer, transportId: string): types.Transport {
    this.#assertPeer(peer);
    const transport = peer.transports.get(transportId);
    if (!transport) throw new NotFoundError('transport', transportId);
    return transport;
  }

  // ── producers ──────────────────────────────────────────────────────────────────────────────

  async produce(
    peer: Peer,
    params: { transportId: string; kind: MediaKind; rtpParameters: RtpParameters; purpose: TrackPurpose },
  ): Promise<types.Producer> {
    this.#assertPublisher(peer);
    const transport = this.#transport(peer, params.transportId);
    if ((transport.appData as TransportAppData).direction !== 'send')
      throw new BadRequestError('not a send transport');
    if (peer.producers.size >= this.#limits.maxProducersPerPeer) {
      throw new LimitReachedError('producers per peer', this.#limits.maxProducersPerPeer);
    }
    const producer = await transport.produce<ProducerAppData>({
      kind: params.kind,
      rtpParameters: params.rtpParameters as types.RtpParameters,
      appData: { purpose: params.purpose, peerId: peer.id },
    });
    if (peer.closed || this.#peers.get(peer.id) !== peer || producer.closed) {
      producer.close();
      throw new InvalidStateError('peer left while its producer was created');
    }
    // A guest the director muted stays muted when it (re)publishes its microphone.
    if (params.purpose === 'mic' && peer.guest?.muted) await producer.pause();
    if (peer.closed || this.#peers.get(peer.id) !== peer || producer.closed) {
      producer.close();
      throw new InvalidStateError('peer left while its producer was created');
    }
    peer.producers.set(producer.id, { producer, purpose: params.purpose });
    this.#producerOwners.set(producer.id, peer);
    // Re-broadcast only when the quality class changes (scores arrive about once a second).
    let quality = qualityOf([producer]);
    producer.on('score', () => {
      const next = qualityOf([...peer.producers.values()].map((entry) => entry.producer));
      if (next === quality) return;
      quality = next;
      if (this.#peers.get(peer.id) === peer) this.#broadcastState();
    });
    producer.observer.once('close', () => {
      peer.producers.delete(producer.id);
      this.#producerOwners.delete(producer.id);
      // A transport closed by the worker's death is recovery's business, not a state change.
      if (!this.#router.closed && this.#peers.get(peer.id) === peer) this.#broadcastState();
    });
    this.#broadcastState();
    return producer;
  }

  closeProducer(peer: Peer, producerId: string): void {
    this.#ownProducer(peer, producerId).close();
  }

  async pauseProducer(peer: Peer, producerId: string): Promise<void> {
    const producer = this.#ownProducer(peer, producerId);
    if (producer.paused) return;
    await producer.pause();
    this.#broadcastState();
  }

  async resumeProducer(peer: Peer, producerId: string): Promise<void> {
    const producer = this.#ownProducer(peer, producerId);
    if (peer.guest?.muted && peer.producers.get(producerId)?.purpose === 'mic')
      throw new ForbiddenError('the director muted this microphone: only the director can unmute it');
    if (!producer.paused) return;
    await producer.resume();
    this.#broadcastState();
  }

  #ownProducer(peer: Peer, producerId: string): types.Producer {
    this.#assertPeer(peer);
    const entry = peer.producers.get(producerId);
    if (!entry) throw new NotFoundError('producer', producerId);
    return entry.producer;
  }

  // ── consumers ──────────────────────────────────────────────────────────────────────────────

  async consume(
    peer: Peer,
    params: {
      transportId: string;
      producerId: string;
      rtpCapabilities: RtpCapabilities;
      spatialLayer?: number;
    },
  ): Promise<types.Consumer> {
    const transport = this.#transport(peer, params.transportId);
    if ((transport.appData as TransportAppData).direction !== 'recv')
      throw new BadRequestError('not a recv transport');
    if (peer.waiting && !this.#isProgramProducer(params.producerId)) {
      throw new RefusedError(
        ErrorCode.NotAdmitted,
        'a guest in the green room may only watch the program until the director admits it',
      );
    }
    this.#assertNotOwnProducer(peer, params.producerId);
    const producer = await this.#producerToConsume(params.producerId);
    this.#assertPeer(peer);
    if (peer.consumers.size >= this.#limits.maxConsumersPerPeer) {
      throw new LimitReachedError('consumers per peer', this.#limits.maxConsumersPerPeer);
    }
    const rtpCapabilities = params.rtpCapabilities as types.RtpCapabilities;
    if (!this.#router.canConsume({ producerId: params.producerId, rtpCapabilities })) {
      throw new RefusedError(ErrorCode.CannotConsume, 'these RTP capabilities cannot receive this producer');
    }
    const simulcast = producer.kind === 'video' && params.spatialLayer !== undefined;
    const consumer = await transport.consume({
      producerId: params.producerId,
      rtpCapabilities,
      paused: true,
      ...(simulcast ? { preferredLayers: { spatialLayer: params.spatialLayer ?? 2 } } : {}),
    });
    if (peer.closed || this.#peers.get(peer.id) !== peer || consumer.closed) {
      consumer.close();
      throw new InvalidStateError('peer left while its consumer was created');
    }
    peer.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => peer.consumers.delete(consumer.id));
    consumer.once('producerclose', () => {
      if (this.#peers.get(peer.id) === peer) peer.sink.notify('consumer:closed', { consumerId: consumer.id });
    });
    return consumer;
  }

  /**
   * Mix-minus, enforced here and not only in the guest's page (lib/mixMinus.ts): a peer never
   * receives what it publishes. Its own mic would come back delayed (an echo on a guest's call);
   * its own camera it already shows from the local track, and no page asks for it.
   */
  #assertNotOwnProducer(peer: Peer, producerId: string): void {
    if (this.#producerOwners.get(producerId) !== peer) return;
    const purpose = peer.producers.get(producerId)?.purpose;
    throw new ForbiddenError(
      purpose === 'mic'
        ? 'a peer does not hear itself (mix-minus)'
        : 'a peer does not receive its own camera back (it shows its local preview)',
    );
  }

  /** A local peer's producer, or on an edge the site's producer piped here. */
  async #producerToConsume(producerId: string): Promise<types.Producer> {
    const local = this.#producerOwners.get(producerId)?.producers.get(producerId)?.producer;
    if (local) return local;
    if (!this.#upstream) throw new NotFoundError('producer', producerId);
    const piped = await this.#upstream.producer(producerId);
    if (piped.closed) throw new NotFoundError('producer', producerId);
    return piped;
  }

  async resumeConsumer(peer: Peer, consumerId: string): Promise<void> {
    await this.#consumer(peer, consumerId).resume();
  }

  async setConsumerLayers(
    peer: Peer,
    consumerId: string,
    spatialLayer: number,
    temporalLayer?: number,
  ): Promise<void> {
    const consumer = this.#consumer(peer, consumerId);
    if (consumer.kind !== 'video') throw new BadRequestError('layers apply to video consumers only');
    await consumer.setPreferredLayers(
      temporalLayer === undefined ? { spatialLayer } : { spatialLayer, temporalLayer },
    );
  }

  closeConsumer(peer: Peer, consumerId: string): void {
    this.#consumer(peer, consumerId).close();
  }

  #consumer(peer: Peer, consumerId: string): types.Consumer {
    this.#assertPeer(peer);
    const consumer = peer.consumers.get(consumerId);
    if (!consumer) throw new NotFoundError('consumer', consumerId);
    return consumer;
  }

  // ── guests (green room) ────────────────────────────────────────────────────────────────────

  /** Connected guests, waiting or admitted, in join order (what directors see). */
  guests(): Guest[] {
    return this.peers()
      .filter((p) => p.role === 'guest' && p.guest)
      .map((p) => ({
        guestId: p.clientId,
        displayName: p.displayName,
        state: p.guest?.state ?? 'waiting',
        muted: p.guest?.muted ?? false,
      }));
  }

  /** Director: a waiting guest may publish and becomes a source. */
  admitGuest(director: Peer, guestId: string): void {
    this.#assertDirector(director);
    const guest = this.#guestPeer(guestId);
    if (guest.guest?.state === 'admitted') throw new BadRequestError('this guest is already admitted');
    this.#assertSourceRoom();
    (guest.guest as GuestEntry).state = 'admitted';
    this.#log.info('guest admitted', { room: this.id, guest: guestId.slice(0, 64) });
    this.#tellGuest(guest);
    this.#broadcastGuests();
    this.#broadcastState();
  }

  /**
   * Director: turns a waiting guest away (`reject`) or takes a guest out of the show (`remove`).
   * The guest is told, then detached (its connection closes). Returns the peer that left, so the
   * caller can spend its invite.
   */
  dismissGuest(director: Peer, guestId: string, how: 'rejected' | 'removed'): Peer {
    this.#assertDirector(director);
    const guest = this.#guestPeer(guestId);
    if (how === 'rejected' && guest.guest?.state === 'admitted')
      throw new BadRequestError('this guest is already admitted: remove it instead');
    this.#guests.delete(guestId);
    if (this.bus.forget(guestId)) this.#log.info('removed guest left the program bus', { room: this.id });
    guest.sink.notify('guest:status', { state: how, muted: guest.guest?.muted ?? false });
    this.#log.info(`guest ${how}`, { room: this.id, guest: guestId.slice(0, 64) });
    this.#removePeer(guest, how);
    return guest;
  }

  /** Director: pauses (or resumes) a guest's microphone on the node; the guest cannot undo it. */
  async muteGuest(director: Peer, guestId: string, muted: boolean): Promise<void> {
    this.#assertDirector(director);
    const guest = this.#guestPeer(guestId);
    const entry = guest.guest as GuestEntry;
    if (entry.muted === muted) return;
    entry.muted = muted;
    const mics = [...guest.producers.values()].filter((p) => p.purpose === 'mic').map((p) => p.producer);
    await Promise.all(mics.map((producer) => (muted ? producer.pause() : producer.resume())));
    if (this.#peers.get(guest.id) !== guest) return;
    this.#tellGuest(guest);
    this.#broadcastGuests();
    if (mics.length > 0) this.#broadcastState();
  }

  /** The connected guest with this id (NOT_FOUND otherwise). */
  #guestPeer(guestId: string): Peer {
    const guest = this.peers().find((p) => p.role === 'guest' && p.clientId === guestId);
    if (!guest?.guest) throw new NotFoundError('guest', guestId);
    return guest;
  }

  #tellGuest(guest: Peer): void {
    const status: GuestStatus = {
      state: guest.guest?.state ?? 'waiting',
      muted: guest.guest?.muted ?? false,
    };
    guest.sink.notify('guest:status', status);
  }

  #broadcastGuests(): void {
    const list = { guests: this.guests() };
    for (const peer of this.#peers.values())
      if (peer.role === 'director') peer.sink.notify('guests:state', list);
  }

  /** Whether a producer is what the program shows now (program source, or either side of a fade). */
  #isProgramProducer(producerId: string): boolean {
    const owner = this.#producerOwners.get(producerId);
    if (!owner?.isSource) return false;
    const { programSourceId, transition } = this.bus.state;
    const onAir = [programSourceId, transition?.fromSourceId, transition?.toSourceId];
    return onAir.includes(owner.clientId);
  }

  /**
   * A waiting guest receives the program only: after a cut, what it consumed of a source that
   * left the air is closed (it is told, as when a producer goes away).
   */
  #enforceGreenRoom(): void {
    for (const peer of this.#peers.values()) {
      if (!peer.waiting) continue;
      for (const consumer of [...peer.consumers.values()]) {
        if (this.#isProgramProducer(consumer.producerId)) continue;
        consumer.close();
        peer.sink.notify('consumer:closed', { consumerId: consumer.id });
      }
    }
  }

  /** Cameras publish; guests only once admitted (NOT_ADMITTED before); nobody else. */
  #assertPublisher(peer: Peer): void {
    if (peer.role === 'camera') return;
    if (peer.role === 'guest') {
      if (peer.waiting) {
        throw new RefusedError(ErrorCode.NotAdmitted, 'wait for the director to admit you before publishing');
      }
      return;
    }
    throw new ForbiddenError(`a ${peer.role} may not publish`);
  }

  /** Room for one more guest entry: entries of guests no longer connected go first. */
  #assertGuestRoom(): void {
    const max = this.#limits.maxGuestsPerRoom ?? MAX_GUESTS_PER_ROOM;
    if (this.#guests.size < max) return;
    const connected = new Set(this.peers().map((p) => p.clientId));
    for (const guestId of this.#guests.keys()) if (!connected.has(guestId)) this.#guests.delete(guestId);
    if (this.#guests.size >= max) throw new LimitReachedError('guests per room', max);
  }

  #assertSourceRoom(): void {
    // Never above the protocol's bound: health reports and recording plans carry that many.
    const max = Math.min(this.#limits.maxSourcesPerRoom ?? MAX_SOURCES_PER_ROOM, MAX_SOURCES_PER_ROOM);
    const sources = this.peers().filter((p) => p.isSource).length;
    if (sources >= max) throw new LimitReachedError('sources per room', max);
  }

  // ── program bus ────────────────────────────────────────────────────────────────────────────

  preview(peer: Peer, sourceId: string): ProgramState {
    this.#assertDirector(peer);
    return this.bus.preview(sourceId);
  }

  cut(peer: Peer): ProgramState {
    this.#assertDirector(peer);
    return this.bus.cut();
  }

  auto(peer: Peer, durationMs?: number): ProgramState {
    this.#assertDirector(peer);
    return this.bus.auto(durationMs);
  }

  #assertDirector(peer: Peer): void {
    this.#assertPeer(peer);
    if (peer.role !== 'director') throw new ForbiddenError(`a ${peer.role} may not drive the program bus`);
  }

  // ── recovery and close ─────────────────────────────────────────────────────────────────────

  /**
   * The router's worker died. Detaches every peer (each is told to re-join), then moves the room
   * to a new router. Requests in between are refused with ROOM_RECOVERING. Safe to call twice.
   */
  recover(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#recovery) return this.#recovery;
    this.#log.warn('recovering room', { room: this.id, slot: this.#worker.slot, peers: this.#peers.size });
    this.observer.safeEmit('recovering');
    const peers = this.peers();
    this.#peers.clear();
    this.#producerOwners.clear();
    // The recovery promise exists before peers hear about it, so an immediate re-join waits.
    this.#recovery = this.#moveRouter().finally(() => {
      this.#recovery = undefined;
    });
    for (const peer of peers) {
      peer.close();
      peer.sink.detached('recovering');
    }
    return this.#recovery;
  }

  async #moveRouter(): Promise<void> {
    if (!this.#router.closed) this.#router.close();
    for (let attempt = 0; !this.#closed; attempt++) {
      try {
        const { router, worker } = await this.#createRouter();
        if (this.#closed) {
          router.close();
          return;
        }
        this.#router = router;
        this.#worker = worker;
        this.#log.info('room recovered', { room: this.id, slot: worker.slot, pid: worker.worker.pid });
        this.safeEmit('recovered', worker.slot);
        // Nobody may come back: let the registry's idle timer decide.
        if (this.#peers.size === 0) this.safeEmit('empty');
        return;
      } catch (error) {
        this.#log.error('room recovery attempt failed', { room: this.id, attempt, error: String(error) });
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** attempt)));
      }
    }
  }

  /** Closes every peer (each is told), the router and the bus. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const peer of this.peers()) {
      this.#peers.delete(peer.id);
      peer.close();
      peer.sink.detached('closed');
    }
    this.#producerOwners.clear();
    this.bus.close();
    if (!this.#router.closed) this.#router.close();
    this.safeEmit('@close');
    this.removeAllListeners();
    this.observer.removeAllListeners();
  }

  #assertUsable(): void {
    if (this.#closed) throw new InvalidStateError(`room "${this.id}" is closed`);
    if (this.#recovery) throw new RoomRecoveringError(this.id);
  }

  #assertPeer(peer: Peer): void {
    this.#assertUsable();
    if (this.#peers.get(peer.id) !== peer) throw new InvalidStateError('peer is not in this room');
  }

  #sourcePeer(sourceId: string): Peer | undefined {
    return this.peers().find((p) => p.isSource && p.clientId === sourceId);
  }

  #broadcastState(except?: Peer): void {
    const snapshot = this.snapshot();
    for (const peer of this.#peers.values()) if (peer !== except) peer.sink.notify('room:state', snapshot);
  }

  #broadcast<N extends NotificationName>(name: N, payload: NotificationOf<N>): void {
    for (const peer of this.#peers.values()) peer.sink.notify(name, payload);
  }
}
