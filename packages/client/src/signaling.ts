import type {
  ClientToServerEvents,
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
import { io, type Socket } from 'socket.io-client';
import { Emitter } from './emitter.ts';
import { type ProtocolSchemas, protocolSchemas } from './protocolSchemas.ts';

export type SignalingEvents = {
  connect: [];
  /** `byClient` is true when this side called disconnect(). */
  disconnect: [reason: string, byClient: boolean];
  connect_error: [error: Error];
} & { [N in NotificationName]: [payload: NotificationOf<N>] };

export interface SignalingOptions {
  /** Origin of the studio (which proxies /socket.io to the media node). Default: the page's origin. */
  url?: string;
  path?: string;
  requestTimeoutMs?: number;
}

/**
 * Typed request/acknowledge over socket.io. Every answer and notification is validated against
 * the protocol's schemas (loaded while the socket connects: protocolSchemas.ts), in the order
 * they arrived; no answer within the timeout is a TIMEOUT error. Reconnection is not done here
 * (socket.io's own is off): StudioSession drives it with its ReconnectPolicy.
 */
export class SignalingClient extends Emitter<SignalingEvents> {
  #socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  #url: string;
  readonly #path: string;
  readonly #timeoutMs: number;
  #closedByClient = false;
  /** What arrived (answers and notifications), validated and delivered one after another. */
  #inbound: Promise<void> = Promise.resolve();

  constructor(options: SignalingOptions = {}) {
    super();
    void protocolSchemas();
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
    });
    socket.on('connect', () => this.emit('connect'));
    socket.on('disconnect', (reason) => this.emit('disconnect', reason, this.#closedByClient));
    socket.on('connect_error', (error) => this.emit('connect_error', error));
    socket.onAny((name: string, payload: unknown) => {
      this.#deliver((schemas) => {
        if (!Object.hasOwn(schemas.notifications, name)) {
          console.warn(`[microstudio] dropped an unknown "${name}" notification`);
          return;
        }
        const parsed = schemas.notifications[name as NotificationName].safeParse(payload);
        if (!parsed.success) {
          console.warn(`[microstudio] dropped an invalid "${name}" notification`, parsed.error.issues);
          return;
        }
        (this.emit as (event: NotificationName, payload: unknown) => void)(
          name as NotificationName,
          parsed.data,
        );
      });
    });
    return socket;
  }

  /**
   * Runs `handle` with the schemas after everything that arrived before it: a notification and
   * the answer that followed it on the wire are seen in that order, as before the schemas were
   * loaded lazily (the session relies on it, e.g. state pushed while a join is in flight).
   */
  #deliver(handle: (schemas: ProtocolSchemas) => void): void {
    this.#inbound = this.#inbound
      .then(protocolSchemas)
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

  disconnect(): void {
    this.#closedByClient = true;
    this.#socket.disconnect();
  }

  /** Sends a request; resolves with the node's validated Result (never rejects). */
  request<N extends RequestName>(name: N, payload: RequestOf<N>): Promise<Result<ResponseOf<N>>> {
    if (!this.#socket.connected) {
      // Fail fast rather than let socket.io buffer it and replay it on a later connection.
      return Promise.resolve({
        ok: false,
        error: { code: ErrorCode.Timeout, message: 'signaling is not connected' },
      });
    }
    return new Promise((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        resolve({
          ok: false,
          error: { code: ErrorCode.Timeout, message: `no answer to ${name} in ${this.#timeoutMs} ms` },
        });
      }, this.#timeoutMs);
      const untyped = this.#socket as unknown as Socket;
      untyped.emit(name, payload, (raw: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#deliver((schemas) => {
          const parsed = schemas.resultSchema(schemas.requests[name].response).safeParse(raw);
          if (!parsed.success) {
            resolve({ ok: false, error: { code: ErrorCode.Internal, message: `invalid answer to ${name}` } });
            return;
          }
          resolve(parsed.data as Result<ResponseOf<N>>);
        });
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
