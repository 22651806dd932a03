import { randomUUID } from 'node:crypto';
import { displayNameSchema, ErrorCode } from '@microstudio/protocol';
import type { types } from 'mediasoup';
import type { Authenticator } from '../auth/Authenticator.ts';
import { RefusedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { PeerSink } from '../rooms/types.ts';
import { UnprocessableOfferError, UnsupportedCodecError, WhipError } from './errors.ts';
import { IceSession } from './IceSession.ts';
import { type AcceptedMedia, mapOfferMedia } from './offerMapping.ts';
import { buildAnswer } from './sdpAnswer.ts';
import { type OfferMedia, parseOffer } from './sdpOffer.ts';

/** A session whose ICE/DTLS never completes is ended after this long (the encoder went away). */
const CONNECT_TIMEOUT_MS = 30_000;
/** How long a room being recovered may hold a new session before it is refused. */
const RECOVERY_WAIT_MS = 3_000;

export interface WhipSession {
  readonly id: string;
  readonly roomId: string;
  /** The ICE session's entity-tag (changes with each ICE restart). */
  readonly etag: string;
  /** Trickle ICE and ICE restarts (PATCH). */
  readonly ice: IceSession;
  readonly room: Room;
  readonly peer: Peer;
  readonly transport: types.WebRtcTransport;
}

export interface WhipServiceOptions {
  registry: RoomRegistry;
  auth: Authenticator;
  logger: Logger;
  connectTimeoutMs?: number;
  /**
   * This node is an edge: its rooms are viewer-only mirrors of the site's, so WHIP is refused
   * before a room is opened for it (a mirror opened for a refused publisher would stay open).
   */
  edge?: boolean | undefined;
}

export interface PublishRequest {
  roomId: string;
  token: string;
  sdp: string;
  /** `?name=` from the URL; the token's label otherwise. */
  name?: string | undefined;
}

/**
 * WHIP sessions (RFC 9725): each is a server-side camera peer in its room, with one WebRTC
 * transport and one producer per accepted m-section. Ending a session (DELETE, the peer being
 * detached, DTLS failing, never connecting) makes the peer leave, which closes everything it owns.
 */
export class WhipService {
  readonly #sessions = new Map<string, WhipSession>();
  readonly #opts: WhipServiceOptions;

  constructor(options: WhipServiceOptions) {
    this.#opts = options;
  }

  get size(): number {
    return this.#sessions.size;
  }

  session(roomId: string, sessionId: string): WhipSession | undefined {
    const session = this.#sessions.get(sessionId);
    return session?.roomId === roomId ? session : undefined;
  }

  /** Checks a bearer token for publishing in `roomId` (401 bad/expired/other room, 403 role). */
  async authorize(token: string, roomId: string, clientId: string) {
    const admitted = await this.#opts.auth.admit(token, roomId, clientId);
    if (admitted.claims.role !== 'camera')
      throw new WhipError(403, `a ${admitted.claims.role} token may not publish over WHIP`);
    return admitted;
  }

  async publish(request: PublishRequest): Promise<{ session: WhipSession; answer: string }> {
    if (this.#opts.edge)
      throw new WhipError(
        403,
        'this is an edge node, it serves viewers only: publish over WHIP at the site node',
      );
    const id = randomUUID();
    const { claims, commit } = await this.authorize(request.token, request.roomId, id);
    const offer = parseOffer(request.sdp);
    const name = displayNameSchema.safeParse(request.name ?? claims.label ?? `WHIP ${id.slice(0, 4)}`);
    if (!name.success) throw new WhipError(400, 'the name must be 1 to 64 characters');
    // The whole offer is judged before a room is opened for it: every m-section must be accepted.
    assertIngestible(offer.media);
    const room = await this.#opts.registry.open(request.roomId);
    await room.whenReady(RECOVERY_WAIT_MS);
    // Header extensions are matched against the router before anything is allocated in the room.
    const accepted = new Map<OfferMedia, AcceptedMedia>();
    for (const media of offer.media) {
      if (media.port === 0) continue;
      const mapped = mapOfferMedia(media, room.rtpCapabilities);
      if (!mapped) throw new UnprocessableOfferError(`m-section ${media.mid ?? '?'} has no accepted codec`);
      accepted.set(media, mapped);
    }
    const sink: PeerSink = { notify: () => {}, detached: () => this.#forget(id) };
    const peer = room.join({ role: 'camera', displayName: name.data, clientId: id, sink });
    try {
      const options = await room.createWebRtcTransport(peer, 'send');
      const transport = peer.transports.get(options.id) as types.WebRtcTransport;
      // An offer that may be DTLS server (actpass/passive… rarely passive) makes us the server.
      const remoteRole = offer.setup === 'passive' ? 'server' : 'client';
      await room.connectTransport(peer, options.id, {
        role: remoteRole,
        fingerprints: [offer.fingerprint],
      } as Parameters<Room['connectTransport']>[2]);
      for (const media of accepted.values()) {
        await room.produce(peer, {
          transportId: options.id,
          kind: media.kind,
          rtpParameters: media.rtpParameters as Parameters<Room['produce']>[1]['rtpParameters'],
          purpose: media.kind === 'audio' ? 'mic' : 'camera',
        });
      }
      const answer = buildAnswer(offer, accepted, transport, remoteRole === 'client' ? 'passive' : 'active');
      const ice = new IceSession(transport, offer.iceUfrag);
      const session: WhipSession = {
        id,
        roomId: request.roomId,
        get etag() {
          return ice.etag;
        },
        ice,
        room,
        peer,
        transport,
      };
      this.#sessions.set(id, session);
      this.#watch(session);
      commit();
      this.#opts.logger.info('whip session started', {
        room: request.roomId,
        session: id,
        tracks: accepted.size,
      });
      return { session, answer };
    } catch (error) {
      room.leave(peer);
      if (error instanceof RefusedError && error.code === ErrorCode.BadRequest)
        throw new WhipError(400, `the offer was refused: ${error.message}`);
      throw error;
    }
  }

  /** Ends a session: the peer leaves, its transport and producers close. False when unknown. */
  end(roomId: string, sessionId: string, why = 'deleted'): boolean {
    const session = this.session(roomId, sessionId);
    if (!session) return false;
    this.#sessions.delete(sessionId);
    session.room.leave(session.peer);
    this.#opts.logger.info('whip session ended', { room: roomId, session: sessionId, why });
    return true;
  }

  close(): void {
    for (const session of [...this.#sessions.values()]) this.end(session.roomId, session.id, 'node closing');
  }

  #watch(session: WhipSession): void {
    const timer = setTimeout(() => {
      if (session.transport.dtlsState !== 'connected')
        this.end(session.roomId, session.id, 'never connected');
    }, this.#opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    timer.unref();
    session.transport.observer.once('close', () => {
      clearTimeout(timer);
      this.end(session.roomId, session.id, 'transport closed');
    });
    session.transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') this.end(session.roomId, session.id, `dtls ${state}`);
    });
  }

  #forget(sessionId: string): void {
    this.#sessions.delete(sessionId);
  }
}

