import type {
  NotificationName,
  NotificationOf,
  RequestName,
  RequestOf,
  RtpParameters,
} from '../src/index.ts';

/** A realistic simulcast VP8 producer, as mediasoup-client sends it from Chromium. */
export const vp8SimulcastRtpParameters: RtpParameters = {
  mid: '0',
  codecs: [
    {
      mimeType: 'video/VP8',
      payloadType: 96,
      clockRate: 90000,
      parameters: {},
      rtcpFeedback: [
        { type: 'nack', parameter: '' },
        { type: 'nack', parameter: 'pli' },
        { type: 'ccm', parameter: 'fir' },
      ],
    },
    { mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 }, rtcpFeedback: [] },
  ],
  headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 4, encrypt: false, parameters: {} }],
  encodings: [
    { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150000, active: true },
    { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500000, active: true },
    { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1500000, active: true },
  ],
  rtcp: { cname: 'abcd', reducedSize: true },
};

export const rtpCapabilities = {
  codecs: [
    { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: 100 },
    { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, preferredPayloadType: 101, rtcpFeedback: [] },
  ],
  headerExtensions: [{ kind: 'video', uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', preferredId: 1 }],
};

const dtlsParameters = {
  role: 'client',
  fingerprints: [
    {
      algorithm: 'sha-256',
      value:
        'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89',
    },
  ],
};

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiY2FtZXJhIn0.c2lnbmF0dXJl';

/** One valid payload per request; the coverage test fails when a request is added without one. */
export const validRequests: { [N in RequestName]: RequestOf<N> } = {
  'auth:director': { roomId: 'main', adminSecret: 's3cret-from-npm-start' },
  'room:join': { roomId: 'main', token: TOKEN, displayName: 'Cam A', clientId: 'c-123' },
  'invite:create': { role: 'camera', ttlSeconds: 3600, uses: 1, label: 'Cam 2' },
  'invite:list': {},
  'invite:revoke': { inviteId: 'inv-1' },
  'room:leave': {},
  'transport:create': { direction: 'send' },
  'transport:connect': {
    transportId: 't1',
    dtlsParameters: dtlsParameters as RequestOf<'transport:connect'>['dtlsParameters'],
  },
  'transport:restartIce': { transportId: 't1' },
  'producer:create': {
    transportId: 't1',
    kind: 'video',
    rtpParameters: vp8SimulcastRtpParameters,
    purpose: 'camera',
  },
  'producer:close': { producerId: 'p1' },
  'producer:pause': { producerId: 'p1' },
  'producer:resume': { producerId: 'p1' },
  'consumer:create': {
    transportId: 't2',
    producerId: 'p1',
    rtpCapabilities: rtpCapabilities as RequestOf<'consumer:create'>['rtpCapabilities'],
    spatialLayer: 0,
  },
  'consumer:resume': { consumerId: 'c1' },
  'consumer:setLayers': { consumerId: 'c1', spatialLayer: 2, temporalLayer: 1 },
  'consumer:close': { consumerId: 'c1' },
  'program:preview': { sourceId: 'c-123' },
  'program:cut': {},
  'program:auto': { durationMs: 500 },
  'guest:list': {},
  'guest:admit': { guestId: 'g-1' },
  'guest:reject': { guestId: 'g-1' },
  'guest:mute': { guestId: 'g-1' },
  'guest:unmute': { guestId: 'g-1' },
  'guest:remove': { guestId: 'g-1' },
  'record:set': { sourceId: 'cam-1', on: true },
  'telemetry:report': {
    hop: 'edge',
    startupMs: 820,
    cutToFrameMs: 45,
    freezes: 0,
    rttMs: 18.5,
    jitterMs: 3.2,
    packetLossPct: 0.4,
    bitrateKbps: { in: 2400, out: 12 },
    decodeMsPerFrame: 2.1,
    glassToGlassMs: 140,
    battery: { level: 0.62, charging: false },
    networkType: 'wifi',
  },
};

/** For each request: payloads that must be refused, with why. */
export const invalidRequests: { [N in RequestName]: [why: string, payload: unknown][] } = {
  'auth:director': [
    ['missing secret', { roomId: 'main' }],
    ['empty secret', { roomId: 'main', adminSecret: '' }],
  ],
  'room:join': [
    ['missing clientId', { roomId: 'main', token: TOKEN, displayName: 'Cam A' }],
    ['missing token', { roomId: 'main', displayName: 'A', clientId: 'c' }],
    ['oversize token', { roomId: 'main', token: 'x'.repeat(5000), displayName: 'A', clientId: 'c' }],
    ['empty name', { roomId: 'main', token: TOKEN, displayName: '   ', clientId: 'c' }],
    ['name too long', { roomId: 'main', token: TOKEN, displayName: 'x'.repeat(65), clientId: 'c' }],
    ['room id too long', { roomId: 'r'.repeat(129), token: TOKEN, displayName: 'A', clientId: 'c' }],
  ],
  'invite:create': [
    ['unknown role', { role: 'admin', ttlSeconds: 3600 }],
    ['ttl too short', { role: 'camera', ttlSeconds: 5 }],
    ['ttl longer than a week', { role: 'camera', ttlSeconds: 8 * 24 * 3600 }],
    ['zero uses', { role: 'camera', ttlSeconds: 3600, uses: 0 }],
  ],
  'invite:list': [['unexpected field', { all: true }]],
  'invite:revoke': [['missing id', {}]],
  'room:leave': [['unexpected field', { force: true }]],
  'transport:create': [
    ['bad direction', { direction: 'sideways' }],
    ['missing direction', {}],
  ],
  'transport:connect': [
    ['no fingerprints', { transportId: 't1', dtlsParameters: { fingerprints: [] } }],
    ['bad role', { transportId: 't1', dtlsParameters: { ...dtlsParameters, role: 'boss' } }],
    ['missing transportId', { dtlsParameters }],
  ],
  'transport:restartIce': [['numeric id', { transportId: 5 }]],
  'producer:create': [
    [
      'no codecs',
      {
        transportId: 't1',
        kind: 'video',
        rtpParameters: { ...vp8SimulcastRtpParameters, codecs: [] },
        purpose: 'camera',
      },
    ],
    [
      'bad kind',
      { transportId: 't1', kind: 'data', rtpParameters: vp8SimulcastRtpParameters, purpose: 'camera' },
    ],
    [
      'bad purpose',
      { transportId: 't1', kind: 'video', rtpParameters: vp8SimulcastRtpParameters, purpose: 'screen' },
    ],
    [
      'payload type out of range',
      {
        transportId: 't1',
        kind: 'video',
        purpose: 'camera',
        rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 300, clockRate: 90000 }] },
      },
    ],
  ],
  'producer:close': [['empty id', { producerId: '' }]],
  'producer:pause': [['missing id', {}]],
  'producer:resume': [['null id', { producerId: null }]],
  'consumer:create': [
    ['layer out of range', { transportId: 't2', producerId: 'p1', rtpCapabilities, spatialLayer: 3 }],
    ['capabilities not an object', { transportId: 't2', producerId: 'p1', rtpCapabilities: 'all' }],
  ],
  'consumer:resume': [['id too long', { consumerId: 'c'.repeat(200) }]],
  'consumer:setLayers': [
    ['negative layer', { consumerId: 'c1', spatialLayer: -1 }],
    ['fractional layer', { consumerId: 'c1', spatialLayer: 1.5 }],
  ],
  'consumer:close': [['array payload', ['c1']]],
  'program:preview': [['missing sourceId', {}]],
  'program:cut': [['unexpected field', { sourceId: 'x' }]],
  'program:auto': [
    ['too short', { durationMs: 10 }],
    ['too long', { durationMs: 60000 }],
  ],
  'guest:list': [['unexpected field', { guestId: 'g-1' }]],
  'guest:admit': [
    ['missing guestId', {}],
    ['empty guestId', { guestId: '' }],
    ['extra field', { guestId: 'g-1', role: 'director' }],
  ],
  'guest:reject': [['guestId not a string', { guestId: 7 }]],
  'guest:mute': [['guestId too long', { guestId: 'g'.repeat(200) }]],
  'guest:unmute': [['array payload', ['g-1']]],
  'guest:remove': [['null guestId', { guestId: null }]],
  'record:set': [
    ['missing on', { sourceId: 'cam-1' }],
    ['on as a string', { on: 'yes' }],
    ['empty sourceId', { sourceId: '', on: true }],
    ['unknown key', { on: true, everything: true }],
  ],
  'telemetry:report': [
    ['missing hop', { rttMs: 10 }],
    ['unknown hop', { hop: 'moon' }],
    ['unknown key', { hop: 'site', rttMs: 10, cpuTemperature: 80 }],
    ['unknown key in bitrate', { hop: 'site', bitrateKbps: { in: 1, sideways: 2 } }],
    ['unknown key in battery', { hop: 'site', battery: { level: 0.5, charging: true, health: 'ok' } }],
    ['negative rtt', { hop: 'site', rttMs: -1 }],
    ['rtt above its bound', { hop: 'site', rttMs: 60_001 }],
    ['loss above 100 %', { hop: 'site', packetLossPct: 100.5 }],
    ['fractional freezes', { hop: 'site', freezes: 1.5 }],
    ['battery level above 1', { hop: 'site', battery: { level: 1.2, charging: true } }],
    ['battery without charging', { hop: 'site', battery: { level: 0.5 } }],
    ['unknown network type', { hop: 'site', networkType: '6g' }],
    ['a figure as a string', { hop: 'site', startupMs: '800' }],
    ['a figure as null', { hop: 'site', jitterMs: null }],
    ['an array payload', [{ hop: 'site' }]],
  ],
};

