import type {
  Guest,
  GuestStatus,
  HealthSources,
  IceServer,
  Invite,
  ProgramState,
  RecorderState,
  RecordingPlan,
  RequestName,
  RequestOf,
  ResponseOf,
  Role,
  RoomSnapshot,
  TrackPurpose,
} from '@microstudio/protocol';
import { ErrorCode } from '@microstudio/protocol/errors';
import type { Device, types as ms } from 'mediasoup-client';
import { Emitter } from './emitter.ts';
import { InvalidStateError, RequestError } from './errors.ts';
import { type Quality, simulcastEncodings, startBitrateKbps } from './presets.ts';
import { BackoffReconnectPolicy, type ReconnectPolicy } from './reconnectPolicy.ts';
import { SignalingClient, type SignalingOptions } from './signaling.ts';
import { Publication, RemoteTrack } from './tracks.ts';

type DeviceModule = typeof import('./device.ts');
let deviceModule: Promise<DeviceModule> | null = null;

/**
 * mediasoup-client, loaded on first use (the page's first script stays without it) and once per
 * page; a failed load (a network blip fetching the chunk) is tried again by the next caller.
 */
function loadDeviceModule(): Promise<DeviceModule> {
  if (!deviceModule) {
    const loading = import('./device.ts');
    deviceModule = loading;
    loading.catch(() => {
      if (deviceModule === loading) deviceModule = null;
    });
  }
  return deviceModule;
}

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface StudioSessionOptions extends SignalingOptions {
  roomId: string;
  /** Access token from an invite link (or the director's): the node gives the role it grants. */
  token: string;
  displayName: string;
  /** Stable across reconnects (a camera's sourceId): see stableClientId(). */
  clientId: string;
  reconnectPolicy?: ReconnectPolicy;
  /** After an ICE restart, how long a transport may stay unconnected before a full re-join. */
  iceRestartGraceMs?: number;
  /**
   * Where to connect, asked before every (re)connection: a viewer asks the fabric for an edge,
   * and after losing one (`failover: true`) for another. Default: the fixed `url`. A URL known at
   * once may be returned as is (not a promise): the connection then starts within the call.
   */
  locate?: (attempt: { failover: boolean }) => string | Promise<string>;
  /**
   * Ask for the receive transport together with the join instead of at the first consume(), so
   * its round trip overlaps loading the device: for pages that consume as soon as they join
   * (viewers). Default false.
   */
  prepareRecv?: boolean;
  /**
   * The session never publishes (a viewer): joining probes only the browser's receive
   * capabilities, one RTCPeerConnection offer fewer on the page's thread (device.ts), and
   * publish() refuses. Default false.
   */
  receiveOnly?: boolean;
  /**
   * ICE candidates the media transports may use: `relay` = only through the TURN servers the node
   * hands out (no host or server-reflexive candidates, so the browser's addresses are never
   * offered; for networks where only TURN gets through, and for testing the relay path).
   * Default `all`.
   */
  iceTransportPolicy?: RTCIceTransportPolicy;
}

export type SessionEvents = {
  state: [state: ConnectionState];
  room: [room: RoomSnapshot];
  program: [program: ProgramState];
  /** Something failed that the session recovers from (or cannot): for logs and banners. */
  error: [error: Error];
  /** Guests only: this guest's standing (waiting, admitted, muted; rejected or removed = the end). */
  guest: [status: GuestStatus];
  /** Directors only: the green room and the admitted guests. */
  guests: [guests: Guest[]];
  /** Directors only, every 2 s: each source's ingest bitrate, loss, quality and device figures. */
  health: [health: HealthSources];
  /** Directors only: the recording plan and the recorder's latest status (on join and on change). */
  recorder: [state: RecorderState];
};

/** Codes a retry cannot fix: connect() gives up on them at once. */
const FATAL_JOIN_CODES = new Set<string>([
  ErrorCode.BadRequest,
  ErrorCode.Forbidden,
  ErrorCode.LimitReached,
  // An expired, revoked or used-up invite does not heal by retrying: the page must say so.
  ErrorCode.Unauthorized,
]);

