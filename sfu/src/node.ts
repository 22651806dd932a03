import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, hostname } from 'node:os';
import { announcedAddress, type Config } from '@microstudio/config';
import { Authenticator } from './auth/Authenticator.ts';
import { mintNodeToken } from './auth/serviceTokens.ts';
import { turnSettings } from './auth/turn.ts';
import { createFabric } from './fabric/createFabric.ts';
import { EdgeService } from './fabric/EdgeService.ts';
import type { Fabric, NodeAnnouncement, NodeRole, UplinkState } from './fabric/Fabric.ts';
import { Heartbeat } from './fabric/Heartbeat.ts';
import { MirrorServer, type PipeListen } from './fabric/MirrorServer.ts';
import { RevocationPublisher } from './fabric/RevocationPublisher.ts';
import { RevocationWatch } from './fabric/RevocationWatch.ts';
import { createUplinkRttMetric } from './fabric/uplinkRttMetric.ts';
import { createFabricRoutes } from './http/fabricRoutes.ts';
import { createHttpApp } from './http/HttpApp.ts';
import type { NodeHealth } from './http/health.ts';
import { clientTelemetry, type FabricStatus } from './http/metrics.ts';
import { createLogger, type Logger } from './log.ts';
import { createRecorderApi } from './recording/RecorderApi.ts';
import { RecordingDesks } from './recording/RecordingDesk.ts';
import { RecordingService } from './recording/RecordingService.ts';
import { recorderMetrics } from './recording/recorderMetrics.ts';
import { RoomRegistry } from './rooms/RoomRegistry.ts';
import { allowedOrigins } from './signaling/origins.ts';
import { createSignalingServer, type SignalingServer } from './signaling/SignalingServer.ts';
import { Shipper } from './telemetry/Shipper.ts';
import { Spool } from './telemetry/Spool.ts';
import { spoolingTelemetry } from './telemetry/telemetrySink.ts';
import { WhepService } from './whep/WhepService.ts';
import { createWhepHandler } from './whep/whepHttp.ts';
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
  /** Each room's recording plan, recorder status and cut list (site rooms). */
  readonly desks: RecordingDesks;
  /** WHIP ingest sessions (server-side camera peers). */
  readonly whip: WhipService;
  /** WHEP playback sessions (viewer peers fed by each room's program relay). */
  readonly whep: WhepService;
  readonly signaling: SignalingServer;
  readonly httpServer: HttpServer;
  readonly host: string;
  /** The bound port (the configured one, or the ephemeral one when configured as 0). */
  readonly port: number;
  readonly url: string;
  readonly announcedAddress: string;
  readonly role: NodeRole;
  /** This node's name in the fabric. */
  readonly nodeId: string;
  readonly fabric: Fabric;
  /** The site's end of site↔edge pipes (site role only). */
  readonly mirrors: MirrorServer | undefined;
  /** The edge's link to its site and room mirrors (edge role only). */
  readonly edge: EdgeService | undefined;
  /** Disconnects clients, closes rooms, workers and the HTTP server. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartNodeOptions {
  logger?: Logger;
  /** Override MICROSTUDIO_SFU_PORT (0 = ephemeral; tests). */
  port?: number;
  /** How long an empty room is kept. */
  idleCloseMs?: number;
  /** A fabric shared with other nodes in this process (tests); default: MICROSTUDIO_FABRIC_URL's. */
  fabric?: Fabric;
  /** How often an edge reads the site's revocations (default REVOCATION_POLL_MS). */
  revocationPollMs?: number;
}

