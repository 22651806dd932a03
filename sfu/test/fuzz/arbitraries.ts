/**
 * fast-check arbitraries for the fuzz test (test/fuzz.test.ts): hostile socket.io messages and
 * hostile HTTP requests against a media node. Nothing here talks to the node; the test does.
 */
import {
  MAX_MESSAGE_BYTES,
  type RequestName,
  type RtpCapabilities,
  requestNames,
  TRANSPORT_MAX_BYTES,
} from '@microstudio/protocol';
import fc from 'fast-check';
import { dtlsParameters, opusParameters, vp8SimulcastParameters } from '../helpers.ts';

/** A placeholder for "an id the node handed out during the run", resolved when sent. */
export class LearnedId {
  constructor(readonly index: number) {}
}

export interface FuzzContext {
  /** Ids that exist in the node (other peers' transports and producers, source ids, ...). */
  knownIds: string[];
  /** Tokens that must never open the fuzzed room: forged, expired, for another room, truncated. */
  badTokens: string[];
  roomId: string;
  caps: RtpCapabilities;
}

/** One generated socket.io message. */
export interface FuzzMessage {
  /** Which of the test's connections sends it. */
  connection: number;
  event: string;
  /** Arguments before the ack callback (0, 1 or several). */
  args: unknown[];
  /** false: sent without an ack callback (the node drops it; nothing to wait for). */
  withAck: boolean;
  kind: 'template' | 'raw' | 'unknown-event' | 'huge' | 'deep' | 'binary' | 'pollution';
}

const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** An object with an own enumerable `key` (so `__proto__` survives JSON.stringify as a key). */
export function withOwnKey(target: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

const pollutionArb: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(fc.constantFrom(...POLLUTION_KEYS), fc.constantFrom(...POLLUTION_KEYS, 'polluted'), fc.jsonValue())
  .map(([outer, inner, value]) => withOwnKey({}, outer, withOwnKey({}, inner, value)));

/** Nested arrays/objects `depth` levels deep, built iteratively (no recursion in the generator). */
export function nested(depth: number, objects: boolean): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = objects ? { a: value } : [value];
  return value;
}

const deepArb = fc.tuple(fc.integer({ min: 50, max: 4000 }), fc.boolean()).map(([d, o]) => nested(d, o));

const bufferArb = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)),
  fc.integer({ min: 1, max: 200_000 }).map((n) => Buffer.alloc(n, 0x41)),
);

const hostileNumbers = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -1,
  -0,
  0,
  1,
  2,
  3,
  0.5,
  2 ** 31,
  2 ** 32 + 1,
  2 ** 53 + 2,
  -(2 ** 53),
  1e308,
  Number.MIN_VALUE,
  Number.MAX_SAFE_INTEGER,
];
const hostileStrings = [
  '',
  ' ',
  '__proto__',
  'constructor',
  'prototype',
  '\u0000',
  '\ud800',
  '\u202e',
  'send',
  'recv',
  'video',
  'audio',
  'director',
  'null',
  '{}',
  '[]',
  '../../etc/passwd',
  '💥'.repeat(40),
  'a'.repeat(129),
  'a'.repeat(257),
  'a'.repeat(4097),
];

/** Any one hostile value (small): wrong types, odd numbers, pollution keys, buffers, nesting. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  {
    arbitrary: fc.constantFrom<unknown>(...hostileNumbers, ...hostileStrings, null, undefined, true, false),
    weight: 6,
  },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 80 }), weight: 2 },
  { arbitrary: fc.oneof(fc.integer(), fc.double()), weight: 2 },
  {
    arbitrary: fc.anything({
      maxDepth: 3,
      maxKeys: 5,
      withNullPrototype: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withSparseArray: true,
      withObjectString: true,
      withTypedArray: true,
      stringUnit: 'binary',
    }),
    weight: 3,
  },
  { arbitrary: fc.array(fc.jsonValue(), { maxLength: 4 }), weight: 1 },
  { arbitrary: pollutionArb, weight: 2 },
  { arbitrary: bufferArb, weight: 1 },
  { arbitrary: fc.integer({ min: 10, max: 300 }).map((d) => nested(d, d % 2 === 0)), weight: 1 },
);

/** A garbage/forged token string. */
function tokenArb(ctx: FuzzContext): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...ctx.badTokens), weight: 4 },
    { arbitrary: fc.string({ minLength: 16, maxLength: 200 }), weight: 2 },
    {
      arbitrary: fc
        .tuple(fc.base64String({ maxLength: 60 }), fc.base64String({ maxLength: 200 }), fc.base64String())
        .map(([h, p, s]) => `${h}.${p}.${s}`.replaceAll('=', '')),
      weight: 2,
    },
    { arbitrary: hostileValue, weight: 1 },
  );
}

