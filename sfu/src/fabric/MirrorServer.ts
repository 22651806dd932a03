import { randomUUID } from 'node:crypto';
import type { TokenClaims, TokenIssuer } from '@microstudio/auth';
import {
  ErrorCode,
  FABRIC_NAMESPACE,
  type NodeNotificationName,
  type NodeNotificationOf,
  type NodeRequestName,
  type NodeRequestOf,
  type NodeResponseOf,
  type ProgramState,
  type Result,
  type RoomSnapshot,
  type RtpParameters,
  validateNodeRequest,
} from '@microstudio/protocol';
import type { types } from 'mediasoup';
import type { Namespace, Server, Socket } from 'socket.io';
import { requireGrant, requireRoom, ServiceTokenRefusal, verifyServiceToken } from '../auth/serviceTokens.ts';
import { BadRequestError, NotFoundError, RefusedError, RoomRecoveringError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Peer } from '../rooms/Peer.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { DetachReason, PeerSink } from '../rooms/types.ts';
import { toWire } from '../rooms/wire.ts';
import { toProtocolError } from '../signaling/errors.ts';

/** Where this node's pipe ends listen (the UDP range opened between site and edges). */
export interface PipeListen {
  ip: string;
  announcedAddress: string;
  portRange: { min: number; max: number };
}

export function pipeListenInfo(listen: PipeListen): types.TransportListenInfo {
  return {
    protocol: 'udp',
    ip: listen.ip,
    announcedAddress: listen.announcedAddress,
    portRange: listen.portRange,
  };
}

export interface MirrorServerOptions {
  io: Server;
  registry: RoomRegistry;
  /**
   * Verifies an edge's `node` token (a JWT signed with MICROSTUDIO_TOKEN_SECRET, which every node
   * of a deployment shares): the node's own issuer.
   */
  issuer: TokenIssuer;
  listen: PipeListen;
  logger: Logger;
}

const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** One edge's pipe for one room: a mirror peer in the site's room and its PipeTransport. */
interface SitePipe {
  pipeId: string;
  room: Room;
  peer: Peer;
  transport: types.PipeTransport | undefined;
  /** site producer id → the pipe consumer feeding the edge. */
  consumers: Map<string, types.Consumer>;
}

type Ack = (result: Result<unknown>) => void;

/**
 * The site's end of the node-to-node channel (socket.io namespace /fabric). An edge opens a
 * room's mirror: it joins the room as a `mirror` peer (so it hears every room and program
 * change like any peer), gets a PipeTransport with SRTP and RTX, and asks for the producers
 * its viewers need, one pipe consumer each. Unknown rooms are refused, never created.
 */
export class MirrorServer {
  readonly #options: MirrorServerOptions;
  readonly #log: Logger;
  readonly #namespace: Namespace;
  /** The verified node token of each connected edge. */
  readonly #claims = new WeakMap<Socket, TokenClaims>();
  /** Every open pipe, by id, across connections. */
  readonly #pipes = new Map<string, SitePipe>();
  #closed = false;

