import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { loadConfig } from '@microstudio/config';
import type {
  ClientToServerEvents,
  NotificationName,
  NotificationOf,
  RequestName,
  RequestOf,
  ResponseOf,
  Result,
  RtpCapabilities,
  RtpParameters,
  ServerToClientEvents,
} from '@microstudio/protocol';
import { io, type Socket } from 'socket.io-client';
import { silentLogger } from '../src/log.ts';
import { type MediaNode, type StartNodeOptions, startNode } from '../src/node.ts';

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

async function portFree(port: number): Promise<boolean> {
  const udp = await new Promise<boolean>((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  if (!udp) return false;
  return new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A base port where `count` consecutive ports are free for UDP and TCP on loopback. */
export async function freeRtcPorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 20000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error('no free RTC port block');
}

export const TEST_TOKEN_SECRET = 'test-token-secret-0123456789abcdef-0123';
export const TEST_ADMIN_SECRET = 'test-admin-secret-0123456789';

/** A real node (2 real workers) on loopback with an ephemeral signaling port. */
export async function startTestNode(
  env: Record<string, string> = {},
  options: Omit<StartNodeOptions, 'logger' | 'port'> = {},
): Promise<MediaNode> {
  const rtcPort = await freeRtcPorts(Number(env.MICROSTUDIO_WORKERS ?? 2));
  const config = loadConfig({
    MICROSTUDIO_SFU_HOST: '127.0.0.1',
    MICROSTUDIO_RTC_LISTEN_IP: '127.0.0.1',
    MICROSTUDIO_ANNOUNCED_IP: '127.0.0.1',
    MICROSTUDIO_RTC_PORT: String(rtcPort),
    MICROSTUDIO_WORKERS: '2',
    MICROSTUDIO_MAX_MESSAGES_PER_SECOND: '1000',
    MICROSTUDIO_TOKEN_SECRET: TEST_TOKEN_SECRET,
    MICROSTUDIO_ADMIN_SECRET: TEST_ADMIN_SECRET,
    ...env,
  });
  return startNode(config, { ...options, logger: silentLogger, port: 0 });
}

export async function connect(node: MediaNode): Promise<Client> {
  const socket: Client = io(node.url, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Sends a request and returns its acknowledgement (typed). */
export async function request<N extends RequestName>(
  socket: Client,
  name: N,
  payload: RequestOf<N>,
): Promise<Result<ResponseOf<N>>> {
  return rawRequest(socket, name, payload) as Promise<Result<ResponseOf<N>>>;
}

/** Sends anything (malformed payloads, unknown events) and returns the acknowledgement. */
export function rawRequest(socket: Client, name: string, payload: unknown): Promise<Result<unknown>> {
  const emit = socket.timeout(5000).emitWithAck as unknown as (
    event: string,
    data: unknown,
  ) => Promise<Result<unknown>>;
  return emit.call(socket.timeout(5000), name, payload);
}

/** The data of a successful acknowledgement; fails the test with the error otherwise. */
export async function must<N extends RequestName>(
  socket: Client,
  name: N,
  payload: RequestOf<N>,
): Promise<ResponseOf<N>> {
  const result = await request(socket, name, payload);
  if (!result.ok) throw new Error(`${name} failed: ${result.error.code} ${result.error.message}`);
  return result.data;
}

export function nextEvent<N extends NotificationName>(
  socket: Client,
  name: N,
  predicate: (payload: NotificationOf<N>) => boolean = () => true,
  timeoutMs = 3000,
): Promise<NotificationOf<N>> {
  return new Promise((resolve, reject) => {
    const on = socket.on as unknown as (event: string, fn: (p: NotificationOf<N>) => void) => void;
    const off = socket.off as unknown as (event: string, fn: (p: NotificationOf<N>) => void) => void;
    const timer = setTimeout(() => {
      off.call(socket, name, listener);
      reject(new Error(`no ${name} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (payload: NotificationOf<N>): void => {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      off.call(socket, name, listener);
      resolve(payload);
    };
    on.call(socket, name, listener);
  });
}

/** Records every notification a socket receives. */
export function record(socket: Client): { name: string; payload: unknown }[] {
  const seen: { name: string; payload: unknown }[] = [];
  socket.onAny((name: string, payload: unknown) => seen.push({ name, payload }));
  return seen;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const dtlsParameters = {
  role: 'client' as const,
  fingerprints: [
    {
      algorithm: 'sha-256',
      value:
        'E5:F5:CA:A7:2D:93:E6:16:AC:21:09:9F:23:51:62:8C:D0:66:E9:0C:22:54:2B:82:0C:DF:E0:C5:2C:7E:CD:53',
    },
  ],
};

const videoFeedback = [
  { type: 'goog-remb' },
  { type: 'transport-cc' },
  { type: 'ccm', parameter: 'fir' },
  { type: 'nack' },
  { type: 'nack', parameter: 'pli' },
];

/** What Chrome + mediasoup-client send for a VP8 track with three simulcast layers. */
export function vp8SimulcastParameters(mid = '0'): RtpParameters {
  return {
    mid,
    codecs: [
      { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: videoFeedback },
      { mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 }, rtcpFeedback: [] },
    ],
    headerExtensions: [
      { uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 4 },
      { uri: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id', id: 10 },
      { uri: 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id', id: 11 },
      { uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', id: 2 },
      { uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01', id: 3 },
    ],
    encodings: [
      { rid: 'r0', active: true, scalabilityMode: 'L1T3', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
      { rid: 'r1', active: true, scalabilityMode: 'L1T3', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
      { rid: 'r2', active: true, scalabilityMode: 'L1T3', scaleResolutionDownBy: 1, maxBitrate: 2_500_000 },
    ],
    rtcp: { cname: 'test-cname', reducedSize: true },
  };
}

/** What Chrome sends for an Opus microphone track. */
export function opusParameters(mid = '1', ssrc = 11_111_111): RtpParameters {
  return {
    mid,
    codecs: [
      {
        mimeType: 'audio/opus',
        payloadType: 111,
        clockRate: 48000,
        channels: 2,
        parameters: { minptime: 10, useinbandfec: 1 },
        rtcpFeedback: [{ type: 'transport-cc' }],
      },
    ],
    headerExtensions: [
      { uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 4 },
      { uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: 1 },
    ],
    encodings: [{ ssrc, dtx: false }],
    rtcp: { cname: 'test-cname', reducedSize: true },
  };
}

/**
 * A receiving device's capabilities, derived (as mediasoup-client does) from the router's: the
 * codecs and header extensions it offers, which a browser supports.
 */
export function deviceCapabilities(router: RtpCapabilities): RtpCapabilities {
  return {
    codecs: router.codecs?.map((c) => ({ ...c })),
    headerExtensions: router.headerExtensions?.filter(
      (h) => (h as { direction?: string }).direction !== 'sendonly',
    ),
  };
}

export interface Joined {
  socket: Client;
  peerId: string;
  caps: RtpCapabilities;
  data: ResponseOf<'room:join'>;
}

/** A token for `role` in `roomId`, signed by the node's own issuer (as an invite would be). */
export async function tokenFor(
  node: MediaNode,
  roomId: string,
  role: 'camera' | 'director' | 'viewer' | 'guest',
  options: { ttlSeconds?: number; uses?: number } = {},
): Promise<string> {
  const { token } = await node.auth.issuer.issue({
    room: roomId,
    role,
    ttlSeconds: options.ttlSeconds ?? 600,
    ...(options.uses ? { uses: options.uses } : {}),
  });
  return token;
}

export async function joinAs(
  node: MediaNode,
  roomId: string,
  role: 'camera' | 'director' | 'viewer' | 'guest',
  clientId: string,
): Promise<Joined> {
  const socket = await connect(node);
  const token = await tokenFor(node, roomId, role);
  const data = await must(socket, 'room:join', { roomId, token, displayName: clientId, clientId });
  return { socket, peerId: data.peerId, caps: deviceCapabilities(data.routerRtpCapabilities), data };
}

/** A camera with a connected send transport publishing VP8 simulcast and Opus. */
export async function publishCamera(node: MediaNode, roomId: string, clientId: string) {
  const cam = await joinAs(node, roomId, 'camera', clientId);
  const transport = await must(cam.socket, 'transport:create', { direction: 'send' });
  await must(cam.socket, 'transport:connect', { transportId: transport.id, dtlsParameters });
  const video = await must(cam.socket, 'producer:create', {
    transportId: transport.id,
    kind: 'video',
    rtpParameters: vp8SimulcastParameters(),
    purpose: 'camera',
  });
  const audio = await must(cam.socket, 'producer:create', {
    transportId: transport.id,
    kind: 'audio',
    rtpParameters: opusParameters(),
    purpose: 'mic',
  });
  return {
    ...cam,
    transportId: transport.id,
    videoProducerId: video.producerId,
    audioProducerId: audio.producerId,
  };
}