function idArb(ctx: FuzzContext): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...ctx.knownIds), weight: 4 },
    { arbitrary: fc.nat().map((n) => new LearnedId(n)), weight: 3 },
    { arbitrary: fc.uuid(), weight: 1 },
    { arbitrary: fc.string({ minLength: 1, maxLength: 140 }), weight: 1 },
  );
}

/** A plausible (often valid) payload for each request: the starting point of the mutations. */
function templateArb(ctx: FuzzContext, name: RequestName): fc.Arbitrary<unknown> {
  const id = idArb(ctx);
  const str = fc.string({ minLength: 1, maxLength: 70 });
  switch (name) {
    case 'auth:director':
      return fc.record({ roomId: fc.constantFrom(ctx.roomId, 'other'), adminSecret: str });
    case 'room:join':
      return fc.record({
        roomId: fc.oneof(fc.constant(ctx.roomId), str),
        token: tokenArb(ctx),
        displayName: str,
        clientId: str,
      });
    case 'invite:create':
      return fc.record(
        {
          role: fc.constantFrom('camera', 'viewer', 'director', 'guest', 'node', 'recorder'),
          ttlSeconds: fc.integer({ min: -10, max: 8 * 24 * 3600 }),
          uses: fc.integer({ min: -1, max: 1001 }),
          label: str,
        },
        { requiredKeys: ['role', 'ttlSeconds'] },
      );
    case 'invite:revoke':
      return fc.record({ inviteId: id });
    case 'transport:create':
      return fc.record({ direction: fc.constantFrom('send', 'recv', 'both', 'SEND') });
    case 'transport:connect':
      return fc.record({ transportId: id, dtlsParameters: fc.constant(dtlsParameters) });
    case 'transport:restartIce':
      return fc.record({ transportId: id });
    case 'producer:create':
      return fc.record({
        transportId: id,
        kind: fc.constantFrom('audio', 'video', 'data'),
        rtpParameters: fc.oneof(
          fc.constant(null).map(() => vp8SimulcastParameters()),
          fc.constant(null).map(() => opusParameters()),
        ),
        purpose: fc.constantFrom('camera', 'mic', 'screen', 'program'),
      });
    case 'producer:close':
    case 'producer:pause':
    case 'producer:resume':
      return fc.record({ producerId: id });
    case 'consumer:create':
      return fc.record(
        {
          transportId: id,
          producerId: id,
          rtpCapabilities: fc.constant(null).map(() => structuredClone(ctx.caps)),
          spatialLayer: fc.integer({ min: -1, max: 3 }),
        },
        { requiredKeys: ['transportId', 'producerId', 'rtpCapabilities'] },
      );
    case 'consumer:resume':
    case 'consumer:close':
      return fc.record({ consumerId: id });
    case 'consumer:setLayers':
      return fc.record(
        {
          consumerId: id,
          spatialLayer: fc.integer({ min: -1, max: 3 }),
          temporalLayer: fc.integer({ min: -1, max: 3 }),
        },
        { requiredKeys: ['consumerId', 'spatialLayer'] },
      );
    case 'program:preview':
      return fc.record({ sourceId: id });
    case 'program:auto':
      return fc.record({ durationMs: fc.integer({ min: 0, max: 6000 }) }, { requiredKeys: [] });
    case 'guest:admit':
    case 'guest:reject':
    case 'guest:mute':
    case 'guest:unmute':
    case 'guest:remove':
      return fc.record({ guestId: id });
    case 'room:leave':
    case 'invite:list':
    case 'guest:list':
    case 'program:cut':
      return fc.constant(null).map(() => ({}));
    case 'telemetry:report':
      return fc.record(
        {
          hop: fc.constantFrom('site', 'edge', 'p2p', 'moon'),
          rttMs: fc.double({ min: -10, max: 70_000 }),
          freezes: fc.integer({ min: -1, max: 1001 }),
          battery: fc.record({ level: fc.double({ min: -0.5, max: 1.5 }), charging: fc.boolean() }),
          networkType: fc.constantFrom('wifi', 'cellular', '6g'),
        },
        { requiredKeys: ['hop'] },
      );
    case 'record:set':
      return fc.record({ sourceId: id, on: fc.boolean() }, { requiredKeys: ['on'] });
  }
}

