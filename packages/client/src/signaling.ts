import type {
  ClientToServerEvents,
  HandshakeAuth,
  NotificationName,
  NotificationOf,
  RequestName,
  RequestOf,
  ResponseOf,
  Result,
  ServerToClientEvents,
} from '@microstudio/protocol';
import { ErrorCode } from '@microstudio/protocol/errors';
import { REQUEST_TIMEOUT_MS } from '@microstudio/protocol/limits';
import { checkAnswer, checkNotification, isNotificationName } from '@microstudio/protocol/wire';
import { io, type Socket } from 'socket.io-client';
import { Emitter } from './emitter.ts';

export type SignalingEvents = {
  connect: [];
  /** `byClient` is true when this side called disconnect(). */
  disconnect: [reason: string, byClient: boolean];
  connect_error: [error: Error];
} & { [N in NotificationName]: [payload: NotificationOf<N>] };

/** The Result of a request that got no answer (TIMEOUT). */
const timedOut = (message: string): { ok: false; error: { code: ErrorCode; message: string } } => ({
  ok: false,
  error: { code: ErrorCode.Timeout, message },
});

export interface SignalingOptions {
  /** Origin of the studio (which proxies /socket.io to the media node). Default: the page's origin. */
  url?: string;
  path?: string;
  requestTimeoutMs?: number;
}

/**
 * Typed request/acknowledge over socket.io. Every answer and notification is checked against the
 * protocol's schemas as it arrives — compiled to JSON Schema ('@microstudio/protocol/wire'), so a
 * page checks them without loading zod; no answer within the timeout is a TIMEOUT error.
 * Reconnection is not done here (socket.io's own is off): StudioSession drives it with its
 * ReconnectPolicy.
 */
export class SignalingClient extends Emitter<SignalingEvents> {
  #socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  #url: string;
  readonly #path: string;
  readonly #timeoutMs: number;
  #closedByClient = false;
  /** The join the next connection attempt carries in its handshake (connectAndJoin). */
  #handshakeJoin: RequestOf<'room:join'> | null = null;
  /** What arrived (answers and notifications), delivered one after another in arrival order. */
  #inbound: Promise<void> = Promise.resolve();

  constructor(options: SignalingOptions = {}) {
    super();
    this.#url =
      options.url ?? (typeof window === 'undefined' ? 'http://127.0.0.1:3000' : window.location.origin);
    this.#path = options.path ?? '/socket.io';
    this.#timeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    this.#socket = this.#open(this.#url);
  }

  get url(): string {
    return this.#url;
  }

  /**
   * Points later connections at another node (a viewer moving to another edge). The current
   * socket is dropped silently: the caller is already handling its loss.
   */
  retarget(url: string): void {
    if (url === this.#url) return;
    this.#url = url;
    const old = this.#socket;
    old.removeAllListeners();
    old.disconnect();
    this.#socket = this.#open(url);
  }

  #open(url: string): Socket<ServerToClientEvents, ClientToServerEvents> {
    const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, {
      path: this.#path,
      autoConnect: false,
      reconnection: false,
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      // Read at each connection attempt: a join goes with the one connectAndJoin() opens.
      auth: (send) =>
        send(this.#handshakeJoin ? ({ join: this.#handshakeJoin } satisfies HandshakeAuth) : {}),
    });
    socket.on('connect', () => this.emit('connect'));
    socket.on('disconnect', (reason) => this.emit('disconnect', reason, this.#closedByClient));
    socket.on('connect_error', (error) => this.emit('connect_error', error));
    socket.onAny((name: string, payload: unknown) => {
      if (!isNotificationName(name)) {
        console.warn(`[microstudio] dropped an unknown "${name}" notification`);
        return;
      }
      const checked = checkNotification(name, payload);
      if (!checked.ok) {
        console.warn(`[microstudio] dropped an invalid "${name}" notification: ${checked.reason}`);
        return;
      }
      this.#deliver(() =>
        (this.emit as (event: NotificationName, payload: unknown) => void)(name, checked.value),
      );
    });
    return socket;
  }

  /**
   * Runs `handle` after everything that arrived before it was delivered: a notification that
   * followed an answer on the wire reaches listeners after the code awaiting that answer has
   * resumed, in browsers and in Node alike (where several frames can arrive in one task).
   */
  #deliver(handle: () => void): void {
    this.#inbound = this.#inbound
      .then(handle)
      .catch((error: unknown) =>
        console.warn('[microstudio] could not handle a message from the node', error),
      );
  }

  get connected(): boolean {
    return this.#socket.connected;
  }

  /** Connects and resolves once connected; rejects on a connection error or after the timeout. */
  connect(timeoutMs = this.#timeoutMs): Promise<void> {
    this.#closedByClient = false;
    if (this.#socket.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        offConnect();
        offError();
      };
      const timer = setTimeout(() => {
        cleanup();
        this.#socket.disconnect();
        reject(new Error(`signaling connection timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const offConnect = this.on('connect', () => {
        cleanup();
        resolve();
      });
      const offError = this.on('connect_error', (error) => {
        cleanup();
        reject(error);
      });
      this.#socket.connect();
    });
  }

  /**
   * Connects with `join` in the handshake (HandshakeAuth) and resolves with the node's answer
   * (`room:joined`, validated): the join costs no round trip after connecting. Rejects as
   * connect() does; an answer that does not come within the timeout is a TIMEOUT error.
   */
  async connectAndJoin(join: RequestOf<'room:join'>): Promise<Result<ResponseOf<'room:join'>>> {
    if (this.#socket.connected) return this.request('room:join', join);
    let settle: (result: Result<ResponseOf<'room:join'>>) => void = () => undefined;
    const answered = new Promise<Result<ResponseOf<'room:join'>>>((resolve) => {
      settle = resolve;
    });
    const offJoined = this.on('room:joined', (result) => settle(result));
    const offLost = this.on('disconnect', (reason) =>
      settle(timedOut(`connection lost before the join's answer (${reason})`)),
    );
    const timer = setTimeout(
      () => settle(timedOut(`no answer to room:join in ${this.#timeoutMs} ms`)),
      this.#timeoutMs,
    );
    try {
      this.#handshakeJoin = join;
      try {
        await this.connect();
      } finally {
        this.#handshakeJoin = null;
      }
      return await answered;
    } finally {
      clearTimeout(timer);
      offJoined();
      offLost();
    }
  }

  disconnect(): void {
    this.#closedByClient = true;
    this.#socket.disconnect();
  }

  /** Sends a request; resolves with the node's validated Result (never rejects). */
  request<N extends RequestName>(name: N, payload: RequestOf<N>): Promise<Result<ResponseOf<N>>> {
    if (!this.#socket.connected) {
      // Fail fast rather than let socket.io buffer it and replay it on a later connection.
      return Promise.resolve(timedOut('signaling is not connected'));
    }
    return new Promise((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        resolve(timedOut(`no answer to ${name} in ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      const untyped = this.#socket as unknown as Socket;
      untyped.emit(name, payload, (raw: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const checked = checkAnswer(name, raw);
        if (!checked.ok) {
          console.warn(`[microstudio] invalid answer to ${name}: ${checked.reason}`);
          resolve({ ok: false, error: { code: ErrorCode.Internal, message: `invalid answer to ${name}` } });
          return;
        }
        this.#deliver(() => resolve(checked.value));
      });
    });
  }

  /** Closes the socket and drops every listener. */
  close(): void {
    this.disconnect();
    this.#socket.removeAllListeners();
    this.removeAllListeners();
  }
}
