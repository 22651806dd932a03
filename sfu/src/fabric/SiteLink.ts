import {
  FABRIC_NAMESPACE,
  type NodeNotificationName,
  type NodeNotificationOf,
  type NodeRequestName,
  type NodeRequestOf,
  type NodeResponseOf,
  nodeNotifications,
  nodeRequests,
  resultSchema,
} from '@microstudio/protocol';
import { io, type Socket } from 'socket.io-client';
import { RefusedError, UpstreamUnavailableError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { SafeEmitter } from '../util/SafeEmitter.ts';
import type { Fabric } from './Fabric.ts';
import { type RttFigures, RttStats } from './RttStats.ts';

export interface SiteLinkOptions {
  fabric: Fabric;
  nodeId: string;
  /**
   * A fresh `node` token (JWT signed with the MICROSTUDIO_TOKEN_SECRET the site shares), asked
   * for at every (re)connection: the site checks it once, at the handshake.
   */
  nodeToken: () => Promise<string>;
  logger: Logger;
  /** How often the link is probed (default 500 ms). */
  pingIntervalMs?: number;
  /** A probe unanswered this long counts as lost (default 1000 ms). */
  pingTimeoutMs?: number;
  /** Lost probes in a row that mean the uplink is down (default 2). */
  lostPingsForDown?: number;
  /** How long one request may take (default 5000 ms). */
  requestTimeoutMs?: number;
}

export type SiteLinkEvents = {
  /** The uplink came up (connected and answering) or went down. */
  state: [state: 'up' | 'down'];
  /** A probe came back after this many ms (the round trip over the node channel). */
  rtt: [rttMs: number];
} & { [N in NodeNotificationName]: [NodeNotificationOf<N>] };

const notificationNames = Object.keys(nodeNotifications) as NodeNotificationName[];

/**
 * An edge's connection to its site: found through the fabric, authenticated by a node token,
 * and probed every half second so a dead WAN path is noticed in ~2 s (socket.io's own
 * heartbeat would take tens of seconds); each answered probe is also a round-trip time sample
 * (`rtt` events and figures). While down it keeps reconnecting by itself; callers see `state`
 * events and UpstreamUnavailableError, never a hang.
 */
export class SiteLink extends SafeEmitter<SiteLinkEvents> {
  readonly #options: SiteLinkOptions;
  readonly #log: Logger;
  #socket: Socket | undefined;
  #siteUrl: string | undefined;
  #state: 'up' | 'down' = 'down';
  #lostPings = 0;
  /** Round trips of the answered probes since the link last came up. */
  readonly #rtt = new RttStats();
  #pingInFlight = false;
  #pingTimer: NodeJS.Timeout | undefined;
  #locateTimer: NodeJS.Timeout | undefined;
  #refusedLogged = false;
  #closed = false;

  constructor(options: SiteLinkOptions) {
    super((event, error) =>
      options.logger.error('site link listener threw', { event, error: String(error) }),
    );
    this.#options = options;
    this.#log = options.logger;
  }

  get state(): 'up' | 'down' {
    return this.#state;
  }

  /** Round-trip time to the site from the recent probes; undefined while down or not yet measured. */
  get rtt(): RttFigures | undefined {
    return this.#state === 'up' ? this.#rtt.figures : undefined;
  }

  get siteUrl(): string | undefined {
    return this.#siteUrl;
  }

  start(): void {
    void this.#locate();
    this.#pingTimer = setInterval(() => this.#ping(), this.#options.pingIntervalMs ?? 500);
    this.#pingTimer.unref();
  }

  async request<N extends NodeRequestName>(name: N, payload: NodeRequestOf<N>): Promise<NodeResponseOf<N>> {
    const socket = this.#socket;
    if (!socket?.connected || this.#state !== 'up') {
      throw new UpstreamUnavailableError("the edge's link to the site is down: retrying by itself");
    }
    const timeoutMs = this.#options.requestTimeoutMs ?? 5000;
    let answer: unknown;
    try {
      answer = await socket.timeout(timeoutMs).emitWithAck(name, payload);
    } catch {
      throw new UpstreamUnavailableError(`the site did not answer ${name} within ${timeoutMs} ms`);
    }
    const parsed = resultSchema(nodeRequests[name].response).safeParse(answer);
    if (!parsed.success) throw new Error(`the site answered ${name} with an invalid result`);
    if (!parsed.data.ok) throw new RefusedError(parsed.data.error.code, `site: ${parsed.data.error.message}`);
    return parsed.data.data as NodeResponseOf<N>;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pingTimer);
    clearTimeout(this.#locateTimer);
    this.#socket?.disconnect();
    this.#socket?.removeAllListeners();
    this.#setState('down');
    this.removeAllListeners();
  }

  /** Finds the site in the fabric (retrying each second until there is one) and connects. */
  async #locate(): Promise<void> {
    if (this.#closed) return;
    try {
      const site = (await this.#options.fabric.nodes()).find((node) => node.role === 'site');
      if (site) {
        this.#connect(site.internalUrl);
        return;
      }
      this.#log.once('warn', 'no-site', 'no site node in the fabric yet: waiting for one');
    } catch (error) {
      this.#log.once('warn', 'fabric-down', 'cannot read the fabric to find the site', {
        error: String(error),
      });
    }
    this.#locateTimer = setTimeout(() => void this.#locate(), 1000);
    this.#locateTimer.unref();
  }

  #connect(url: string): void {
    this.#siteUrl = url;
    const socket = io(`${url}${FABRIC_NAMESPACE}`, {
      // A function: socket.io calls it again for every reconnection, so no token outlives its use.
      auth: (give) => {
        const nodeId = this.#options.nodeId;
        this.#options.nodeToken().then(
          (token) => give({ nodeId, token }),
          (error: unknown) => {
            this.#log.error('cannot mint a node token', { error: String(error) });
            give({ nodeId });
          },
        );
      },
      transports: ['websocket'],
      reconnection: true,
      reconnectionDelay: 250,
      reconnectionDelayMax: 1000,
      randomizationFactor: 0.3,
      // A blackholed path must fail fast so the next attempt can succeed when it heals.
      timeout: 2000,
    });
    this.#socket = socket;
    this.#log.info('connecting to the site', { url });
    socket.on('connect', () => {
      this.#refusedLogged = false;
      this.#lostPings = 0;
      this.#setState('up');
    });
    socket.on('disconnect', (reason) => {
      this.#log.warn('site link lost', { reason });
      this.#setState('down');
      // socket.io does not reconnect after a disconnect we caused; the probe caused it.
      if (reason === 'io client disconnect' && !this.#closed) setTimeout(() => socket.connect(), 250).unref();
    });
    socket.on('connect_error', (error) => {
      // The site refused us (bad node token...): socket.io will not retry that by itself.
      if (!socket.active) {
        if (!this.#refusedLogged)
          this.#log.error('the site refused the node channel', { error: error.message });
        this.#refusedLogged = true;
        setTimeout(() => {
          if (!this.#closed) socket.connect();
        }, 2000).unref();
      }
    });
    for (const name of notificationNames) {
      socket.on(name, (payload: unknown) => {
        const parsed = nodeNotifications[name].safeParse(payload);
        if (!parsed.success) {
          this.#log.once(
            'warn',
            `bad-notification:${name}`,
            'dropped an invalid notification from the site',
            { name },
          );
          return;
        }
        (this.safeEmit as (event: NodeNotificationName, data: unknown) => void)(name, parsed.data);
      });
    }
  }

  #ping(): void {
    const socket = this.#socket;
    if (!socket?.connected || this.#pingInFlight) return;
    this.#pingInFlight = true;
    const sentAt = performance.now();
    socket.timeout(this.#options.pingTimeoutMs ?? 1000).emit('node:ping', {}, (error: Error | null) => {
      this.#pingInFlight = false;
      if (this.#closed || socket !== this.#socket) return;
      if (!error) {
        this.#lostPings = 0;
        const rttMs = performance.now() - sentAt;
        this.#rtt.add(rttMs);
        this.safeEmit('rtt', rttMs);
        if (socket.connected) this.#setState('up');
        return;
      }
      this.#lostPings += 1;
      if (this.#lostPings >= (this.#options.lostPingsForDown ?? 2) && this.#state === 'up') {
        this.#log.warn('site link stopped answering: reconnecting', { lostPings: this.#lostPings });
        this.#setState('down');
        socket.disconnect();
      }
    });
  }

  #setState(state: 'up' | 'down'): void {
    if (this.#state === state) return;
    this.#state = state;
    if (state === 'down') this.#rtt.clear();
    this.#log.info(`uplink ${state}`, { site: this.#siteUrl });
    this.safeEmit('state', state);
  }
}