type Mutation =
  | { op: 'set'; path: number[]; value: unknown }
  | { op: 'delete'; path: number[] }
  | { op: 'addKey'; path: number[]; key: string; value: unknown }
  | { op: 'wrap'; path: number[] };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      path: fc.array(fc.nat(), { maxLength: 5 }),
      value: hostileValue,
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('delete' as const),
      path: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('addKey' as const),
      path: fc.array(fc.nat(), { maxLength: 4 }),
      key: fc.oneof(fc.constantFrom(...POLLUTION_KEYS), fc.string({ maxLength: 12 })),
      value: hostileValue,
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ op: fc.constant('wrap' as const), path: fc.array(fc.nat(), { maxLength: 4 }) }),
    weight: 1,
  },
);

function isContainer(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !ArrayBuffer.isView(value) &&
    // A boxed string's index keys are read-only: writing one throws in strict mode.
    !(value instanceof String) &&
    !(value instanceof LearnedId) &&
    !Object.isFrozen(value)
  );
}

/** Applies a mutation in place (walking `path` as choices among existing keys); returns the root. */
function mutate(root: unknown, m: Mutation): unknown {
  const steps = m.path.length - (m.op === 'addKey' ? 0 : 1);
  if (m.path.length === 0 && m.op !== 'addKey')
    return m.op === 'set' ? m.value : m.op === 'wrap' ? [root] : root;
  let parent: unknown = root;
  for (let i = 0; i < steps; i++) {
    if (!isContainer(parent)) return root;
    const keys = Object.keys(parent);
    if (keys.length === 0) return root;
    parent = parent[keys[(m.path[i] ?? 0) % keys.length] as string];
  }
  if (!isContainer(parent)) return root;
  if (m.op === 'addKey') {
    withOwnKey(parent, m.key, m.value);
    return root;
  }
  const keys = Object.keys(parent);
  if (keys.length === 0) return root;
  const key = keys[(m.path.at(-1) ?? 0) % keys.length] as string;
  if (m.op === 'set') parent[key] = m.value;
  else if (m.op === 'delete') delete parent[key];
  else parent[key] = [parent[key]];
  return root;
}

const unknownEventArb = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'room:JOIN',
    'room:join ',
    ' room:join',
    'room',
    ':',
    'transport:create\u0000',
    'invite:delete',
    'program:fade',
    'x'.repeat(10_000),
  ),
  fc.constantFrom(...requestNames).map((n) => `${n}x`),
);

/** Sizes around MAX_MESSAGE_BYTES (JSON bytes), and above it up to below the transport cap. */
const hugeSizeArb = fc.oneof(
  fc.integer({ min: MAX_MESSAGE_BYTES - 64, max: MAX_MESSAGE_BYTES + 64 }),
  // Stays 64 KiB below the transport cap: above it socket.io closes the connection by design.
  fc.integer({ min: MAX_MESSAGE_BYTES - 4096, max: TRANSPORT_MAX_BYTES - 64 * 1024 }),
);