  constructor(options: MirrorServerOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#namespace = options.io.of(FABRIC_NAMESPACE);
    this.#namespace.use((socket, next) => {
      this.#authenticate(socket.handshake.auth).then(
        (claims) => {
          this.#claims.set(socket, claims);
          next();
        },
        (error: unknown) => {
          const refusal =
            error instanceof ServiceTokenRefusal ? error.message : 'node channel authentication failed';
          this.#log.warn('refused a node channel connection', {
            reason: refusal,
            address: socket.handshake.address,
          });
          next(new Error(refusal));
        },
      );
    });
    this.#namespace.on('connection', (socket) => this.#onConnection(socket));
  }

  /** Open pipes (one per edge and room). */
  get pipeCount(): number {
    return this.#pipes.size;
  }

  /** Connected edges. */
  get edgeCount(): number {
    return this.#namespace.sockets.size;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#namespace.disconnectSockets(true);
    for (const pipe of [...this.#pipes.values()]) this.#dropPipe(pipe);
  }

  /**
   * An edge connects with its nodeId and a `node` token (role, exact grants, expiry: checked
   * once, at the handshake; the edge mints a fresh one for every reconnection).
   */
  async #authenticate(auth: Record<string, unknown>): Promise<TokenClaims> {
    const { nodeId, token } = auth;
    if (typeof nodeId !== 'string' || !NODE_ID.test(nodeId))
      throw new ServiceTokenRefusal(401, 'a nodeId is required (1–64 of A-Z a-z 0-9 . _ -)');
    const claims = await verifyServiceToken(
      this.#options.issuer,
      typeof token === 'string' ? token : undefined,
      'node',
    );
    requireGrant(claims, 'mirror');
    return claims;
  }

  #onConnection(socket: Socket): void {
    const nodeId = String(socket.handshake.auth.nodeId);
    const owned = new Set<SitePipe>();
    this.#log.info('edge connected', { node: nodeId, address: socket.handshake.address });
    socket.onAny((event: string, ...args: unknown[]) => {
      const last = args.at(-1);
      if (typeof last !== 'function') return;
      const ack = last as Ack;
      this.#dispatch(socket, nodeId, owned, event, args.length > 1 ? args[0] : undefined)
        .then((data) => ack({ ok: true, data }))
        .catch((error: unknown) =>
          ack({ ok: false, error: toProtocolError(error, this.#log, event.slice(0, 64)) }),
        );
    });
    socket.on('disconnect', (reason) => {
      this.#log.info('edge disconnected', { node: nodeId, reason, pipes: owned.size });
      for (const pipe of [...owned]) this.#dropPipe(pipe);
    });
  }

  async #dispatch(
    socket: Socket,
    nodeId: string,
    owned: Set<SitePipe>,
    event: string,
    payload: unknown,
  ): Promise<unknown> {
    const validated = validateNodeRequest(event, payload);
    if (!validated.ok) throw new RefusedError(validated.error.code, validated.error.message);
    const name: NodeRequestName = validated.name;
    switch (name) {
      case 'node:ping':
        return { at: Date.now() } satisfies NodeResponseOf<'node:ping'>;
      case 'mirror:open':
        return this.#open(socket, nodeId, owned, validated.payload as NodeRequestOf<'mirror:open'>);
      case 'mirror:connect': {
        const { pipeId, edge } = validated.payload as NodeRequestOf<'mirror:connect'>;
        const pipe = this.#pipe(owned, pipeId);
        if (!pipe.transport) throw new BadRequestError('the pipe is still opening');
        await pipe.transport.connect({ ip: edge.ip, port: edge.port, srtpParameters: edge.srtpParameters });
        return {};
      }
      case 'mirror:consume':
        return this.#consume(socket, owned, validated.payload as NodeRequestOf<'mirror:consume'>);
      case 'mirror:unconsume': {
        const { pipeId, producerId } = validated.payload as NodeRequestOf<'mirror:unconsume'>;
        this.#pipe(owned, pipeId).consumers.get(producerId)?.close();
        return {};
      }
      case 'mirror:close': {
        const { pipeId } = validated.payload as NodeRequestOf<'mirror:close'>;
        const pipe = this.#pipe(owned, pipeId);
        owned.delete(pipe);
        this.#dropPipe(pipe);
        return {};
      }
    }
  }

  async #open(
    socket: Socket,
    nodeId: string,
    owned: Set<SitePipe>,
    { roomId }: NodeRequestOf<'mirror:open'>,
  ): Promise<NodeResponseOf<'mirror:open'>> {
    // A node token may be for one room only (edges mint theirs for every room, `*`).
    const claims = this.#claims.get(socket);
    if (!claims) throw new RefusedError(ErrorCode.Unauthorized, 'this node channel was not authenticated');
    try {
      requireRoom(claims, roomId);
    } catch (error) {
      throw new RefusedError(ErrorCode.Forbidden, error instanceof Error ? error.message : String(error));
    }
    const room = this.#options.registry.get(roomId);
    if (!room || room.closed) throw new NotFoundError('room', roomId);
    if (room.recovering) throw new RoomRecoveringError(roomId);
    const pipeId = randomUUID();
    const emit = <N extends NodeNotificationName>(name: N, data: NodeNotificationOf<N>) => {
      if (this.#pipes.has(pipeId)) socket.emit(name, data);
    };
    const sink: PeerSink = {
      notify: (name, data) => {
        if (name === 'room:state') emit('mirror:room', { pipeId, room: data as RoomSnapshot });
        else if (name === 'program:state') emit('mirror:program', { pipeId, program: data as ProgramState });
      },
      detached: (reason: DetachReason) => {
        emit('mirror:closed', { pipeId, reason: `the site's room let the pipe go (${reason})` });
        const pipe = this.#pipes.get(pipeId);
        if (pipe) owned.delete(pipe);
        this.#pipes.delete(pipeId);
      },
    };
    // One mirror peer per edge and room: a re-open (or a reconnected edge) replaces the old
    // one, and the room closes the old pipe with it.
    const peer = room.join({ role: 'mirror', displayName: nodeId, clientId: `mirror:${nodeId}`, sink });
    const pipe: SitePipe = { pipeId, room, peer, transport: undefined, consumers: new Map() };
    this.#pipes.set(pipeId, pipe);
    owned.add(pipe);
    try {
      pipe.transport = await room.createPipeTransport(pipe.peer, pipeListenInfo(this.#options.listen));
    } catch (error) {
      owned.delete(pipe);
      this.#dropPipe(pipe);
      throw error;
    }
    const { tuple, srtpParameters } = pipe.transport;
    if (!srtpParameters) throw new Error('pipe transport has no SRTP parameters');
    this.#log.info('pipe opened', { room: roomId, node: nodeId, pipe: pipeId, port: tuple.localPort });
    return {
      pipeId,
      site: { ip: this.#options.listen.announcedAddress, port: tuple.localPort, srtpParameters },
      room: room.snapshot(),
    };
  }

  async #consume(
    socket: Socket,
    owned: Set<SitePipe>,
    { pipeId, producerId }: NodeRequestOf<'mirror:consume'>,
  ): Promise<NodeResponseOf<'mirror:consume'>> {
    const pipe = this.#pipe(owned, pipeId);
    if (!pipe.transport) throw new BadRequestError('the pipe is still opening');
    const existing = pipe.consumers.get(producerId);
    if (existing && !existing.closed) {
      const purpose = pipe.room
        .snapshot()
        .sources.flatMap((s) => s.tracks)
        .find((t) => t.producerId === producerId)?.purpose;
      return {
        producerId,
        kind: existing.kind,
        purpose: purpose ?? (existing.kind === 'audio' ? 'mic' : 'camera'),
        rtpParameters: toWire<RtpParameters>(existing.rtpParameters),
        paused: existing.producerPaused,
      };
    }
    const { consumer, purpose } = await pipe.room.consumeIntoPipe(pipe.peer, pipe.transport.id, producerId);
    pipe.consumers.set(producerId, consumer);
    const tell = (event: 'close' | 'pause' | 'resume') => {
      if (this.#pipes.get(pipeId) === pipe) socket.emit('mirror:producer', { pipeId, producerId, event });
    };
    consumer.observer.once('close', () => {
      if (pipe.consumers.get(producerId) === consumer) pipe.consumers.delete(producerId);
    });
    consumer.once('producerclose', () => tell('close'));
    consumer.on('producerpause', () => tell('pause'));
    consumer.on('producerresume', () => tell('resume'));
    return {
      producerId,
      kind: consumer.kind,
      purpose,
      rtpParameters: toWire<RtpParameters>(consumer.rtpParameters),
      paused: consumer.producerPaused,
    };
  }

  #pipe(owned: Set<SitePipe>, pipeId: string): SitePipe {
    const pipe = this.#pipes.get(pipeId);
    // Another node's pipe id is as unknown as a made-up one.
    if (!pipe || !owned.has(pipe)) throw new NotFoundError('pipe', pipeId);
    return pipe;
  }

  #dropPipe(pipe: SitePipe): void {
    this.#pipes.delete(pipe.pipeId);
    // Leaving closes the peer's transport, and with it every pipe consumer.
    pipe.room.leave(pipe.peer);
  }
}