/** Why the node would reject this m-section, or undefined when it accepts it. */
function rejection(media: OfferMedia): string | undefined {
  if (media.type !== 'audio' && media.type !== 'video')
    return `is ${media.type.slice(0, 16)}, not audio or video`;
  if (media.direction === 'recvonly' || media.direction === 'inactive')
    return `is ${media.direction}, not sending`;
  const noExtensions = { codecs: [], headerExtensions: [] };
  if (!mapOfferMedia(media, noExtensions)) return 'has no supported codec';
  return undefined;
}

/**
 * RFC 9725 §4.5: one audio and one video track at most, and no partially successful answers —
 * an offer with an m-section the node would reject is refused whole (422) instead. Sections the
 * offerer itself rejected (port 0) are left out.
 */
function assertIngestible(media: OfferMedia[]): void {
  const active = media.filter((m) => m.port !== 0);
  const reasons = active.map((m) => ({ m, why: rejection(m) }));
  if (reasons.every((r) => r.why !== undefined)) throw new UnsupportedCodecError();
  const refused = reasons.find((r) => r.why !== undefined);
  if (refused)
    throw new UnprocessableOfferError(
      `m-section ${refused.m.mid ?? '?'} ${refused.why} (an offer is accepted whole or not at all)`,
    );
  for (const kind of ['audio', 'video'] as const)
    if (active.filter((m) => m.type === kind).length > 1)
      throw new UnprocessableOfferError(`more than one ${kind} track (WHIP ingests one of each at most)`);
}