/** One hostile socket.io message for one of `connections` connections. */
export function messageArb(ctx: FuzzContext, connections: number): fc.Arbitrary<FuzzMessage> {
  const name = fc.constantFrom(...requestNames);
  const connection = fc.nat(connections - 1);
  const withAck = fc.oneof(
    { arbitrary: fc.constant(true), weight: 30 },
    { arbitrary: fc.constant(false), weight: 1 },
  );
  // Extra arguments: usually none, sometimes junk before the ack, sometimes no payload at all.
  const shape = fc.oneof(
    { arbitrary: fc.constant<unknown[] | null>(null), weight: 12 },
    { arbitrary: fc.constant<unknown[] | null>([]), weight: 1 },
    { arbitrary: fc.array(hostileValue, { minLength: 1, maxLength: 3 }), weight: 1 },
  );
  const send = (kind: FuzzMessage['kind'], event: fc.Arbitrary<string>, payload: fc.Arbitrary<unknown>) =>
    fc.record({ connection, event, payload, shape, withAck }).map(
      ({ connection, event, payload, shape, withAck }): FuzzMessage => ({
        connection,
        event,
        args: shape === null ? [payload] : shape.length === 0 ? [] : [payload, ...shape],
        withAck,
        kind,
      }),
    );
  const mutated = name.chain((n) =>
    send(
      'template',
      fc.constant(n),
      fc
        .tuple(templateArb(ctx, n), fc.array(mutationArb, { maxLength: 3 }))
        .map(([payload, mutations]) => mutations.reduce(mutate, payload)),
    ),
  );
  return fc.oneof(
    { arbitrary: mutated, weight: 48 },
    { arbitrary: send('raw', name, hostileValue), weight: 12 },
    { arbitrary: send('unknown-event', unknownEventArb, hostileValue), weight: 8 },
    {
      arbitrary: send(
        'huge',
        fc.oneof(name, unknownEventArb),
        fc
          .tuple(hugeSizeArb, fc.constantFrom('roomId', 'token', 'transportId', 'x'))
          .map(([size, key]) => ({ [key]: 'h'.repeat(Math.max(0, size - key.length - 6)) })),
      ),
      weight: 1,
    },
    { arbitrary: send('deep', name, deepArb), weight: 2 },
    { arbitrary: send('binary', name, bufferArb), weight: 2 },
    { arbitrary: send('pollution', name, pollutionArb), weight: 4 },
  );
}

/**
 * The `auth` of a socket.io handshake carrying a hostile join (HandshakeAuth): a mutated join,
 * a hostile value, an oversize one, keys that pollute, junk beside it. Always an object: socket.io
 * itself refuses a handshake whose auth is not one, before the node sees it.
 */
export function handshakeAuthArb(ctx: FuzzContext): fc.Arbitrary<Record<string, unknown>> {
  const join = fc.oneof(
    {
      arbitrary: fc
        .tuple(templateArb(ctx, 'room:join'), fc.array(mutationArb, { maxLength: 3 }))
        .map(([payload, mutations]) => mutations.reduce(mutate, payload)),
      weight: 8,
    },
    { arbitrary: hostileValue, weight: 3 },
    { arbitrary: pollutionArb, weight: 1 },
    { arbitrary: deepArb, weight: 1 },
    {
      arbitrary: hugeSizeArb.map((size) => ({
        roomId: ctx.roomId,
        token: 'h'.repeat(Math.max(0, size - 40)),
      })),
      weight: 1,
    },
  );
  return (
    fc
      .tuple(join, fc.option(fc.dictionary(fc.string({ maxLength: 12 }), hostileValue, { maxKeys: 3 })))
      // An undefined join leaves no `join` key on the wire (a handshake without a join): null instead.
      .map(([payload, junk]) => ({ ...(junk ?? {}), join: payload === undefined ? null : payload }))
  );
}

// ---- HTTP ----

export interface FuzzHttpRequest {
  /** The HTTP_ROUTES template the path was made from, or 'near' for a path next to the routes. */
  route: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

const junkSegment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{0,24}$/),
  fc.constantFrom(
    '%',
    '%zz',
    '%E0%A4%A',
    '%00',
    '%2e%2e',
    '..',
    '.',
    '%2F',
    '%C0%AE',
    '%ff%fe',
    '%25',
    '%u0041',
  ),
);
const junkQuery = fc.oneof(
  fc.constant(''),
  fc.stringMatching(/^\?[A-Za-z0-9=&%._~-]{0,40}$/),
  fc
    .record({
      EIO: fc.constantFrom('3', '4', '5', '9', '-1', 'x', ''),
      transport: fc.constantFrom('polling', 'websocket', 'webtransport', 'junk', ''),
      sid: fc.oneof(fc.constant(undefined), fc.stringMatching(/^[A-Za-z0-9_-]{0,30}$/)),
      extra: fc.constantFrom('', '&j=0', '&b64=1', '&t=abc', '&%zz=%', '&__proto__[x]=1'),
    })
    .map(
      ({ EIO, transport, sid, extra }) =>
        `?EIO=${EIO}&transport=${transport}${sid === undefined ? '' : `&sid=${sid}`}${extra}`,
    ),
);