export class NodeConfigError extends Error {
  override name = 'NodeConfigError';
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
  // Shipping on: log lines and client telemetry also go to the on-disk spool (README: Monitoring).
  let spool: Spool | undefined;
  const logger =
    options.logger ??
    createLogger(config.MICROSTUDIO_LOG_LEVEL, undefined, 'sfu', config.MICROSTUDIO_LOG_FORMAT, (line) =>
      spool?.appendJson(line),
    );
  if (config.MICROSTUDIO_SHIP_URL) {
    spool = new Spool({
      dir: config.MICROSTUDIO_SPOOL_DIR,
      maxBytes: config.MICROSTUDIO_SPOOL_MAX_BYTES,
      logger: logger.child('spool'),
    });
  }
  // Checked before anything is started: TURN URLs without a secret are refused.
  const turn = turnSettings(
    config.MICROSTUDIO_TURN_URLS,
    config.MICROSTUDIO_TURN_SECRET,
    config.MICROSTUDIO_TURN_TTL_SECONDS,
  );
  const announced = announcedAddress(config.MICROSTUDIO_ANNOUNCED_IP);
  const role = config.MICROSTUDIO_NODE_ROLE;
  // An edge signs its node-channel token, and checks its viewers' invites, with the site's secret.
  if (role === 'edge' && !config.MICROSTUDIO_TOKEN_SECRET) {
    throw new NodeConfigError('an edge needs MICROSTUDIO_TOKEN_SECRET (the same as its site) to open pipes');
  }
  if (config.MICROSTUDIO_PIPE_PORT_MIN > config.MICROSTUDIO_PIPE_PORT_MAX) {
    throw new NodeConfigError('MICROSTUDIO_PIPE_PORT_MIN is above MICROSTUDIO_PIPE_PORT_MAX');
  }
  if (role === 'edge' && !options.fabric && !config.MICROSTUDIO_FABRIC_URL) {
    logger.warn('an edge with an in-memory fabric finds no site: set MICROSTUDIO_FABRIC_URL');
  }
  const pipeListen: PipeListen = {
    ip: config.MICROSTUDIO_RTC_LISTEN_IP,
    announcedAddress: announced,
    portRange: { min: config.MICROSTUDIO_PIPE_PORT_MIN, max: config.MICROSTUDIO_PIPE_PORT_MAX },
  };
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
      maxGuestsPerRoom: config.MICROSTUDIO_MAX_GUESTS_PER_ROOM,
      maxSourcesPerRoom: config.MICROSTUDIO_MAX_SOURCES_PER_ROOM,
    },
    defaultTransitionMs: config.MICROSTUDIO_TRANSITION_MS,
    initialOutgoingBitrate: config.MICROSTUDIO_INITIAL_OUTGOING_BITRATE,
    logger: logger.child('rooms'),
    ...(options.idleCloseMs !== undefined ? { idleCloseMs: options.idleCloseMs } : {}),
  });
  const recordings = new RecordingService({ registry, logger: logger.child('recording') });
  // Site rooms record; an edge's rooms are mirrors of them.
  const desks = new RecordingDesks({ logger: logger.child('recording') });
  if (role === 'site') registry.observer.on('newroom', (room) => desks.attach(room));
  const fabric = options.fabric ?? createFabric(config.MICROSTUDIO_FABRIC_URL, logger);
  const fabricRoutes = createFabricRoutes(fabric);
  const uplinkRtt = createUplinkRttMetric();
  const httpServer = createServer(
    createHttpApp({
      pool,
      registry,
      describeNode: (): NodeHealth => describe(),
      fabricStatus: (): FabricStatus => ({
        pipes: mirrors?.pipeCount ?? edge?.pipeCount ?? 0,
        uplink: edge ? edge.uplink : 'none',
        pipedProducers: edge?.pipedProducers() ?? [],
      }),
      fabricRoutes,
      recorderApi: (req, res) => recorderApi(req, res),
      moreMetrics: [recorderMetrics(desks), uplinkRtt.register],
      whip: (req, res) => whipHandler(req, res),
      whep: (req, res) => whepHandler(req, res),
      onError: (error) => logger.error('an HTTP route threw', { error: String(error) }),
    }),
  );
  // Invites are revoked at the site; its edges learn of it through the fabric (either fabric).
  const revocationWatch =
    role === 'edge'
      ? new RevocationWatch({
          fabric,
          logger: logger.child('revocations'),
          ...(options.revocationPollMs !== undefined ? { pollMs: options.revocationPollMs } : {}),
        })
      : undefined;
  const auth = new Authenticator({
    tokenSecret: config.MICROSTUDIO_TOKEN_SECRET ?? ephemeralTokenSecret(logger),
    adminSecret: config.MICROSTUDIO_ADMIN_SECRET,
    maxInviteUses: config.MICROSTUDIO_MAX_INVITE_USES,
    ...(revocationWatch ? { remoteRevocations: revocationWatch } : {}),
  });
  revocationWatch?.on('revoked', (revocation) => auth.revokedElsewhere(revocation));
  const revocationPublisher =
    role === 'site'
      ? new RevocationPublisher({
          fabric,
          intervalMs: config.MICROSTUDIO_HEARTBEAT_MS,
          logger: logger.child('revocations'),
        })
      : undefined;
  if (revocationPublisher) auth.on('revoked', (revocation) => revocationPublisher.publish(revocation));
  const recorderApi = createRecorderApi({
    recordings,
    desks,
    // The recorder presents a `recorder` token signed with the same secret (README: Recorder).
    issuer: auth.issuer,
    logger: logger.child('recorder-api'),
  });
  // WHIP/WHEP answers are readable by the studio's pages only (the signaling origins).
  const sdpOrigins = { allowedOrigins: allowedOrigins(config, announced) };
  const whip = new WhipService({ registry, auth, logger: logger.child('whip'), edge: role === 'edge' });
  const whipHandler = createWhipHandler(whip, logger.child('whip'), sdpOrigins);
  const whep = new WhepService({
    registry,
    auth,
    pool,
    maxSessions: config.MICROSTUDIO_MAX_WHEP_SESSIONS,
    logger: logger.child('whep'),
    // Read when a session starts: the edge service exists by then (it is created after listen).
    edge: role === 'edge' ? { uplink: () => edge?.uplink ?? 'down' } : undefined,
  });
  const whepHandler = createWhepHandler(whep, logger.child('whep'), sdpOrigins);
  const signaling = createSignalingServer(httpServer, {
    registry,
    auth,
    allowedOrigins: sdpOrigins.allowedOrigins,
    logger,
    maxMessagesPerSecond: config.MICROSTUDIO_MAX_MESSAGES_PER_SECOND,
    maxMessageBytes: config.MICROSTUDIO_MAX_MESSAGE_BYTES,
    turn,
    // The same instance /metrics exposes (createNodeMetrics finds it by the registry).
    recording: role === 'site' ? desks : undefined,
    telemetry: spool ? spoolingTelemetry(clientTelemetry(registry), spool) : clientTelemetry(registry),
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
    revocationWatch?.close();
    await revocationPublisher?.close();
    if (!options.fabric) await fabric.close().catch(() => {});
    spool?.close();
    throw error;
  }
  const port = (httpServer.address() as AddressInfo).port;
  const urlHost = announced.includes(':') ? `[${announced}]` : announced;
  const internalUrl = `http://${urlHost}:${port}`;
  const nodeId = config.MICROSTUDIO_NODE_ID ?? `${role}-${hostname()}-${port}`;
  const mirrors =
    role === 'site'
      ? new MirrorServer({
          io: signaling.io,
          registry,
          issuer: auth.issuer,
          listen: pipeListen,
          logger: logger.child('mirrors'),
        })
      : undefined;
  const edge =
    role === 'edge'
      ? new EdgeService({
          registry,
          fabric,
          nodeId,
          nodeToken: () => mintNodeToken(auth.issuer),
          listen: pipeListen,
          idleMs: config.MICROSTUDIO_MIRROR_IDLE_MS,
          logger: logger.child('edge'),
          onRtt: (rttMs) => uplinkRtt.observe(rttMs),
        })
      : undefined;
  const describe = (): NodeAnnouncement => {
    let viewers = 0;
    for (const room of registry.rooms())
      for (const peer of room.peers()) if (peer.role === 'viewer') viewers += 1;
    const uplink: UplinkState = edge ? edge.uplink : 'none';
    return {
      nodeId,
      role,
      region: config.MICROSTUDIO_REGION,
      publicUrl: config.MICROSTUDIO_PUBLIC_URL ?? internalUrl,
      internalUrl,
      capacity: config.MICROSTUDIO_CAPACITY,
      viewers,
      pipes: mirrors?.pipeCount ?? edge?.pipeCount ?? 0,
      uplink,
      ...edge?.uplinkRtt,
    };
  };
  const heartbeat = new Heartbeat({
    fabric,
    describe,
    intervalMs: config.MICROSTUDIO_HEARTBEAT_MS,
    logger: logger.child('heartbeat'),
  });
  heartbeat.start();
  revocationPublisher?.start();
  revocationWatch?.start();
  const shipper =
    spool && config.MICROSTUDIO_SHIP_URL
      ? new Shipper({
          spool,
          url: config.MICROSTUDIO_SHIP_URL,
          node: nodeId,
          secret: config.MICROSTUDIO_NODE_SECRET,
          logger: logger.child('shipper'),
        })
      : undefined;
  shipper?.start();
  let closing: Promise<void> | undefined;
  return {
    config,
    pool,
    registry,
    auth,
    recordings,
    desks,
    whip,
    whep,
    signaling,
    httpServer,
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    announcedAddress: announced,
    role,
    nodeId,
    fabric,
    mirrors,
    edge,
    close() {
      closing ??= (async () => {
        await heartbeat.stop();
        revocationWatch?.close();
        await revocationPublisher?.close();
        edge?.close();
        mirrors?.close();
        recordings.close();
        whip.close();
        whep.close();
        registry.close();
        await signaling.close();
        pool.close();
        httpServer.closeAllConnections();
        if (!options.fabric) await fabric.close().catch(() => {});
        // Last: what the shutdown logged is spooled too; unshipped records wait for the next run.
        await shipper?.close();
        spool?.close();
      })();
      return closing;
    },
  };
}