export const validNotifications: { [N in NotificationName]: NotificationOf<N> } = {
  'room:joined': { ok: false, error: { code: 'UNAUTHORIZED', message: 'invite expired' } },
  'room:state': {
    roomId: 'main',
    sources: [
      {
        sourceId: 'c-1',
        displayName: 'Cam A',
        quality: 'good',
        tracks: [{ producerId: 'p1', kind: 'video', purpose: 'camera', paused: false }],
      },
    ],
    program: { programSourceId: 'c-1', previewSourceId: null, transition: null, revision: 3 },
  },
  'program:state': {
    programSourceId: 'c-1',
    previewSourceId: 'c-2',
    transition: {
      kind: 'fade',
      fromSourceId: 'c-1',
      toSourceId: 'c-2',
      durationMs: 500,
      startedAt: 1700000000000,
    },
    revision: 4,
  },
  'source:updated': { sourceId: 'c-1', displayName: 'Cam A', quality: 'poor', tracks: [] },
  'consumer:closed': { consumerId: 'c1' },
  'room:rejoin': { reason: 'media worker died' },
  'guests:state': {
    guests: [
      { guestId: 'g-1', displayName: 'Ana', state: 'waiting', muted: false },
      { guestId: 'g-2', displayName: 'Ben', state: 'admitted', muted: true },
    ],
  },
  'guest:status': { state: 'admitted', muted: false },
  'health:sources': {
    roomId: 'main',
    at: 1_700_000_000_000,
    sources: [
      {
        sourceId: 'cam-1',
        displayName: 'Camera 1',
        bitrateKbps: 1800,
        lossPct: 0.4,
        quality: 'good',
        battery: { level: 0.42, charging: false },
        networkType: 'wifi',
      },
      { sourceId: 'cam-2', displayName: 'Camera 2', bitrateKbps: 0, lossPct: 0, quality: 'lost' },
    ],
  },
  'recorder:state': {
    roomId: 'main',
    plan: { all: true, include: [], exclude: ['cam-2'] },
    recorder: {
      recorderId: 'studio-box:4242',
      at: 1_700_000_000_000,
      disk: {
        path: '/var/lib/microstudio/recordings',
        freeBytes: 5e9,
        totalBytes: 1e11,
        warnBytes: 2e9,
        state: 'ok',
      },
      uploads: {
        state: 'failing',
        bucket: 'show-archive',
        pending: 3,
        pendingBytes: 4_200_000,
        confirmed: 12,
        lastError: 'NoSuchBucket: The specified bucket does not exist',
      },
      tracks: [
        {
          sourceId: 'cam-1',
          kind: 'video',
          state: 'recording',
          seconds: 42.5,
          bytes: 4_100_000,
          segments: 4,
        },
      ],
      errors: [{ at: 1_700_000_000_000, message: 'disk full', sourceId: 'cam-1' }],
    },
    reportedAt: 1_700_000_000_100,
  },
};