/** The recorder's internal API prefix (RECORDER_API_PREFIX). */
const RECORDER = '/internal/recorder/v1';

/**
 * Every route the node's HTTP app serves, as templates: `:room` and `:id` are filled in with
 * known, fresh and junk values. fuzz.test.ts checks this list against the routes the node's
 * source names, so a new route cannot go unfuzzed.
 */
export const HTTP_ROUTES = [
  '/healthz',
  '/metrics',
  '/fabric/nodes',
  '/placement',
  '/socket.io/',
  '/whip/:room',
  '/whip/:room/:id',
  '/whep/:room',
  '/whep/:room/:id',
  `${RECORDER}/recordings`,
  `${RECORDER}/recordings/:id`,
  `${RECORDER}/recordings/:id/resume`,
  `${RECORDER}/recordings/:id/keyframe`,
  `${RECORDER}/rooms/:room/sources`,
  `${RECORDER}/rooms/:room/status`,
  `${RECORDER}/rooms/:room/cuts`,
] as const;

/** Paths next to the routes (prefixes, missing parts, unknown actions): 404 or 405, never 5xx. */
const NEAR_ROUTES = [
  '/',
  '/favicon.ico',
  '/socket.io',
  '/whip',
  '/whip/',
  '/whep/',
  '/fabric',
  '/fabric/nodes/x',
  RECORDER,
  `${RECORDER}/`,
  `${RECORDER}/rooms`,
  `${RECORDER}/rooms/:room`,
  `${RECORDER}/rooms/:room/unknown`,
  `${RECORDER}/recordings/:id/stop`,
  `${RECORDER}/recordings/:id/`,
];

/** SDP-looking bodies for WHIP/WHEP: an offer lacking ICE and DTLS, trickle fragments, junk. */
const SDP_BODIES = [
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\na=sendonly\r\n',
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\na=fingerprint:sha-256 00:11\r\na=setup:actpass\r\na=mid:0\r\na=recvonly\r\na=rtpmap:111 opus/48000/2\r\n',
  'a=ice-ufrag:x\r\na=ice-pwd:y\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n',
  'a=end-of-candidates\r\n',
  'v=1\r\n',
  'm=\r\n'.repeat(2000),
];