/** Everything that belongs to one successful room:join; thrown away on reconnect. */
interface JoinEpoch {
  id: number;
  peerId: string;
  device: Device;
  iceServers: IceServer[];
  send: Promise<ms.Transport> | null;
  recv: Promise<ms.Transport> | null;
  transports: ms.Transport[];
  timers: Set<ReturnType<typeof setTimeout>>;
}

/**
 * One peer in one room: join, publish with simulcast, consume a layer, follow the program bus,
 * and recover by itself (socket loss, ICE failure, room re-creation) under a ReconnectPolicy.
 */
export class StudioSession extends Emitter<SessionEvents> {
  readonly clientId: string;
  readonly roomId: string;
  readonly #token: string;
  /** The role the node gave this session's token (known once joined). */
  #role: Role | null = null;
  readonly #displayName: string;
  readonly #signaling: SignalingClient;
  readonly #policy: ReconnectPolicy;
  readonly #iceGraceMs: number;
  readonly #iceTransportPolicy: RTCIceTransportPolicy | undefined;
  readonly #publications = new Set<Publication>();
  readonly #remotes = new Set<RemoteTrack>();
  #state: ConnectionState = 'disconnected';
  #epoch: JoinEpoch | null = null;
  #epochCounter = 0;
  #room: RoomSnapshot | null = null;
  #program: ProgramState | null = null;
  #recovering: Promise<boolean> | null = null;
  #wake: (() => void) | null = null;
  /** Why the last join attempt gave up for good. */
  #fatal: Error | null = null;
  #closed = false;
  #joinInFlight = false;
  #heldRoom: RoomSnapshot | null = null;
  #heldProgram: ProgramState | null = null;
  readonly #locate: ((attempt: { failover: boolean }) => string | Promise<string>) | undefined;
  readonly #prepareRecv: boolean;
  readonly #receiveOnly: boolean;
  /** Joined at least once: a later connection is a failover. */
  #everJoined = false;
  /** A guest the director rejected or removed: the node closes the connection; no re-join. */
  #dismissed = false;

