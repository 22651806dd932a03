import type { Server as HttpServer } from 'node:http';
import { hasGrant } from '@microstudio/auth';
import {
  ErrorCode,
  fail,
  type ProtocolError,
  type RequestName,
  type RequestOf,
  type ResponseOf,
  type Result,
  type ServerToClientEvents,
  transportMaxBytes,
  validateRequest,
} from '@microstudio/protocol';
import { Server, type Socket } from 'socket.io';
import type { Authenticator } from '../auth/Authenticator.ts';
import type { TurnSettings } from '../auth/turn.ts';
import type { Logger } from '../log.ts';
import type { RecordingDesks } from '../recording/RecordingDesk.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { toProtocolError } from './errors.ts';
import {
  handleDirectorAuth,
  handleJoin,
  type Joined,
  joinedHandlers,
  type TelemetrySink,
} from './handlers.ts';
import { isAllowedOrigin } from './origins.ts';
import { requiredGrant } from './policy.ts';
import { Session } from './Session.ts';

export interface SignalingDeps {
  registry: RoomRegistry;
  auth: Authenticator;
  logger: Logger;
  /** MICROSTUDIO_MAX_MESSAGES_PER_SECOND. */
  maxMessagesPerSecond: number;
  /** MICROSTUDIO_MAX_MESSAGE_BYTES. */
  maxMessageBytes: number;
  /** Web origins allowed to connect (see origins.ts). */
  allowedOrigins: ReadonlySet<string>;
  /** How long a join waits for a recovering room (default 3 s). */
  joinRecoveryWaitMs?: number;
  /** TURN servers and the REST secret; undefined = joins get no ICE servers. */
  turn?: TurnSettings | undefined;
  /** Where telemetry:report goes (the node's metrics); undefined = accepted and dropped. */
  telemetry?: TelemetrySink | undefined;
  /** The rooms' recording desks (site nodes). */
  recording?: RecordingDesks | undefined;
}

export interface SignalingServer {
  readonly io: Server;
  /** Live connections. */
  readonly connections: number;
  /** Disconnects every client and detaches from the HTTP server. Safe to call twice. */
  close(): Promise<void>;
}

type Ack = (result: Result<unknown>) => void;

/**
 * Attaches socket.io to `httpServer` (it does not listen). Every incoming event goes through one
 * dispatcher: rate limit → validateRequest (known event, size, schema) → join state → role →
 * handler, and is answered with a Result. Nothing a handler throws crosses this boundary.
 */
