import { randomUUID } from 'node:crypto';
import { hasGrant } from '@microstudio/auth';
import type { types } from 'mediasoup';
import type { Authenticator } from '../auth/Authenticator.ts';
import type { Logger } from '../log.ts';
import type { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { PeerSink } from '../rooms/types.ts';
import { IceSession } from '../whip/IceSession.ts';
import { parseOffer } from '../whip/sdpOffer.ts';
import type { WorkerPool } from '../workers/WorkerPool.ts';
import { NotAcceptableError, WhepError } from './errors.ts';
import { consumerCapabilities, readWhepOffer, type WantedMedia } from './offer.ts';
import { type Attachment, ProgramRelay, RelayClosedError, type Selector } from './ProgramRelay.ts';
import { buildWhepAnswer, type SendingMedia } from './sdpAnswer.ts';

/**
 * WHEP sessions one node serves at once (sessions being set up included). A further POST is
 * refused with 503 and Retry-After: the node is full, another node (placement) may not be.
 * Each session is a viewer peer, so MICROSTUDIO_MAX_PEERS_PER_ROOM also applies (429).
 */
export const MAX_WHEP_SESSIONS = 500;
/** Retry-After (seconds) sent with a 503. */
export const WHEP_RETRY_AFTER_SECONDS = 5;
/** A session whose ICE/DTLS never completes is ended after this long (the player went away). */
const CONNECT_TIMEOUT_MS = 30_000;
/** How long a room being recovered may hold a new session before it is refused. */
const RECOVERY_WAIT_MS = 3_000;
/** How long an edge waits for its pipe to the site before refusing a session (404 or 503). */
export const EDGE_UPSTREAM_WAIT_MS = 3_000;

export interface WhepSession {
  readonly id: string;
  readonly roomId: string;
  /** The ICE session's entity-tag (changes with each ICE restart). */
  readonly etag: string;
  /** Trickle ICE and ICE restarts (PATCH). */
  readonly ice: IceSession;
  readonly room: Room;
  readonly peer: Peer;
  /** What it plays: the room's program, or a named source. */
  readonly selector: Selector;
  readonly transport: types.WebRtcTransport;
  readonly consumers: readonly types.Consumer[];
}

interface LiveSession extends WhepSession {
  attachment: Attachment;
  /** The token (invite) it plays with: revoking it ends the session, as it disconnects pages. */
  inviteId: string;
}

export interface WhepServiceOptions {
  registry: RoomRegistry;
  auth: Authenticator;
  pool: WorkerPool;
  logger: Logger;
  /** This node is an edge: rooms are mirrors of the site's, opened on demand. */
  edge?: { uplink: () => 'up' | 'down' } | undefined;
  maxSessions?: number;
  connectTimeoutMs?: number;
  edgeUpstreamWaitMs?: number;
  keyframeWaitMs?: number;
}

export interface PlayRequest {
  roomId: string;
  token: string;
  sdp: string;
  /** `?source=`: play this source instead of the program (needs the `program` grant). */
  sourceId?: string | undefined;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * WHEP playback (draft-ietf-wish-whep): each session is a viewer peer of its room with one
 * WebRTC transport and one consumer per m-section, fed by the room's ProgramRelay, so it plays
 * the program and follows every cut without renegotiating. Ending a session (DELETE, the peer
 * being detached, DTLS failing, never connecting, the relay closing) makes the peer leave and
 * lets go of the relay, which closes when its last player has gone.
 */
export class WhepService {
  readonly #sessions = new Map<string, LiveSession>();
  readonly #relays = new Map<Room, ProgramRelay>();
  readonly #opening = new Map<Room, Promise<ProgramRelay>>();
  readonly #opts: WhepServiceOptions;
  readonly #log: Logger;
  #starting = 0;
  #closed = false;

  constructor(options: WhepServiceOptions) {
    this.#opts = options;
    this.#log = options.logger;
    options.auth.on('revoked', ({ inviteId }) => {
      for (const session of [...this.#sessions.values()])
        if (session.inviteId === inviteId) this.#end(session, 'invite revoked');
    });
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** The room's relay, while it has players (tests, metrics). */
  relay(room: Room): ProgramRelay | undefined {
    return this.#relays.get(room);
  }

  session(roomId: string, sessionId: string): WhepSession | undefined {
    const session = this.#sessions.get(sessionId);
    return session?.roomId === roomId ? session : undefined;
  }

  /**
   * Checks a bearer token for watching `roomId` (401 bad/expired/other room, 403 grant): the
   * program needs `subscribe`; a named source needs `program` too (a director's iso feed).
   */
  async authorize(token: string, roomId: string, clientId: string, sourceId?: string) {
    const admitted = await this.#opts.auth.admit(token, roomId, clientId);
    const { role } = admitted.claims;
    if (!hasGrant(role, 'subscribe')) throw new WhepError(403, `a ${role} token may not watch over WHEP`);
    if (sourceId !== undefined && !hasGrant(role, 'program'))
      throw new WhepError(403, `a ${role} token plays the program only: ?source= needs a director token`);
    return admitted;
  }

  async play(request: PlayRequest): Promise<{ session: WhepSession; answer: string }> {
    const id = randomUUID();
    const { claims, commit } = await this.authorize(request.token, request.roomId, id, request.sourceId);
    const offer = parseOffer(request.sdp);
    // Refused before anything is looked up or allocated.
    const wanted = readWhepOffer(offer);
    if (wanted.length === 0) throw new NotAcceptableError();
    const max = this.#opts.maxSessions ?? MAX_WHEP_SESSIONS;
    if (this.#closed) throw new WhepError(503, 'this node is shutting down');
    if (this.#sessions.size + this.#starting >= max) {
      throw new WhepError(503, `this node plays ${max} WHEP sessions at most: try again later`, {
        'retry-after': String(WHEP_RETRY_AFTER_SECONDS),
      });
    }
    this.#starting += 1;
    try {
      const session = await this.#start(id, claims.jti, request, offer, wanted);
      commit();
      return session;
    } finally {
      this.#starting -= 1;
    }
  }

  async #start(
    id: string,
    inviteId: string,
    request: PlayRequest,
    offer: ReturnType<typeof parseOffer>,
    wanted: WantedMedia[],
  ): Promise<{ session: WhepSession; answer: string }> {
    const { room, opened } = await this.#room(request.roomId);
    await room.whenReady(RECOVERY_WAIT_MS);
    const selector: Selector =
      request.sourceId === undefined ? { kind: 'program' } : { kind: 'source', sourceId: request.sourceId };
    let attachment: Attachment | undefined;
    let session: LiveSession | undefined;
    const sink: PeerSink = {
      notify: () => {},
      detached: (reason) => {
        if (session) this.#end(session, `peer ${reason}`);
      },
    };
    let peer: Peer | undefined;
    try {
      peer = room.join({ role: 'viewer', displayName: 'WHEP player', clientId: id, sink, inviteId });
      if (room.mirrored) await this.#upstream(room);
      if (
        request.sourceId !== undefined &&
        !room.snapshot().sources.some((s) => s.sourceId === request.sourceId)
      )
        throw new WhepError(404, `no source "${request.sourceId.slice(0, 64)}" in room "${room.id}"`);
      const audio = wanted.find((w) => w.kind === 'audio');
      const video = wanted.find((w) => w.kind === 'video');
      attachment = await this.#attach(room, {
        selector,
        audio: audio?.codecs[0] ? { payloadType: audio.codecs[0].payloadType } : undefined,
        video: video
          ? {
              codecs: video.codecs.map((c) => ({
                mime: c.mime as 'video/vp8' | 'video/h264',
                payloadType: c.payloadType,
              })),
            }
          : undefined,
      });
      const transport = await attachment.router.createWebRtcTransport({
        webRtcServer: attachment.worker.webRtcServer,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        appData: { direction: 'recv', whep: id },
      });
      stillIn(peer, room, transport);
      const transports = peer.transports;
      transports.set(transport.id, transport);
      transport.observer.once('close', () => transports.delete(transport.id));
      // An offer that may be DTLS server (actpass/passive… rarely passive) makes us the server.
      const remoteRole = offer.setup === 'passive' ? 'server' : 'client';
      await transport.connect({
        dtlsParameters: { role: remoteRole, fingerprints: [offer.fingerprint as types.DtlsFingerprint] },
      });
      const sending: SendingMedia[] = [];
      for (const media of wanted) {
        const output = attachment.outputs.get(media.kind);
        const codec = media.codecs.find((c) => c.mime === output?.mime);
        if (!output || !codec) continue;
        const rtpCapabilities = consumerCapabilities(
          media,
          codec,
          attachment.router.rtpCapabilities.headerExtensions ?? [],
        );
        if (!attachment.router.canConsume({ producerId: output.producer.id, rtpCapabilities })) continue;
        const consumer = await transport.consume({
          producerId: output.producer.id,
          rtpCapabilities,
          mid: media.mid,
          appData: { whep: id },
        });
        stillIn(peer, room, consumer);
        const consumers = peer.consumers;
        consumers.set(consumer.id, consumer);
        consumer.observer.once('close', () => consumers.delete(consumer.id));
        sending.push({ media: media.media, consumer });
      }
      if (sending.length === 0) throw new NotAcceptableError();
      const answer = buildWhepAnswer(
        offer,
        sending,
        transport,
        remoteRole === 'client' ? 'passive' : 'active',
      );
      const ice = new IceSession(transport, offer.iceUfrag);
      session = {
        id,
        inviteId,
        roomId: request.roomId,
        get etag() {
          return ice.etag;
        },
        ice,
        room,
        peer,
        selector,
        transport,
        consumers: sending.map((s) => s.consumer),
        attachment,
      };
      this.#sessions.set(id, session);
      this.#watch(session);
      this.#log.info('whep session started', {
        room: request.roomId,
        session: id,
        plays: selector.kind === 'program' ? 'program' : selector.sourceId,
        tracks: sending.length,
      });
      return { session, answer };
    } catch (error) {
      attachment?.release();
      if (peer) room.leave(peer);
      // An edge room opened for this request alone goes again (nobody else is watching it).
      if (opened && room.peerCount === 0 && !room.closed) room.close();
      throw error;
    }
  }

  /** Ends a session: the peer leaves (its transport and consumers close). False when unknown. */
  end(roomId: string, sessionId: string, why = 'deleted'): boolean {
    const session = this.#sessions.get(sessionId);
    if (session?.roomId !== roomId) return false;
    this.#end(session, why);
    return true;
  }

  close(): void {
    this.#closed = true;
    for (const session of [...this.#sessions.values()]) this.#end(session, 'node closing');
    for (const relay of [...this.#relays.values()]) relay.close('node closing');
  }

  #end(session: LiveSession, why: string): void {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    session.room.leave(session.peer);
    session.attachment.release();
    this.#log.info('whep session ended', { room: session.roomId, session: session.id, why });
  }

  #watch(session: LiveSession): void {
    const timer = setTimeout(() => {
      if (session.transport.dtlsState !== 'connected') this.#end(session, 'never connected');
    }, this.#opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    timer.unref();
    session.transport.observer.once('close', () => {
      clearTimeout(timer);
      this.#end(session, 'transport closed');
    });
    session.transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') this.#end(session, `dtls ${state}`);
    });
    // The relay's producer closes only when the relay does (room closed or recovering).
    for (const consumer of session.consumers)
      consumer.on('producerclose', () => this.#end(session, 'program relay closed'));
  }

  /** A site plays rooms it has; an edge mirrors the site's room (opened like a viewer's join). */
  async #room(roomId: string): Promise<{ room: Room; opened: boolean }> {
    const existing = this.#opts.registry.get(roomId);
    if (existing && !existing.closed) return { room: existing, opened: false };
    if (!this.#opts.edge) throw new WhepError(404, `no room "${roomId.slice(0, 64)}" on this node`);
    return { room: await this.#opts.registry.open(roomId), opened: true };
  }

  /** At an edge: waits for the pipe to the site (so the site's sources and program are known). */
  async #upstream(room: Room): Promise<void> {
    const deadline = Date.now() + (this.#opts.edgeUpstreamWaitMs ?? EDGE_UPSTREAM_WAIT_MS);
    while (room.snapshot().uplink !== 'up') {
      if (room.closed) throw new WhepError(404, `room "${room.id}" closed`);
      if (Date.now() >= deadline) {
        // With the link up, a pipe that does not open means the site has no such room.
        if (this.#opts.edge?.uplink() === 'up')
          throw new WhepError(404, `no room "${room.id.slice(0, 64)}" at the site`);
        throw new WhepError(503, 'this edge cannot reach its site right now: try again shortly', {
          'retry-after': String(WHEP_RETRY_AFTER_SECONDS),
        });
      }
      await sleep(50);
    }
  }

  /** Attaches to the room's relay, opening one when there is none (or it just closed). */
  async #attach(room: Room, request: Parameters<ProgramRelay['attach']>[0]): Promise<Attachment> {
    for (let attempt = 0; ; attempt++) {
      const relay = await this.#relayFor(room);
      try {
        return await relay.attach(request);
      } catch (error) {
        if (!(error instanceof RelayClosedError) || attempt >= 2) throw error;
      }
    }
  }

  #relayFor(room: Room): Promise<ProgramRelay> {
    const existing = this.#relays.get(room);
    if (existing && !existing.closed) return Promise.resolve(existing);
    const pending = this.#opening.get(room);
    if (pending) return pending;
    const worker = this.#opts.pool.worker(room.workerSlot);
    if (!worker || worker.worker.pid !== room.workerPid)
      return Promise.reject(new WhepError(503, 'the room’s media worker is restarting: try again shortly'));
    const opening = ProgramRelay.open({
      room,
      worker,
      logger: this.#log.child('relay'),
      ...(this.#opts.keyframeWaitMs !== undefined ? { keyframeWaitMs: this.#opts.keyframeWaitMs } : {}),
      onClose: (relay, why) => {
        if (this.#relays.get(room) === relay) this.#relays.delete(room);
        // Sessions end through their consumers' producerclose; this covers the rest.
        for (const session of [...this.#sessions.values()])
          if (session.attachment.relay === relay) this.#end(session, `program relay closed (${why})`);
      },
    })
      .then((relay) => {
        this.#relays.set(room, relay);
        return relay;
      })
      .finally(() => this.#opening.delete(room));
    this.#opening.set(room, opening);
    return opening;
  }
}

/**
 * Before a media object is registered on the session's peer (so the peer's close closes it, as
 * Room does for its own): the peer may have been detached while it was created.
 */
function stillIn(peer: Peer, room: Room, object: { closed: boolean; close(): void }): void {
  if (!peer.closed && room.peer(peer.id) === peer && !object.closed) return;
  object.close();
  throw new WhepError(409, 'the session ended while it was set up');
}
