import {
  INVITE_USES_CEILING,
  MAX_GUESTS_PER_ROOM,
  MAX_GUESTS_SETTING,
  MAX_INVITE_USES,
  MAX_MESSAGE_BYTES,
  MAX_MESSAGE_BYTES_SETTING,
  MAX_SOURCES_PER_ROOM,
  MIN_MESSAGE_BYTES_SETTING,
} from '@microstudio/protocol';
import { z } from 'zod';

/**
 * Every environment variable Microstudio reads, in one table. Defaults are what `npm start`
 * uses on one box: in-memory state, local disk, no external services. README's configuration
 * table is checked against this list by a test, so the two cannot drift.
 */
interface Setting<T extends z.ZodType> {
  schema: T;
  description: string;
}
const setting = <T extends z.ZodType>(schema: T, description: string): Setting<T> => ({
  schema,
  description,
});

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();

export const settings = {
  MICROSTUDIO_ROOM: setting(
    z.string().min(1).max(128).default('main'),
    'Room the printed camera and control-room links open.',
  ),
  MICROSTUDIO_SFU_HOST: setting(
    z.string().default('127.0.0.1'),
    "Interface the media node's signaling/HTTP server binds.",
  ),
  MICROSTUDIO_SFU_PORT: setting(port.default(4000), 'Media node signaling (socket.io) and health HTTP port.'),
  MICROSTUDIO_RTC_LISTEN_IP: setting(
    z.string().default('0.0.0.0'),
    'Interface the WebRTC (UDP/TCP) media ports bind.',
  ),
  MICROSTUDIO_ANNOUNCED_IP: setting(
    z.string().optional(),
    'Address given to browsers in ICE candidates. Default: the first LAN IPv4 address, else 127.0.0.1.',
  ),
  MICROSTUDIO_RTC_PORT: setting(
    port.default(44400),
    'First WebRTC media port: worker i listens on this port + i (UDP and TCP). Open them in the firewall.',
  ),
  MICROSTUDIO_WORKERS: setting(
    positiveInt.max(64).optional(),
    'mediasoup workers (default: one per CPU core).',
  ),
  MICROSTUDIO_WORKER_BIN: setting(
    z.string().optional(),
    'mediasoup-worker binary. Set by the provisioning scripts; override to use your own build.',
  ),
  MICROSTUDIO_TOKEN_SECRET: setting(
    z.string().min(32).optional(),
    'Secret (≥ 32 characters) that signs access tokens; every node of a deployment shares it. `npm start` generates one per run when unset.',
  ),
  MICROSTUDIO_ADMIN_SECRET: setting(
    z.string().min(16).optional(),
    'Secret in the director link; it is traded for a director token. `npm start` generates one per run when unset (never a default password).',
  ),
  MICROSTUDIO_ALLOWED_ORIGINS: setting(
    z.string().optional(),
    'Comma-separated web origins whose pages may open signaling connections. Default: the studio on localhost, 127.0.0.1 and the announced address, on its HTTP and HTTPS ports.',
  ),
  MICROSTUDIO_MAX_PEERS_PER_ROOM: setting(
    positiveInt.default(64),
    'Peers (cameras, directors, viewers) one room admits.',
  ),
  MICROSTUDIO_MAX_PRODUCERS_PER_PEER: setting(positiveInt.default(4), 'Tracks one peer may publish.'),
  MICROSTUDIO_MAX_TRANSPORTS_PER_PEER: setting(
    positiveInt.default(4),
    'WebRTC transports one peer may open.',
  ),
  MICROSTUDIO_MAX_CONSUMERS_PER_PEER: setting(positiveInt.default(128), 'Tracks one peer may receive.'),
  MICROSTUDIO_MAX_MESSAGES_PER_SECOND: setting(
    positiveInt.default(50),
    'Signaling messages per second per connection.',
  ),
  MICROSTUDIO_MAX_MESSAGE_BYTES: setting(
    z.coerce
      .number()
      .int()
      .min(MIN_MESSAGE_BYTES_SETTING)
      .max(MAX_MESSAGE_BYTES_SETTING)
      .default(MAX_MESSAGE_BYTES),
    `Largest signaling message a node accepts, in JSON bytes (${MIN_MESSAGE_BYTES_SETTING}–${MAX_MESSAGE_BYTES_SETTING}); larger ones are refused with MESSAGE_TOO_LARGE.`,
  ),
  MICROSTUDIO_MAX_GUESTS_PER_ROOM: setting(
    positiveInt.max(MAX_GUESTS_SETTING).default(MAX_GUESTS_PER_ROOM),
    `Remote guests one room keeps (waiting in the green room or admitted; at most ${MAX_GUESTS_SETTING}). Guests also count as peers.`,
  ),
  MICROSTUDIO_MAX_SOURCES_PER_ROOM: setting(
    positiveInt.max(MAX_SOURCES_PER_ROOM).default(MAX_SOURCES_PER_ROOM),
    `Sources (cameras, admitted guests, WHIP encoders) one room takes; at most ${MAX_SOURCES_PER_ROOM}, what health reports and recording plans carry.`,
  ),
  MICROSTUDIO_MAX_INVITE_USES: setting(
    positiveInt.max(INVITE_USES_CEILING).default(MAX_INVITE_USES),
    `Largest use count (devices) the control room may give one invite (at most ${INVITE_USES_CEILING}); invites without a count admit any number.`,
  ),
  MICROSTUDIO_MAX_WHEP_SESSIONS: setting(
    positiveInt.max(100_000).default(500),
    'WHEP playback sessions one node serves at once (more are refused with 503 and Retry-After).',
  ),
  MICROSTUDIO_TURN_URLS: setting(
    z
      .string()
      .regex(/^\s*turns?:[^,\s]+(\s*,\s*turns?:[^,\s]+)*\s*$/, 'comma-separated turn:/turns: URLs')
      .optional(),
    'TURN servers every join is given, comma-separated (`turn:host:3478?transport=udp,turns:host:5349`), each with short-lived credentials. Unset: no TURN. See README: TURN.',
  ),
  MICROSTUDIO_TURN_SECRET: setting(
    z.string().min(16).optional(),
    "Secret shared with coturn's `static-auth-secret` (REST scheme, `use-auth-secret`); the node signs per-join TURN credentials with it. Required with MICROSTUDIO_TURN_URLS.",
  ),
  MICROSTUDIO_TURN_TTL_SECONDS: setting(
    z.coerce.number().int().min(60).max(86_400).default(3600),
    'Lifetime of the TURN credentials a join gets, in seconds (they expire; there is no static TURN password).',
  ),
  MICROSTUDIO_INITIAL_OUTGOING_BITRATE: setting(
    positiveInt.min(100_000).max(100_000_000).default(3_000_000),
    'Bandwidth estimate (bit/s) a new WebRTC transport starts from. High on a studio LAN so the control room gets top-layer program video at once; lower it for viewers on slow links.',
  ),
  MICROSTUDIO_TRANSITION_MS: setting(
    z.coerce.number().int().min(100).max(5000).default(500),
    'Default auto-transition (fade) duration in milliseconds.',
  ),
  MICROSTUDIO_STUDIO_HOST: setting(z.string().default('0.0.0.0'), 'Interface the studio web app binds.'),
  MICROSTUDIO_STUDIO_PORT: setting(
    port.default(3000),
    'Studio web app, plain HTTP (use http://localhost on this machine).',
  ),
  MICROSTUDIO_STUDIO_HTTPS_PORT: setting(
    port.default(3443),
    'Studio web app over HTTPS with a locally generated certificate, for phones on the LAN.',
  ),
  MICROSTUDIO_SFU_URL: setting(
    z.string().url().default('http://127.0.0.1:4000'),
    'Where the studio app reaches the media node (it proxies /socket.io there).',
  ),
  MICROSTUDIO_DATA_DIR: setting(
    z.string().default('data'),
    'Local state: the generated TLS certificate, logs.',
  ),
  MICROSTUDIO_LOG_LEVEL: setting(
    z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    'Log verbosity.',
  ),
  MICROSTUDIO_LOG_FORMAT: setting(
    z.enum(['text', 'json']).default('text'),
    'Media node and recorder log lines: `text` for people, `json` for log shippers (one JSON object per line: time, level, scope, msg, fields).',
  ),
  MICROSTUDIO_CACHE: setting(
    z.string().optional(),
    'Cache for provisioned runtimes (Node.js 24, mediasoup worker). Default: ~/.cache/microstudio.',
  ),
  MICROSTUDIO_NODE_SECRET: setting(
    z.string().min(16).max(256).optional(),
    'Bearer secret the media node sends to the log receiver at MICROSTUDIO_SHIP_URL (only that). The recorder API and the node channel take tokens signed with MICROSTUDIO_TOKEN_SECRET instead; this secret opens neither.',
  ),
  MICROSTUDIO_RECORDER_TOKEN: setting(
    z.string().min(1).max(4096).optional(),
    "The recorder service's credential for the media node's recorder API: a `recorder` token signed with MICROSTUDIO_TOKEN_SECRET, for MICROSTUDIO_ROOM or `*` (every room). `npm start` mints one per run (valid 7 days); elsewhere `node scripts/recorder-token.mjs`.",
  ),
  MICROSTUDIO_RECORDINGS_DIR: setting(
    z.string().default('data/recordings'),
    'Where the recorder writes segments, sidecars and its upload journal.',
  ),
  MICROSTUDIO_SEGMENT_SECONDS: setting(
    z.coerce.number().int().min(2).max(600).default(10),
    'Length of a recorded segment in seconds (each starts on a requested keyframe).',
  ),
  MICROSTUDIO_RECORDER_RTP_PORT: setting(
    port.default(46000),
    'First local UDP port the recorder uses (4 per recorded track, from here up: 2 the node sends RTP/RTCP to, 2 on loopback to ffmpeg).',
  ),
  MICROSTUDIO_RECORD_ALL: setting(
    z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    "Record every track of MICROSTUDIO_ROOM's sources, whatever the control room's Record plan says (a headless recorder). Default: record what the director asks for.",
  ),
  MICROSTUDIO_RECORDER_DISK_WARN_BYTES: setting(
    z.coerce
      .number()
      .int()
      .min(0)
      .default(2 * 1024 ** 3),
    'Below this much free space on the recordings filesystem the control room shows a disk warning.',
  ),
  MICROSTUDIO_RECORDER_DISK_MIN_BYTES: setting(
    z.coerce
      .number()
      .int()
      .min(0)
      .default(256 * 1024 ** 2),
    'Below this much free space the recorder closes its segments and stops recording (nothing already written is lost); it resumes by itself when space is freed.',
  ),
  MICROSTUDIO_S3_ENDPOINT: setting(
    z.string().url().optional(),
    'S3-compatible endpoint for uploads (path-style). Unset with a bucket set: AWS S3. Credentials: the AWS SDK variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).',
  ),
  MICROSTUDIO_S3_BUCKET: setting(
    z.string().min(3).max(63).optional(),
    'Bucket finished segments are uploaded to. Unset: segments stay on disk only (journaled, uploaded once a bucket is set).',
  ),
  MICROSTUDIO_S3_REGION: setting(z.string().default('us-east-1'), 'Region for the S3 client.'),
  MICROSTUDIO_RECORDER_KEEP_UPLOADED_HOURS: setting(
    z.coerce.number().min(0).max(100_000).optional(),
    'Retention of local recordings once uploaded. Unset: keep every local file forever (the safe default). `0`: delete a file as soon as the bucket confirms it (HeadObject size and ETag). N: delete confirmed files older than N hours (fractions allowed). A file not confirmed in the bucket is never deleted.',
  ),
  MICROSTUDIO_NODE_ROLE: setting(
    z.enum(['site', 'edge']).default('site'),
    '`site`: cameras, control room, program bus and recording live here. `edge`: a regional node that mirrors what its viewers need from the site over PipeTransports and serves viewers only.',
  ),
  MICROSTUDIO_NODE_ID: setting(
    z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash, underscore (1–64)')
      .optional(),
    "This node's name in the fabric (health, metrics, placement). Default: `<role>-<hostname>-<port>`.",
  ),
  MICROSTUDIO_REGION: setting(
    z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/, 'lower-case letters, digits, dash (1–32)')
      .default('local'),
    'Region this node serves; `/watch?region=…` prefers edges of that region.',
  ),
  MICROSTUDIO_PUBLIC_URL: setting(
    z.string().url().optional(),
    "Where browsers reach this node's signaling (placement hands it to viewers). Default: `http://<announced address>:<sfu port>`.",
  ),
  MICROSTUDIO_CAPACITY: setting(
    positiveInt.max(1_000_000).default(500),
    'Viewers this node takes before placement prefers other edges (sizing: docs/edge-sizing.md).',
  ),
  MICROSTUDIO_FABRIC_URL: setting(
    z
      .string()
      .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
      .optional(),
    'Redis holding the node registry when there are several nodes (`redis://host:6379`). Unset: an in-memory registry, for one node on one box.',
  ),
  MICROSTUDIO_HEARTBEAT_MS: setting(
    z.coerce.number().int().min(100).max(60_000).default(1000),
    'How often a node renews its fabric entry; it expires after three missed beats.',
  ),
  MICROSTUDIO_PIPE_PORT_MIN: setting(
    port.default(45000),
    'First UDP port of the range site↔edge PipeTransports listen on (open it between site and edges).',
  ),
  MICROSTUDIO_PIPE_PORT_MAX: setting(port.default(45199), 'Last UDP port of the PipeTransport range.'),
  MICROSTUDIO_MIRROR_IDLE_MS: setting(
    z.coerce.number().int().min(0).max(3_600_000).default(30_000),
    "How long an edge keeps a room's pipe after its last viewer left before unpiping.",
  ),
  MICROSTUDIO_SHIP_URL: setting(
    z
      .string()
      .url()
      .regex(/^https?:\/\//, 'an http:// or https:// URL')
      .optional(),
    'Central receiver the media node POSTs its JSON log lines and client telemetry to (batches with `Authorization: Bearer` MICROSTUDIO_NODE_SECRET and an `Idempotency-Key`). Unset: shipping off, nothing spooled.',
  ),
  MICROSTUDIO_SPOOL_DIR: setting(
    z.string().default('data/spool'),
    'Where records wait on disk for MICROSTUDIO_SHIP_URL (segments and a cursor); kept across restarts and shipped when the receiver is reachable.',
  ),
  MICROSTUDIO_SPOOL_MAX_BYTES: setting(
    positiveInt.min(1024 * 1024).default(64 * 1024 * 1024),
    'Cap on the spool on disk, in bytes; beyond it the oldest unshipped records are dropped and a `spool-dropped` record reports the range.',
  ),
} as const;

type Settings = typeof settings;
export type SettingName = keyof Settings;
export type Config = { [K in SettingName]: z.infer<Settings[K]['schema']> };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const schema = z.object(
  Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, v.schema])) as {
    [K in SettingName]: Settings[K]['schema'];
  },
);

/** Reads and validates configuration; unknown MICROSTUDIO_* variables are refused (typos). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const unknown = Object.keys(env).filter((k) => k.startsWith('MICROSTUDIO_') && !(k in settings));
  if (unknown.length > 0) {
    throw new ConfigError(
      `unknown configuration variable(s): ${unknown.join(', ')} (see README: Configuration)`,
    );
  }
  const picked = Object.fromEntries(
    Object.keys(settings).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  );
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data as Config;
}

/** Rows for README's configuration table: name, default, meaning. */
export function configTable(): { name: SettingName; default: string; description: string }[] {
  return (Object.keys(settings) as SettingName[]).map((name) => {
    const parsed = settings[name].schema.safeParse(undefined);
    const value = parsed.success && parsed.data !== undefined ? String(parsed.data) : '(auto)';
    return { name, default: value, description: settings[name].description };
  });
}
export * from './network.ts';
