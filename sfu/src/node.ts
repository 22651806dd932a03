import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { announcedAddress, type Config } from '@microstudio/config';
import { Authenticator } from './auth/Authenticator.ts';
import { turnSettings } from './auth/turn.ts';
import { createHttpApp } from './http/HttpApp.ts';
import { createLogger, type Logger } from './log.ts';
import { createRecorderApi } from './recording/RecorderApi.ts';
import { RecordingService } from './recording/RecordingService.ts';
import { RoomRegistry } from './rooms/RoomRegistry.ts';
import { allowedOrigins } from './signaling/origins.ts';
import { createSignalingServer, type SignalingServer } from './signaling/SignalingServer.ts';
import { WhipService } from './whip/WhipService.ts';
import { createWhipHandler } from './whip/whipHttp.ts';
import { WorkerPool } from './workers/WorkerPool.ts';

export interface MediaNode {
  readonly config: Config;
  readonly pool: WorkerPool;
  readonly registry: RoomRegistry;
  /** Checks tokens, issues director tokens and invites. */
  readonly auth: Authenticator;
  readonly recordings: RecordingService;
  /** WHIP ingest sessions (server-side camera peers). */
  readonly whip: WhipService;
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

/** A node started without a shared secret still runs alone: tokens only it issued will verify. */
function ephemeralTokenSecret(logger: Logger): string {
  logger.warn(
    'MICROSTUDIO_TOKEN_SECRET is not set: using a random one (tokens from other processes will not verify)',
  );
  return randomBytes(32).toString('base64url');
}

/** The composition root: worker pool, rooms, HTTP and signaling, listening. */
export async function startNode(config: Config, options: StartNodeOptions = {}): Promise<MediaNode> {
  const logger =
    options.logger ??
    createLogger(config.MICROSTUDIO_LOG_LEVEL, undefined, 'sfu', config.MICROSTUDIO_LOG_FORMAT);
  // Checked before anything is started: TURN URLs without a secret are refused.
  const turn = turnSettings(
    config.MICROSTUDIO_TURN_URLS,
    config.MICROSTUDIO_TURN_SECRET,
    config.MICROSTUDIO_TURN_TTL_SECONDS,
  );
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
  const recordings = new RecordingService({ registry, logger: logger.child('recording') });
  const recorderApi = createRecorderApi({
    recordings,
    secret: config.MICROSTUDIO_NODE_SECRET,
    logger: logger.child('recorder-api'),
  });
  const httpServer = createServer(
    createHttpApp({
      pool,
      registry,
      recorderApi,
      whip: (req, res) => whipHandler(req, res),
      onError: (error) => logger.error('an HTTP route threw', { error: String(error) }),
    }),
  );
  const auth = new Authenticator({
    tokenSecret: config.MICROSTUDIO_TOKEN_SECRET ?? ephemeralTokenSecret(logger),
    adminSecret: config.MICROSTUDIO_ADMIN_SECRET,
  });
  const whip = new WhipService({ registry, auth, logger: logger.child('whip') });
  const whipHandler = createWhipHandler(whip, logger.child('whip'));
  const signaling = createSignalingServer(httpServer, {
    registry,
    auth,
    allowedOrigins: allowedOrigins(config, announced),
    logger,
    maxMessagesPerSecond: config.MICROSTUDIO_MAX_MESSAGES_PER_SECOND,
    turn,
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
    auth,
    recordings,
    whip,
    signaling,
    httpServer,
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    announcedAddress: announced,
    close() {
      closing ??= (async () => {
        recordings.close();
        whip.close();
        registry.close();
        await signaling.close();
        pool.close();
        httpServer.closeAllConnections();
      })();
      return closing;
    },
  };
}