export function createSignalingServer(httpServer: HttpServer, deps: SignalingDeps): SignalingServer {
  const log = deps.logger.child('signaling');
  const io = new Server<Record<string, never>, ServerToClientEvents>(httpServer, {
    path: '/socket.io',
    maxHttpBufferSize: transportMaxBytes(deps.maxMessageBytes),
    cors: { origin: [...deps.allowedOrigins] },
    allowRequest: (req, callback) => {
      const allowed = isAllowedOrigin(req.headers.origin, deps.allowedOrigins);
      if (!allowed)
        log.warn('refused a connection from another origin', { origin: req.headers.origin?.slice(0, 100) });
      callback(allowed ? null : 'origin not allowed', allowed);
    },
  });
  const handlerDeps = {
    registry: deps.registry,
    auth: deps.auth,
    joinRecoveryWaitMs: deps.joinRecoveryWaitMs ?? 3000,
    turn: deps.turn,
  };
  let closed = false;

  const sessions = new Set<Session>();
  // A revoked invite lets go of the devices that joined with it: their connection closes and
  // their re-join is refused, so the page says the invite was revoked.
  deps.auth.on('revoked', ({ inviteId }) => {
    for (const session of sessions) {
      if (session.claims?.jti === inviteId) {
        log.info('disconnecting a revoked invite', { socket: session.socket.id, room: session.claims.room });
        session.socket.disconnect(true);
      }
    }
  });

  io.on('connection', (socket: Socket<Record<string, never>, ServerToClientEvents>) => {
    const session = new Session(socket, deps.maxMessagesPerSecond, log);
    sessions.add(session);
    log.debug('connected', { socket: socket.id });
    socket.onAny((event: string, ...args: unknown[]) => {
      const last = args.at(-1);
      const ack = typeof last === 'function' ? (last as Ack) : undefined;
      const payload = ack ? (args.length > 1 ? args[0] : undefined) : args[0];
      if (!ack) {
        if (!session.loggedNoAck) {
          session.loggedNoAck = true;
          log.warn('dropped a message without acknowledgement callback', {
            socket: socket.id,
            event: event.slice(0, 64),
          });
        }
        return;
      }
      answer(session, event, payload, ack);
    });
    socket.on('disconnect', (reason) => {
      sessions.delete(session);
      const { room } = session;
      const peer = session.release();
      if (room && peer) room.leave(peer);
      log.debug('disconnected', { socket: socket.id, reason });
    });
    const auth: Record<string, unknown> = socket.handshake.auth ?? {};
    if (Object.hasOwn(auth, 'join')) joinFromHandshake(session, auth.join);
  });

  /**
   * A join sent with the handshake (HandshakeAuth): dispatched exactly as a room:join request
   * (rate limit, size, schema, token), its Result sent as `room:joined` instead of an ack.
   */
  function joinFromHandshake(session: Session, payload: unknown): void {
    answer(session, 'room:join', payload, (result) => {
      if (session.socket.connected)
        session.socket.emit('room:joined', result as Result<ResponseOf<'room:join'>>);
    });
  }

  /**
   * Dispatches an incoming event and hands its Result to `send` (an ack, or an emit): whatever
   * dispatch() throws becomes an error Result, and nothing `send` throws escapes.
   */
  function answer(
    session: Session,
    event: string,
    payload: unknown,
    send: (result: Result<unknown>) => void,
  ): void {
    dispatch(session, event, payload)
      .catch((error: unknown) => ({ ok: false as const, error: toProtocolError(error, log, 'dispatch') }))
      .then(send)
      .catch((error: unknown) =>
        log.warn('could not send an answer', { event: event.slice(0, 64), error: String(error) }),
      );
  }

  async function dispatch(session: Session, event: string, payload: unknown): Promise<Result<unknown>> {
    if (!session.limiter.take())
      return fail(
        ErrorCode.RateLimited,
        `more than ${deps.maxMessagesPerSecond} messages per second (MICROSTUDIO_MAX_MESSAGES_PER_SECOND)`,
      );
    const validated = validateRequest(event, payload, deps.maxMessageBytes);
    if (!validated.ok) return { ok: false, error: validated.error };
    const name: RequestName = validated.name;
    try {
      if (name === 'room:join') {
        return {
          ok: true,
          data: await handleJoin(handlerDeps, session, validated.payload as RequestOf<'room:join'>),
        };
      }
      if (name === 'auth:director') {
        return {
          ok: true,
          data: await handleDirectorAuth(handlerDeps, validated.payload as RequestOf<'auth:director'>),
        };
      }
      const { room, peer } = session;
      if (!room || !peer) return notJoined(session);
      const grant = requiredGrant[name];
      if (grant !== null && (peer.role === 'mirror' || !hasGrant(peer.role, grant))) {
        return fail(ErrorCode.Forbidden, `a ${peer.role} may not send ${name}`);
      }
      // A guest in the green room has its role's grants only once the director admits it.
      if (grant !== null && peer.role !== 'mirror' && !hasGrant(peer.role, grant, !peer.waiting)) {
        return fail(ErrorCode.NotAdmitted, `wait for the director to admit you before ${name}`);
      }
      const handler = joinedHandlers[name] as (ctx: Joined, payload: unknown) => unknown;
      const ctx: Joined = {
        session,
        auth: deps.auth,
        room,
        peer,
        telemetry: deps.telemetry,
        recording: deps.recording,
      };
      return { ok: true, data: await handler(ctx, validated.payload) };
    } catch (error) {
      const protocolError: ProtocolError = toProtocolError(error, log, name);
      return { ok: false, error: protocolError };
    }
  }

  function notJoined(session: Session): Result<never> {
    if (session.recoveringRoom?.recovering) {
      return fail(
        ErrorCode.RoomRecovering,
        'this room is being recovered after a media worker failure: re-join shortly',
      );
    }
    return fail(ErrorCode.NotJoined, 'join a room first (room:join)');
  }

  return {
    io,
    get connections() {
      return io.of('/').sockets.size;
    },
    async close() {
      if (closed) return;
      closed = true;
      io.disconnectSockets(true);
      await new Promise<void>((resolve) => {
        io.close(() => resolve());
      });
    },
  };
}