export function httpRequestArb(
  tokens: readonly string[],
  roomId: string,
  knownIds: string[],
): fc.Arbitrary<FuzzHttpRequest> {
  const id = fc.oneof(fc.constantFrom(...knownIds), fc.uuid(), junkSegment);
  const room = fc.oneof(fc.constant(roomId), fc.constantFrom(...knownIds), junkSegment);
  // Filled in raw: junk segments carry malformed percent-encoding on purpose.
  const fill = (template: string, route: string) =>
    fc
      .tuple(room, id)
      .map(([r, i]) => ({ route, path: template.replaceAll(':room', r).replaceAll(':id', i) }));
  const base = fc.oneof(
    { arbitrary: fc.constantFrom(...HTTP_ROUTES).chain((t) => fill(t, t)), weight: 4 },
    { arbitrary: fc.constantFrom(...NEAR_ROUTES).chain((t) => fill(t, 'near')), weight: 1 },
  );
  // The parameters the routes read (placement, cuts, WHIP name, WHEP source), valid and not.
  const routeQuery = fc
    .tuple(
      fc.constantFrom('region', 'exclude', 'after', 'name', 'source', 'region', 'exclude'),
      fc.oneof(
        fc.constantFrom('local', 'eu-1', 'EU', '-1', '0', '1e99', 'a,b,c', ',,,', 'x'.repeat(40), '%zz'),
        fc
          .array(fc.constantFrom('n1', 'n.2', 'bad%20id', 'UPPER'), { maxLength: 20 })
          .map((ids) => ids.join(',')),
        id,
      ),
    )
    .map(([key, value]) => `?${key}=${value}`);
  const query = fc.oneof(junkQuery, routeQuery);
  const path = fc
    .tuple(
      base,
      fc.oneof(
        { arbitrary: fc.constant([]), weight: 3 },
        fc.array(junkSegment, { minLength: 1, maxLength: 3 }),
      ),
      query,
    )
    .map(([b, extra, q]) => ({ route: b.route, path: `${[b.path, ...extra].join('/')}${q}` }));
  // Each of the test's tokens (valid for its own purpose, e.g. the recorder's or a camera's),
  // mangled, or none.
  const auth = fc.oneof(
    fc.constantFrom(undefined, 'Bearer ', 'Bearer', `Bearer ${'A'.repeat(8000)}`),
    fc
      .tuple(
        fc.constantFrom(...tokens),
        fc.constantFrom(
          'Bearer %s',
          'Bearer %s',
          'Bearer %sx',
          'Bearer %S',
          'bearer %s',
          'Basic %b',
          'Bearer  %s',
        ),
      )
      .map(([token, form]) =>
        form
          .replace('%s', token)
          .replace('%S', token.slice(1))
          .replace('%b', Buffer.from(`a:${token}`).toString('base64')),
      ),
  );
  const headerName = fc
    .stringMatching(/^[a-z][a-z0-9-]{0,20}$/)
    .filter(
      (h) => !['host', 'content-length', 'transfer-encoding', 'connection', 'expect', 'upgrade'].includes(h),
    );
  const headers = fc
    .tuple(
      auth,
      fc.constantFrom(
        undefined,
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=utf-16',
        'application/sdp',
        'application/sdp',
        'application/trickle-ice-sdpfrag',
      ),
      fc.dictionary(headerName, fc.stringMatching(/^[ -~]{0,60}$/), { maxKeys: 3 }),
      fc.constantFrom(undefined, undefined, 'http://evil.example', 'null'),
      fc.constantFrom(undefined, undefined, '*', '"junk"', 'W/"x"', '"'),
    )
    .map(([a, ct, extra, origin, ifMatch]) => ({
      ...extra,
      ...(a !== undefined ? { authorization: a } : {}),
      ...(ct !== undefined ? { 'content-type': ct } : {}),
      ...(origin !== undefined ? { origin } : {}),
      ...(ifMatch !== undefined ? { 'if-match': ifMatch } : {}),
    }));
  const recordingBody = fc.record(
    {
      roomId: fc.oneof(fc.constant(roomId), fc.string()),
      producerId: fc.oneof(fc.uuid(), fc.string()),
      ip: fc.constantFrom('127.0.0.1', '::1', '999.1.1.1', 'localhost', ''),
      rtpPort: fc.oneof(fc.integer({ min: -1, max: 70000 }), fc.constant(Number.NaN)),
      rtcpPort: fc.integer({ min: -1, max: 70000 }),
    },
    { requiredKeys: [] },
  );
  // A recorder status report, shaped roughly right and wrong in places.
  const statusBody = fc.record(
    {
      recorderId: fc.oneof(fc.constant('rec-1'), fc.string()),
      at: fc.oneof(fc.integer(), fc.constant(Number.NaN)),
      disk: fc.jsonValue(),
      tracks: fc.array(fc.jsonValue(), { maxLength: 3 }),
      errors: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(
    fc.constant(undefined),
    fc.constant(''),
    recordingBody.map((b) => JSON.stringify(b)),
    statusBody.map((b) => JSON.stringify(b)),
    fc.constantFrom(...SDP_BODIES),
    fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.constantFrom(
      '{',
      '{"__proto__":{"polluted":1}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
      '[]',
      'null',
      'a'.repeat(20_000),
      `[${'['.repeat(5000)}`,
    ),
  );
  return fc
    .record({
      method: fc.constantFrom(
        'GET',
        'GET',
        'HEAD',
        'POST',
        'POST',
        'PUT',
        'DELETE',
        'PATCH',
        'PATCH',
        'OPTIONS',
        'PROPFIND',
      ),
      target: path,
      headers,
      body,
    })
    .map(({ target, ...r }) => ({
      ...r,
      ...target,
      body: r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body,
    }));
}
