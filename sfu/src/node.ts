import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { announcedAddress, type Config } from '@microstudio/config';
import { createHttpApp } from './http/HttpApp.ts';
import { createLogger, type Logger } from './log.ts';
import { RoomRegistry } from './rooms/RoomRegistry.ts';
import { createSignalingServer, type SignalingServer } from './signaling/SignalingServer.ts';
import { WorkerPool } from './workers/WorkerPool.ts';

export interface MediaNode {
  readonly config: Config;
  readonly pool: WorkerPool;
  readonly registry: RoomRegistry;
  readonly signaling: SignalingServer;
  readonly httpServer: HttpServer;
  readonly host: string;
  /** The bound port (the configured one, or the ephemeral one when configured as 0). */
  readonly port: number;
  readonly url: string;
  readonly announcedAddress: string;
  /** Disconnects clients, closes rooms, workers and the HTTP server. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartNodeOptions {
  logger?: Logger;
  /** Override MICROSTUDIO_SFU_PORT (0 = ephemeral; tests). */
  port?: number;
  /** How long an empty room is kept. */
  idleCloseMs?: number;
}

/** The composition root: worker pool, rooms, HTTP and signaling, listening. */
export async function startNode(config: Config, options: StartNodeOptions = {}): Promise<MediaNode> {
  const logger = options.logger ?? createLogger(config.MICROSTUDIO_LOG_LEVEL);
  const announced = announcedAddress(config.MICROSTUDIO_ANNOUNCED_IP);
  const pool = await WorkerPool.create({
    size: config.MICROSTUDIO_WORKERS ?? availableParallelism(),
    listenIp: config.MICROSTUDIO_RTC_LISTEN_IP,
    announcedAddress: announced,
    rtcPort: config.MICROSTUDIO_RTC_PORT,
    ...(config.MICROSTUDIO_WORKER_BIN ? { workerBin: config.MICROSTUDIO_WORKER_BIN } : {}),
    logger: logger.child('pool'),
  });
  const registry = new RoomRegistry({
    pool,
    limits: {
      maxPeersPerRoom: config.MICROSTUDIO_MAX_PEERS_PER_ROOM,
      maxTransportsPerPeer: config.MICROSTUDIO_MAX_TRANSPORTS_PER_PEER,
      maxProducersPerPeer: config.MICROSTUDIO_MAX_PRODUCERS_PER_PEER,
      maxConsumersPerPeer: config.MICROSTUDIO_MAX_CONSUMERS_PER_PEER,
    },
    defaultTransitionMs: config.MICROSTUDIO_TRANSITION_MS,
    initialOutgoingBitrate: config.MICROSTUDIO_INITIAL_OUTGOING_BITRATE,
    logger: logger.child('rooms'),
    ...(options.idleCloseMs !== undefined ? { idleCloseMs: options.idleCloseMs } : {}),
  });
  const httpServer = createServer(createHttpApp({ pool, registry }));
  const signaling = createSignalingServer(httpServer, {
    registry,
    logger,
    maxMessagesPerSecond: config.MICROSTUDIO_MAX_MESSAGES_PER_SECOND,
  });
  const host = config.MICROSTUDIO_SFU_HOST;
  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(options.port ?? config.MICROSTUDIO_SFU_PORT, host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    registry.close();
    pool.close();
    await signaling.close().catch(() => {});
    throw error;
  }
  const port = (httpServer.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    config,
    pool,
    registry,
    signaling,
    httpServer,
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    announcedAddress: announced,
    close() {
      closing ??= (async () => {
        registry.close();
        await signaling.close();
        pool.close();
        httpServer.closeAllConnections();
      })();
      return closing;
    },
  };
}