  constructor(options: StudioSessionOptions) {
    super();
    this.clientId = options.clientId;
    this.#token = options.token;
    this.roomId = options.roomId;
    this.#displayName = options.displayName;
    this.#policy = options.reconnectPolicy ?? new BackoffReconnectPolicy();
    this.#iceGraceMs = options.iceRestartGraceMs ?? 10_000;
    this.#iceTransportPolicy = options.iceTransportPolicy;
    this.#signaling = new SignalingClient(options);
    this.#locate = options.locate;
    this.#prepareRecv = options.prepareRecv ?? false;
    this.#receiveOnly = options.receiveOnly ?? false;
    this.#signaling.on('disconnect', (reason, byClient) => {
      if (!byClient) this.#lose(`signaling lost (${reason})`);
    });
    this.#signaling.on('room:rejoin', ({ reason }) => this.#lose(`room re-created (${reason})`));
    // While a join is in flight, state pushed by the node is newer than the join's snapshot
    // (the node answers the join first): hold it and apply it after the snapshot, or a change
    // made while the device loads (an edge's pipe opening) would be overwritten and lost.
    this.#signaling.on('room:state', (room) => {
      if (this.#joinInFlight) this.#heldRoom = room;
      else this.#applyRoom(room);
    });
    this.#signaling.on('program:state', (program) => {
      if (this.#joinInFlight) this.#heldProgram = program;
      else this.#applyProgram(program);
    });
    this.#signaling.on('source:updated', (source) => {
      if (!this.#room) return;
      const sources = this.#room.sources.some((s) => s.sourceId === source.sourceId)
        ? this.#room.sources.map((s) => (s.sourceId === source.sourceId ? source : s))
        : [...this.#room.sources, source];
      this.#room = { ...this.#room, sources };
      this.emit('room', this.#room);
    });
    this.#signaling.on('guest:status', (status) => {
      if (status.state === 'rejected' || status.state === 'removed') this.#dismissed = true;
      this.emit('guest', status);
    });
    this.#signaling.on('guests:state', ({ guests }) => this.emit('guests', guests));
    this.#signaling.on('health:sources', (health) => this.emit('health', health));
    this.#signaling.on('recorder:state', (state) => this.emit('recorder', state));
    this.#signaling.on('consumer:closed', ({ consumerId }) => {
      for (const remote of this.#remotes) {
        if (remote.consumerId === consumerId) {
          this.#remotes.delete(remote);
          remote.end();
        }
      }
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }
  get room(): RoomSnapshot | null {
    return this.#room;
  }
  get program(): ProgramState | null {
    return this.#program;
  }
  get peerId(): string | null {
    return this.#epoch?.peerId ?? null;
  }
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Connects and joins; retries under the policy until joined. Rejects when the node refuses the
   * join for a reason a retry cannot fix, when the policy gives up, or when close() is called.
   */
  async connect(): Promise<void> {
    if (this.#closed) throw new InvalidStateError('session is closed');
    if (this.#state === 'connected') return;
    if (!this.#recovering) {
      this.#setState('connecting');
      // Runs up to the socket's connection attempt synchronously when no delay or lookup is due.
      this.#recovering = this.#recover();
    }
    // mediasoup-client loads while the page connects and joins (the join answer is the first
    // thing that needs it); the join reports a failure to load it.
    loadDeviceModule().catch(() => undefined);
    const joined = await this.#recovering;
    // Say why (an invite revoked, used up, expired…), so the page can tell the person.
    if (!joined) throw this.#fatal ?? new InvalidStateError('could not join the room');
  }

  /** Publishes a track. Video goes out as three simulcast layers for the given quality preset. */
  async publish(
    track: MediaStreamTrack,
    purpose: TrackPurpose,
    options: { quality?: Quality } = {},
  ): Promise<Publication> {
    if (this.#closed) throw new InvalidStateError('session is closed');
    if (this.#receiveOnly) throw new InvalidStateError('a receive-only session cannot publish');
    const publication = new Publication(
      track,
      purpose,
      track.kind === 'video' ? (options.quality ?? 'standard') : null,
    );
    this.#publications.add(publication);
    const epoch = this.#epoch;
    if (epoch) {
      try {
        await this.#produce(epoch, publication);
      } catch (error) {
        this.#publications.delete(publication);
        publication.markClosed();
        throw error;
      }
    }
    return publication;
  }

  /** Stops publishing (the local track is left running: its owner stops it). */
  async unpublish(publication: Publication): Promise<void> {
    if (!this.#publications.delete(publication)) return;
    const producerId = publication.producerId;
    publication.markClosed();
    if (producerId && this.#signaling.connected)
      await this.#signaling.request('producer:close', { producerId });
  }

  /** Consumes a producer at a simulcast layer (0 = lowest, 2 = top). Re-consumed after reconnects. */
  async consume(producerId: string, options: { spatialLayer?: number } = {}): Promise<RemoteTrack> {
    const epoch = this.#requireEpoch();
    const track = this.#room?.sources.flatMap((s) => s.tracks).find((t) => t.producerId === producerId);
    const kind = track?.kind ?? 'video';
    const remote = new RemoteTrack(producerId, kind, kind === 'video' ? options.spatialLayer : undefined);
    this.#remotes.add(remote);
    try {
      await this.#consumeInto(epoch, remote);
    } catch (error) {
      this.#remotes.delete(remote);
      remote.end();
      throw error;
    }
    return remote;
  }

  async setLayer(remote: RemoteTrack, spatialLayer: number): Promise<void> {
    remote.setSpatialLayer(spatialLayer);
    const consumerId = remote.consumerId;
    if (consumerId) await this.#call('consumer:setLayers', { consumerId, spatialLayer });
  }

  async stopConsuming(remote: RemoteTrack): Promise<void> {
    if (!this.#remotes.delete(remote)) return;
    const consumerId = remote.consumerId;
    remote.end();
    if (consumerId && this.#signaling.connected)
      await this.#signaling.request('consumer:close', { consumerId });
  }

  /** Director: put a source on preview. */
  async preview(sourceId: string): Promise<void> {
    await this.#call('program:preview', { sourceId });
  }
  get role(): Role | null {
    return this.#role;
  }

  /** Director: a new invite link token for the room (camera, viewer or director). */
  createInvite(options: RequestOf<'invite:create'>): Promise<ResponseOf<'invite:create'>> {
    return this.#call('invite:create', options);
  }

  async listInvites(): Promise<Invite[]> {
    return (await this.#call('invite:list', {})).invites;
  }

  async revokeInvite(inviteId: string): Promise<void> {
    await this.#call('invite:revoke', { inviteId });
  }

  /** Director: the green room and the admitted guests (also pushed: the 'guests' event). */
  async listGuests(): Promise<Guest[]> {
    return (await this.#call('guest:list', {})).guests;
  }

  /** Director: admit a waiting guest, reject it, (un)mute its microphone or remove it. */
  async guestAction(
    action: 'admit' | 'reject' | 'mute' | 'unmute' | 'remove',
    guestId: string,
  ): Promise<void> {
    await this.#call(`guest:${action}`, { guestId });
  }

  /**
   * Director: record one source (`sourceId`) or every source, present and future (undefined), or
   * stop (`on: false`). Resolves with the room's new plan (also pushed: the 'recorder' event).
   */
  setRecording(sourceId: string | undefined, on: boolean): Promise<RecordingPlan> {
    return this.#call('record:set', sourceId === undefined ? { on } : { sourceId, on });
  }

  /** Director: swap preview and program at once. */
  async cut(): Promise<void> {
    await this.#call('program:cut', {});
  }
  /** Director: fade preview into program. */
  async auto(durationMs?: number): Promise<void> {
    await this.#call('program:auto', durationMs === undefined ? {} : { durationMs });
  }

  /**
   * The stats of this join's WebRTC transports (one RTCStatsReport per peer connection: every
   * inbound and outbound stream, candidate pair and transport), for telemetry. [] when not joined;
   * a transport whose stats fail is left out.
   */
  async transportStats(): Promise<RTCStatsReport[]> {
    const transports = this.#epoch?.transports.filter((t) => !t.closed) ?? [];
    const reports = await Promise.all(transports.map((t) => t.getStats().catch(() => null)));
    return reports.filter((r): r is RTCStatsReport => r !== null);
  }

  /**
   * Sends a telemetry report. Only while connected and joined: otherwise, and when the node
   * refuses it, it is dropped (never queued for later) and this resolves false. Never rejects.
   */
  async sendTelemetry(report: RequestOf<'telemetry:report'>): Promise<boolean> {
    if (this.#closed || this.#state !== 'connected' || !this.#signaling.connected) return false;
    try {
      return (await this.#signaling.request('telemetry:report', report)).ok;
    } catch {
      return false;
    }
  }

  /** Leaves the room and closes everything. Safe to call twice. Local tracks are not stopped. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    if (this.#epoch && this.#signaling.connected) {
      await Promise.race([
        this.#signaling.request('room:leave', {}),
        new Promise((r) => setTimeout(r, 1000)),
      ]);
    }
    this.#teardown();
    for (const publication of this.#publications) publication.markClosed();
    this.#publications.clear();
    for (const remote of this.#remotes) remote.end();
    this.#remotes.clear();
    this.#signaling.close();
    this.#setState('disconnected');
    this.removeAllListeners();
  }

  // ---------------------------------------------------------------------------------------------

  #setState(state: ConnectionState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit('state', state);
  }

  #report(error: unknown): void {
    this.emit('error', error instanceof Error ? error : new Error(String(error)));
  }

  async #call<N extends RequestName>(name: N, payload: RequestOf<N>): Promise<ResponseOf<N>> {
    const result = await this.#signaling.request(name, payload);
    if (!result.ok) throw new RequestError(name, result.error);
    return result.data;
  }

  #requireEpoch(): JoinEpoch {
    if (this.#closed) throw new InvalidStateError('session is closed');
    if (!this.#epoch) throw new InvalidStateError('session is not joined');
    return this.#epoch;
  }

  #applyRoom(room: RoomSnapshot): void {
    this.#room = room;
    this.emit('room', room);
    this.#applyProgram(room.program);
  }

  #applyProgram(program: ProgramState): void {
    // Revisions only grow within one join; a re-created room restarts them, and #join resets.
    if (this.#program && program.revision < this.#program.revision) return;
    if (this.#program && program.revision === this.#program.revision) return;
    this.#program = program;
    this.emit('program', program);
  }

  /** Media or signaling was lost: drop this join's media and start the recovery loop. */
  #lose(reason: string): void {
    if (this.#closed) return;
    if (this.#dismissed) {
      // Rejected or removed by the director: the invite will not let this device back in.
      this.#teardown();
      this.#setState('disconnected');
      return;
    }
    this.#report(new Error(reason));
    this.#teardown();
    if (this.#recovering) return;
    this.#setState(this.#state === 'connecting' ? 'connecting' : 'reconnecting');
    this.#recovering = this.#recover();
  }

  /** Retries (re)joining under the policy. Resolves true once joined, false if it gives up. */
  async #recover(): Promise<boolean> {
    const lostAt = Date.now();
    try {
      for (let retryCount = 0; ; retryCount++) {
        const delay = this.#policy.nextRetryDelayInMs({ retryCount, elapsedMs: Date.now() - lostAt });
        if (delay === null) {
          this.#setState('disconnected');
          return false;
        }
        if (delay > 0) await this.#sleep(delay);
        if (this.#closed) return false;
        try {
          const connecting = !this.#signaling.connected;
          if (connecting && this.#locate) {
            const located = this.#locate({ failover: this.#everJoined });
            this.#signaling.retarget(typeof located === 'string' ? located : await located);
          }
          // A new connection carries the join in its handshake; a live one asks with a request.
          const epoch = await this.#join(connecting);
          if (this.#closed) return false;
          // Lost again while restoring? Go round once more.
          if (this.#epoch !== epoch || !this.#signaling.connected) continue;
          this.#everJoined = true;
          this.#setState('connected');
          return true;
        } catch (error) {
          this.#report(error);
          if (error instanceof RequestError && FATAL_JOIN_CODES.has(error.code)) {
            this.#fatal = error;
            this.#setState('disconnected');
            return false;
          }
        }
      }
    } finally {
      this.#recovering = null;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  async #join(connecting: boolean): Promise<JoinEpoch> {
    this.#joinInFlight = true;
    this.#heldRoom = null;
    this.#heldProgram = null;
    try {
      return await this.#joinOnce(connecting);
    } finally {
      this.#joinInFlight = false;
      this.#heldRoom = null;
      this.#heldProgram = null;
    }
  }

  async #joinOnce(connecting: boolean): Promise<JoinEpoch> {
    const payload = {
      roomId: this.roomId,
      token: this.#token,
      displayName: this.#displayName,
      clientId: this.clientId,
    };
    performance.mark('microstudio:join-sent');
    const answer = connecting
      ? this.#signaling.connectAndJoin(payload)
      : this.#signaling.request('room:join', payload);
    // While the node answers, the browser's RTP capabilities are probed (RTCPeerConnection offers
    // that hold the page's thread for a while): not before the join is on its way, and not
    // later, where the device would wait for them.
    loadDeviceModule().then(
      (media) => media.warmUp({ receiveOnly: this.#receiveOnly }),
      () => undefined, // reported below, when the device is needed
    );
    let result = await answer;
    if (!result.ok && result.error.code === ErrorCode.AlreadyJoined) {
      // room:rejoin on a live socket: the node may still hold our old membership.
      await this.#signaling.request('room:leave', {});
      result = await this.#signaling.request('room:join', payload);
    }
    if (!result.ok) throw new RequestError('room:join', result.error);
    performance.mark('microstudio:join-acked');
    const joined = result.data;
    this.#role = joined.role;
    // The receive transport's round trip runs while the device loads (it needs no device).
    const recvInfo = this.#prepareRecv ? this.#call('transport:create', { direction: 'recv' }) : null;
    recvInfo?.catch(() => undefined); // reported by the consume that waits for it
    const media = await loadDeviceModule();
    const device = await media.loadDevice(joined.routerRtpCapabilities as ms.RtpCapabilities, {
      receiveOnly: this.#receiveOnly,
    });
    this.#teardown();
    const epoch: JoinEpoch = {
      id: ++this.#epochCounter,
      peerId: joined.peerId,
      device,
      iceServers: joined.iceServers,
      send: null,
      recv: null,
      transports: [],
      timers: new Set(),
    };
    this.#epoch = epoch;
    if (recvInfo) this.#transport(epoch, 'recv', recvInfo).catch(() => undefined);
    this.#program = null;
    this.#applyRoom(joined.room);
    const [heldRoom, heldProgram] = [this.#heldRoom, this.#heldProgram];
    this.#joinInFlight = false;
    if (heldRoom) this.#applyRoom(heldRoom);
    if (heldProgram) this.#applyProgram(heldProgram);
    const room = this.#room ?? joined.room;
    // Republish what we published and re-consume what we consumed, in parallel.
    const restores: Promise<unknown>[] = [];
    for (const publication of this.#publications) restores.push(this.#produce(epoch, publication));
    for (const remote of this.#remotes) {
      const stillThere = room.sources.some((s) => s.tracks.some((t) => t.producerId === remote.producerId));
      if (!stillThere) {
        this.#remotes.delete(remote);
        remote.end();
        continue;
      }
      restores.push(this.#consumeInto(epoch, remote));
    }
    for (const outcome of await Promise.allSettled(restores)) {
      if (outcome.status === 'rejected') this.#report(outcome.reason);
    }
    return epoch;
  }

  /** Closes this join's transports (and so its producers and consumers); keeps the handles. */
  #teardown(): void {
    const epoch = this.#epoch;
    if (!epoch) return;
    this.#epoch = null;
    for (const timer of epoch.timers) clearTimeout(timer);
    for (const transport of epoch.transports) transport.close();
    for (const publication of this.#publications) publication.setProducer(null);
    for (const remote of this.#remotes) remote.detach();
  }

  /** This join's transport in `direction`, created on first use (from `info` when already asked). */
  #transport(
    epoch: JoinEpoch,
    direction: 'send' | 'recv',
    info?: Promise<ResponseOf<'transport:create'>>,
  ): Promise<ms.Transport> {
    const existing = direction === 'send' ? epoch.send : epoch.recv;
    if (existing) return existing;
    const created = this.#createTransport(epoch, direction, info);
    if (direction === 'send') epoch.send = created;
    else epoch.recv = created;
    created.catch(() => {
      if (direction === 'send' && epoch.send === created) epoch.send = null;
      if (direction === 'recv' && epoch.recv === created) epoch.recv = null;
    });
    return created;
  }

  async #createTransport(
    epoch: JoinEpoch,
    direction: 'send' | 'recv',
    asked?: Promise<ResponseOf<'transport:create'>>,
  ): Promise<ms.Transport> {
    const info = await (asked ?? this.#call('transport:create', { direction }));
    if (this.#epoch !== epoch) throw new InvalidStateError('re-joined while creating a transport');
    const options: ms.TransportOptions = {
      ...(info as unknown as ms.TransportOptions),
      iceServers: epoch.iceServers as RTCIceServer[],
      ...(this.#iceTransportPolicy ? { iceTransportPolicy: this.#iceTransportPolicy } : {}),
    };
    const transport =
      direction === 'send'
        ? epoch.device.createSendTransport(options)
        : epoch.device.createRecvTransport(options);
    epoch.transports.push(transport);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.#call('transport:connect', { transportId: transport.id, dtlsParameters })
        .then(() => callback())
        .catch((error: Error) => errback(error));
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        const purpose: TrackPurpose = appData.purpose === 'mic' ? 'mic' : 'camera';
        this.#call('producer:create', {
          transportId: transport.id,
          kind,
          rtpParameters: rtpParameters as unknown as RequestOf<'producer:create'>['rtpParameters'],
          purpose,
        })
          .then(({ producerId }) => callback({ id: producerId }))
          .catch((error: Error) => errback(error));
      });
    }
    let restarting = false;
    transport.on('connectionstatechange', (state) => {
      if (state === 'connected') performance.mark(`microstudio:transport-connected:${direction}`);
      if (this.#epoch !== epoch) return;
      if ((state !== 'disconnected' && state !== 'failed') || restarting) return;
      restarting = true;
      this.#restartIce(epoch, transport).finally(() => {
        restarting = false;
      });
    });
    return transport;
  }

  /** ICE restart; if the transport is still not connected after the grace period, re-join. */
  async #restartIce(epoch: JoinEpoch, transport: ms.Transport): Promise<void> {
    try {
      const { iceParameters } = await this.#call('transport:restartIce', { transportId: transport.id });
      if (this.#epoch !== epoch || transport.closed) return;
      await transport.restartIce({ iceParameters });
    } catch (error) {
      this.#report(error);
    }
    const timer = setTimeout(() => {
      epoch.timers.delete(timer);
      if (this.#epoch === epoch && !transport.closed && transport.connectionState !== 'connected') {
        this.#lose(`${transport.direction} transport did not recover after an ICE restart`);
      }
    }, this.#iceGraceMs);
    epoch.timers.add(timer);
  }

  async #produce(epoch: JoinEpoch, publication: Publication): Promise<void> {
    if (publication.track.readyState === 'ended') throw new InvalidStateError('the track has ended');
    const transport = await this.#transport(epoch, 'send');
    const video = publication.track.kind === 'video';
    const vp8 = epoch.device.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === 'video/vp8');
    const producer = await transport.produce({
      track: publication.track,
      stopTracks: false,
      appData: { purpose: publication.purpose },
      ...(video ? { encodings: simulcastEncodings(publication.quality ?? 'standard') } : {}),
      ...(video && vp8 ? { codec: vp8 } : {}),
      // Start the sender's bandwidth estimate at what all three layers need rather than Chromium's
      // 300 kbit/s, so program gets the top layer at once instead of after a slow ramp (a static
      // picture leaves the estimator little traffic to probe with); it still backs off on loss.
      codecOptions: video
        ? { videoGoogleStartBitrate: startBitrateKbps(publication.quality ?? 'standard') }
        : { opusStereo: false, opusDtx: true },
    });
    if (this.#epoch !== epoch || publication.closed || !this.#publications.has(publication)) {
      producer.close();
      return;
    }
    publication.setProducer(producer);
  }

  async #consumeInto(epoch: JoinEpoch, remote: RemoteTrack): Promise<void> {
    const transport = await this.#transport(epoch, 'recv');
    const spatialLayer = remote.spatialLayer;
    const answer = await this.#call('consumer:create', {
      transportId: transport.id,
      producerId: remote.producerId,
      rtpCapabilities: epoch.device.recvRtpCapabilities as RequestOf<'consumer:create'>['rtpCapabilities'],
      ...(spatialLayer === undefined ? {} : { spatialLayer }),
    });
    const consumer = await transport.consume({
      id: answer.consumerId,
      producerId: answer.producerId,
      kind: answer.kind,
      rtpParameters: answer.rtpParameters as unknown as ms.RtpParameters,
      streamId: `${remote.producerId}-${answer.consumerId}`,
    });
    performance.mark(`microstudio:consumer-created:${answer.kind}`);
    if (this.#epoch !== epoch || remote.ended || !this.#remotes.has(remote)) {
      consumer.close();
      if (this.#signaling.connected)
        void this.#signaling.request('consumer:close', { consumerId: answer.consumerId });
      return;
    }
    remote.attach(consumer);
    await this.#call('consumer:resume', { consumerId: answer.consumerId });
  }
}
