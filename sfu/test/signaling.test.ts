import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, MAX_MESSAGE_BYTES, type RoomSnapshot } from '@microstudio/protocol';
import { io } from 'socket.io-client';
import type { MediaNode } from '../src/node.ts';
import {
  type Client,
  connect,
  dtlsParameters,
  joinAs,
  must,
  nextEvent,
  opusParameters,
  publishCamera,
  rawRequest,
  record,
  request,
  sleep,
  startTestNode,
  tokenFor,
} from './helpers.ts';

let node: MediaNode;
const sockets: Client[] = [];
let roomCounter = 0;
const freshRoom = (): string => `room-${++roomCounter}`;

/** Track sockets so `after` closes them. */
function track<T extends { socket: Client }>(value: T): T {
  sockets.push(value.socket);
  return value;
}

before(async () => {
  node = await startTestNode({
    MICROSTUDIO_MAX_PRODUCERS_PER_PEER: '2',
    MICROSTUDIO_MAX_TRANSPORTS_PER_PEER: '2',
  });
});

after(async () => {
  for (const s of sockets) s.close();
  await node.close();
});

function snapshotOf(roomId: string): RoomSnapshot {
  const room = node.registry.get(roomId);
  assert.ok(room, `room ${roomId} exists`);
  return room.snapshot();
}

describe('room:join', () => {
  test('answers peerId, router RTP capabilities (Opus, H.264 42e01f and 4d0032, VP8) and the room', async () => {
    const roomId = freshRoom();
    const { data } = track(await joinAs(node, roomId, 'director', 'dir-1'));
    assert.match(data.peerId, /^[0-9a-f-]{36}$/);
    const codecs = data.routerRtpCapabilities.codecs ?? [];
    const names = codecs.map(
      (c) =>
        `${c.mimeType}${c.parameters?.['profile-level-id'] ? `/${c.parameters['profile-level-id']}` : ''}`,
    );
    for (const expected of ['audio/opus', 'video/H264/42e01f', 'video/H264/4d0032', 'video/VP8']) {
      assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
    }
    for (const h264 of codecs.filter((c) => c.mimeType === 'video/H264')) {
      assert.equal(h264.parameters?.['packetization-mode'], 1);
    }
    assert.deepEqual(data.room, {
      roomId,
      sources: [],
      program: { programSourceId: null, previewSourceId: null, transition: null, revision: 0 },
    });
  });

  test('a second room:join on one connection is refused with ALREADY_JOINED', async () => {
    const roomId = freshRoom();
    const { socket } = track(await joinAs(node, roomId, 'viewer', 'v-1'));
    const result = await request(socket, 'room:join', {
      roomId,
      token: await tokenFor(node, roomId, 'viewer'),
      displayName: 'x',
      clientId: 'v-2',
    });
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.error.code, ErrorCode.AlreadyJoined);
    assert.equal(node.registry.get(roomId)?.peerCount, 1);
  });

  test('a second join with the same clientId replaces the old peer', async () => {
    const roomId = freshRoom();
    const first = track(await publishCamera(node, roomId, 'cam-replaced'));
    const second = track(await joinAs(node, roomId, 'camera', 'cam-replaced'));
    assert.notEqual(first.peerId, second.peerId);
    const snap = snapshotOf(roomId);
    assert.equal(snap.sources.length, 1);
    assert.deepEqual(snap.sources[0]?.tracks, [], "the old peer's producers are closed");
    const stale = await request(first.socket, 'producer:close', { producerId: first.videoProducerId });
    assert.equal(!stale.ok && stale.error.code, ErrorCode.NotJoined);
  });
});

describe('a join sent with the handshake (auth.join, answered with room:joined)', () => {
  /** Connects with `auth` and returns the socket and the room:joined it gets. */
  async function connectWith(auth: Record<string, unknown>) {
    const socket: Client = track({
      socket: io(node.url, { transports: ['websocket'], forceNew: true, reconnection: false, auth }),
    }).socket;
    const joined = nextEvent(socket, 'room:joined');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return { socket, joined: await joined };
  }

  test('joins as the request would: same answer, the peer in the room, requests work at once', async () => {
    const roomId = freshRoom();
    const token = await tokenFor(node, roomId, 'viewer');
    const { socket, joined } = await connectWith({
      join: { roomId, token, displayName: 'Hand Shake', clientId: 'hs-1' },
    });
    assert.ok(joined.ok, JSON.stringify(joined));
    assert.equal(joined.data.role, 'viewer');
    assert.deepEqual(joined.data.room.roomId, roomId);
    assert.ok(joined.data.routerRtpCapabilities.codecs?.some((c) => c.mimeType === 'video/VP8'));
    assert.equal(node.registry.get(roomId)?.peerCount, 1);
    const transport = await must(socket, 'transport:create', { direction: 'recv' });
    assert.ok(transport.id);
    // The connection is joined: a second join on it is refused as a second request would be.
    const again = await request(socket, 'room:join', { roomId, token, displayName: 'x', clientId: 'hs-1' });
    assert.equal(again.ok ? 'ok' : again.error.code, ErrorCode.AlreadyJoined);
  });

  test('a bad token, a malformed join or an oversize one is answered with its error, the connection kept', async () => {
    const roomId = freshRoom();
    const refused = await connectWith({
      join: { roomId, token: 'x'.repeat(40), displayName: 'Nobody', clientId: 'hs-2' },
    });
    assert.equal(refused.joined.ok ? 'ok' : refused.joined.error.code, ErrorCode.Unauthorized);
    assert.equal(node.registry.get(roomId)?.peerCount ?? 0, 0);
    // Still connected: the client may join with a request now.
    const token = await tokenFor(node, roomId, 'viewer');
    await must(refused.socket, 'room:join', { roomId, token, displayName: 'Later', clientId: 'hs-2' });

    const malformed = await connectWith({ join: { roomId, token: 42 } });
    assert.equal(malformed.joined.ok ? 'ok' : malformed.joined.error.code, ErrorCode.BadRequest);
    const oversize = await connectWith({
      join: { roomId, token, displayName: 'Big', clientId: 'hs-3', pad: 'x'.repeat(MAX_MESSAGE_BYTES) },
    });
    assert.equal(oversize.joined.ok ? 'ok' : oversize.joined.error.code, ErrorCode.MessageTooLarge);
    assert.equal(node.registry.get(roomId)?.peerCount, 1);
  });

  test('a handshake without auth.join joins nothing and gets no room:joined', async () => {
    const socket = track({
      socket: io(node.url, {
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        auth: { x: 1 },
      }),
    }).socket;
    const seen = record(socket);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    await sleep(200);
    assert.deepEqual(
      seen.map((e) => e.name),
      [],
    );
  });
});

describe('media signaling against a real worker', () => {
  test('camera publishes VP8 simulcast + Opus; a director consumes both with a chosen layer', async () => {
    const roomId = freshRoom();
    const director = track(await joinAs(node, roomId, 'director', 'dir'));
    const stateSeen = nextEvent(director.socket, 'room:state', (s) => s.sources[0]?.tracks.length === 2);
    const cam = track(await publishCamera(node, roomId, 'cam-a'));
    const state = await stateSeen;
    assert.deepEqual(
      state.sources[0]?.tracks.map((t) => [t.kind, t.purpose, t.paused]),
      [
        ['video', 'camera', false],
        ['audio', 'mic', false],
      ],
    );
    assert.equal(state.sources[0]?.sourceId, 'cam-a');

    const recv = await must(director.socket, 'transport:create', { direction: 'recv' });
    assert.ok(recv.iceCandidates.length >= 2, 'UDP and TCP candidates');
    assert.ok(recv.iceCandidates.every((c) => c.ip === '127.0.0.1'));
    const ports = new Set(recv.iceCandidates.map((c) => c.port));
    assert.equal(ports.size, 1, 'one WebRtcServer port for UDP and TCP');
    const [port] = [...ports];
    assert.ok(
      port !== undefined &&
        port >= node.config.MICROSTUDIO_RTC_PORT &&
        port <= node.config.MICROSTUDIO_RTC_PORT + 1,
    );
    await must(director.socket, 'transport:connect', { transportId: recv.id, dtlsParameters });

    const video = await must(director.socket, 'consumer:create', {
      transportId: recv.id,
      producerId: cam.videoProducerId,
      rtpCapabilities: director.caps,
      spatialLayer: 0,
    });
    assert.equal(video.kind, 'video');
    assert.equal(video.producerId, cam.videoProducerId);
    assert.equal(video.rtpParameters.codecs[0]?.mimeType, 'video/VP8');
    const room = node.registry.get(roomId);
    const consumer = room?.peer(director.peerId)?.consumers.get(video.consumerId);
    assert.ok(consumer);
    assert.equal(consumer.paused, true, 'consumers start paused');
    assert.equal(consumer.type, 'simulcast');
    assert.deepEqual(consumer.preferredLayers, { spatialLayer: 0, temporalLayer: 2 });
    await must(director.socket, 'consumer:resume', { consumerId: video.consumerId });
    assert.equal(consumer.paused, false);
    await must(director.socket, 'consumer:setLayers', {
      consumerId: video.consumerId,
      spatialLayer: 2,
      temporalLayer: 1,
    });
    assert.deepEqual(consumer.preferredLayers, { spatialLayer: 2, temporalLayer: 1 });

    const audio = await must(director.socket, 'consumer:create', {
      transportId: recv.id,
      producerId: cam.audioProducerId,
      rtpCapabilities: director.caps,
    });
    assert.equal(audio.kind, 'audio');
    assert.equal(audio.rtpParameters.codecs[0]?.mimeType, 'audio/opus');

    // pause/resume are reflected in room:state
    const paused = nextEvent(director.socket, 'room:state', (s) => s.sources[0]?.tracks[0]?.paused === true);
    await must(cam.socket, 'producer:pause', { producerId: cam.videoProducerId });
    await paused;
    await must(cam.socket, 'producer:resume', { producerId: cam.videoProducerId });

    // closing the producer closes its consumer and tells the consumer's peer
    const closed = nextEvent(director.socket, 'consumer:closed', (e) => e.consumerId === video.consumerId);
    const noVideo = nextEvent(director.socket, 'room:state', (s) => s.sources[0]?.tracks.length === 1);
    await must(cam.socket, 'producer:close', { producerId: cam.videoProducerId });
    await closed;
    await noVideo;
    assert.equal(room?.peer(director.peerId)?.consumers.has(video.consumerId), false);
    assert.equal(consumer.closed, true);

    // the camera disconnecting removes its source and closes the audio consumer
    const audioClosed = nextEvent(
      director.socket,
      'consumer:closed',
      (e) => e.consumerId === audio.consumerId,
    );
    const gone = nextEvent(director.socket, 'room:state', (s) => s.sources.length === 0);
    cam.socket.disconnect();
    await audioClosed;
    await gone;
    assert.deepEqual(snapshotOf(roomId).sources, []);
  });

  test('consumer:create with capabilities that cannot receive the producer is refused with CANNOT_CONSUME', async () => {
    const roomId = freshRoom();
    const cam = track(await publishCamera(node, roomId, 'cam-cc'));
    const viewer = track(await joinAs(node, roomId, 'viewer', 'v-cc'));
    const recv = await must(viewer.socket, 'transport:create', { direction: 'recv' });
    const opusOnly = { codecs: viewer.caps.codecs?.filter((c) => c.kind === 'audio'), headerExtensions: [] };
    const result = await request(viewer.socket, 'consumer:create', {
      transportId: recv.id,
      producerId: cam.videoProducerId,
      rtpCapabilities: opusOnly,
    });
    assert.equal(!result.ok && result.error.code, ErrorCode.CannotConsume);
    assert.equal(node.registry.get(roomId)?.peer(viewer.peerId)?.consumers.size, 0);
  });

  test('mediasoup argument errors are answered with BAD_REQUEST', async () => {
    const roomId = freshRoom();
    const cam = track(await joinAs(node, roomId, 'camera', 'cam-bad'));
    const send = await must(cam.socket, 'transport:create', { direction: 'send' });
    const before = snapshotOf(roomId);
    const params = opusParameters();
    const result = await request(cam.socket, 'producer:create', {
      transportId: send.id,
      kind: 'audio',
      rtpParameters: {
        ...params,
        codecs: [{ mimeType: 'audio/nonsense', payloadType: 100, clockRate: 8000 }],
      },
      purpose: 'mic',
    });
    assert.equal(!result.ok && result.error.code, ErrorCode.BadRequest);
    assert.deepEqual(snapshotOf(roomId), before);
  });

  test('unknown transport/producer/consumer ids are answered with NOT_FOUND', async () => {
    const roomId = freshRoom();
    const viewer = track(await joinAs(node, roomId, 'viewer', 'v-nf'));
    for (const [name, payload] of [
      ['transport:connect', { transportId: 'nope', dtlsParameters }],
      ['consumer:resume', { consumerId: 'nope' }],
      ['consumer:close', { consumerId: 'nope' }],
    ] as const) {
      const result = await rawRequest(viewer.socket, name, payload);
      assert.equal(!result.ok && result.error.code, ErrorCode.NotFound, name);
    }
  });
});

describe('refusals change nothing', () => {
  test('an oversize message is refused with MESSAGE_TOO_LARGE', async () => {
    const roomId = freshRoom();
    const cam = track(await joinAs(node, roomId, 'camera', 'cam-big'));
    const send = await must(cam.socket, 'transport:create', { direction: 'send' });
    const before = snapshotOf(roomId);
    const huge = { ...opusParameters(), padding: 'x'.repeat(MAX_MESSAGE_BYTES + 1) };
    const result = await rawRequest(cam.socket, 'producer:create', {
      transportId: send.id,
      kind: 'audio',
      rtpParameters: huge,
      purpose: 'mic',
    });
    assert.equal(!result.ok && result.error.code, ErrorCode.MessageTooLarge);
    assert.deepEqual(snapshotOf(roomId), before);
    assert.equal(cam.socket.connected, true, 'the connection survives');
  });

  test('a malformed message is refused with BAD_REQUEST', async () => {
    const roomId = freshRoom();
    const director = track(await joinAs(node, roomId, 'director', 'dir-bad'));
    const before = snapshotOf(roomId);
    for (const payload of [undefined, 42, { sourceId: '' }, { sourceId: 7 }]) {
      const result = await rawRequest(director.socket, 'program:preview', payload);
      assert.equal(!result.ok && result.error.code, ErrorCode.BadRequest, JSON.stringify(payload));
    }
    const join = await rawRequest(await connect(node), 'room:join', { roomId, role: 'admin' });
    assert.equal(!join.ok && join.error.code, ErrorCode.BadRequest);
    assert.deepEqual(snapshotOf(roomId), before);
  });

  test('an unknown event is refused with UNKNOWN_EVENT', async () => {
    const socket = await connect(node);
    sockets.push(socket);
    const result = await rawRequest(socket, 'room:destroy', {});
    assert.equal(!result.ok && result.error.code, ErrorCode.UnknownEvent);
  });

  test('requests before room:join are refused with NOT_JOINED', async () => {
    const socket = await connect(node);
    sockets.push(socket);
    const roomsBefore = node.registry.rooms().length;
    for (const [name, payload] of [
      ['transport:create', { direction: 'recv' }],
      ['program:cut', {}],
      ['room:leave', {}],
    ] as const) {
      const result = await rawRequest(socket, name, payload);
      assert.equal(!result.ok && result.error.code, ErrorCode.NotJoined, name);
    }
    assert.equal(node.registry.rooms().length, roomsBefore);
  });

  test('a viewer publishing and a camera cutting are refused with FORBIDDEN', async () => {
    const roomId = freshRoom();
    const cam = track(await publishCamera(node, roomId, 'cam-f'));
    const viewer = track(await joinAs(node, roomId, 'viewer', 'v-f'));
    const before = snapshotOf(roomId);
    const send = await request(viewer.socket, 'transport:create', { direction: 'send' });
    assert.equal(!send.ok && send.error.code, ErrorCode.Forbidden);
    const produce = await request(viewer.socket, 'producer:create', {
      transportId: cam.transportId,
      kind: 'audio',
      rtpParameters: opusParameters(),
      purpose: 'mic',
    });
    assert.equal(!produce.ok && produce.error.code, ErrorCode.Forbidden);
    for (const name of ['program:cut', 'program:auto'] as const) {
      const result = await request(cam.socket, name, {});
      assert.equal(!result.ok && result.error.code, ErrorCode.Forbidden, name);
    }
    const preview = await request(viewer.socket, 'program:preview', { sourceId: 'cam-f' });
    assert.equal(!preview.ok && preview.error.code, ErrorCode.Forbidden);
    assert.deepEqual(snapshotOf(roomId), before);
  });

  test('limits are refused with LIMIT_REACHED (transports and producers per peer, peers per room)', async () => {
    const roomId = freshRoom();
    const cam = track(await publishCamera(node, roomId, 'cam-l'));
    const before = snapshotOf(roomId);
    const third = await request(cam.socket, 'producer:create', {
      transportId: cam.transportId,
      kind: 'audio',
      rtpParameters: opusParameters('2', 22_222_222),
      purpose: 'mic',
    });
    assert.equal(!third.ok && third.error.code, ErrorCode.LimitReached);
    await must(cam.socket, 'transport:create', { direction: 'recv' });
    const transports = node.registry.get(roomId)?.peer(cam.peerId)?.transports.size;
    const extra = await request(cam.socket, 'transport:create', { direction: 'recv' });
    assert.equal(!extra.ok && extra.error.code, ErrorCode.LimitReached);
    assert.equal(node.registry.get(roomId)?.peer(cam.peerId)?.transports.size, transports);
    assert.deepEqual(snapshotOf(roomId), before);
  });

  test('a connection over MICROSTUDIO_MAX_MESSAGES_PER_SECOND is refused with RATE_LIMITED; others are not', async () => {
    const limited = await startTestNode({ MICROSTUDIO_MAX_MESSAGES_PER_SECOND: '5' });
    try {
      const a = await joinAs(limited, 'rl', 'director', 'dir-rl');
      const b = await joinAs(limited, 'rl', 'viewer', 'v-rl');
      const results = await Promise.all(
        Array.from({ length: 10 }, () => request(a.socket, 'program:cut', {})),
      );
      const codes = results.map((r) => (r.ok ? 'ok' : r.error.code));
      assert.ok(codes.includes(ErrorCode.RateLimited), codes.join(','));
      const other = await request(b.socket, 'room:leave', {});
      assert.equal(other.ok, true, 'another connection is not limited');
      a.socket.close();
      b.socket.close();
    } finally {
      await limited.close();
    }
  });

  test('peers per room is limited with LIMIT_REACHED', async () => {
    const small = await startTestNode({ MICROSTUDIO_MAX_PEERS_PER_ROOM: '2' });
    try {
      const a = await joinAs(small, 'full', 'viewer', 'v-a');
      const b = await joinAs(small, 'full', 'viewer', 'v-b');
      const c = await connect(small);
      const result = await request(c, 'room:join', {
        roomId: 'full',
        token: await tokenFor(small, 'full', 'viewer'),
        displayName: 'c',
        clientId: 'v-c',
      });
      assert.equal(!result.ok && result.error.code, ErrorCode.LimitReached);
      assert.equal(small.registry.get('full')?.peerCount, 2);
      for (const s of [a.socket, b.socket, c]) s.close();
    } finally {
      await small.close();
    }
  });

  test('a message without an acknowledgement is dropped and the connection keeps working', async () => {
    const roomId = freshRoom();
    const director = track(await joinAs(node, roomId, 'director', 'dir-noack'));
    (director.socket.emit as unknown as (e: string, p: unknown) => void)('program:cut', {});
    (director.socket.emit as unknown as (e: string, p: unknown) => void)('no:such', {});
    const result = await request(director.socket, 'room:leave', {});
    assert.equal(result.ok, true);
  });
});

describe('program bus over signaling', () => {
  test('preview → cut swaps, auto fades and commits; two directors see identical program:state', async () => {
    const roomId = freshRoom();
    track(await publishCamera(node, roomId, 'cam-1'));
    track(await publishCamera(node, roomId, 'cam-2'));
    const d1 = track(await joinAs(node, roomId, 'director', 'dir-1'));
    const d2 = track(await joinAs(node, roomId, 'director', 'dir-2'));
    const seen1 = record(d1.socket);
    const seen2 = record(d2.socket);

    await must(d1.socket, 'program:preview', { sourceId: 'cam-1' });
    await must(d1.socket, 'program:cut', {});
    await must(d2.socket, 'program:preview', { sourceId: 'cam-2' });
    const committed = nextEvent(
      d2.socket,
      'program:state',
      (s) => s.programSourceId === 'cam-2' && !s.transition,
    );
    const startedAt = Date.now();
    await must(d1.socket, 'program:auto', { durationMs: 300 });
    const final = await committed;
    const elapsed = Date.now() - startedAt;
    assert.ok(elapsed >= 250 && elapsed < 2000, `fade committed after ${elapsed} ms`);
    assert.equal(final.previewSourceId, 'cam-1');

    await sleep(50);
    const states1 = seen1.filter((e) => e.name === 'program:state').map((e) => e.payload);
    const states2 = seen2.filter((e) => e.name === 'program:state').map((e) => e.payload);
    assert.equal(states1.length, 5, 'preview, cut, preview, fade start, fade commit');
    assert.deepEqual(states1, states2);
    const fade = states1[3] as {
      transition: { fromSourceId: string; toSourceId: string; durationMs: number };
    };
    assert.deepEqual(
      [fade.transition.fromSourceId, fade.transition.toSourceId, fade.transition.durationMs],
      ['cam-1', 'cam-2', 300],
    );

    const late = track(await joinAs(node, roomId, 'viewer', 'v-late'));
    assert.deepEqual(late.data.room.program, final, 'a new join receives the current state in its ack');
    assert.deepEqual(late.data.room.sources.map((s) => s.sourceId).sort(), ['cam-1', 'cam-2']);
  });

  test('preview of an unknown source is refused with NOT_FOUND; cut with empty preview with BAD_REQUEST', async () => {
    const roomId = freshRoom();
    const d = track(await joinAs(node, roomId, 'director', 'dir-x'));
    const before = snapshotOf(roomId);
    const preview = await request(d.socket, 'program:preview', { sourceId: 'ghost' });
    assert.equal(!preview.ok && preview.error.code, ErrorCode.NotFound);
    const cut = await request(d.socket, 'program:cut', {});
    assert.equal(!cut.ok && cut.error.code, ErrorCode.BadRequest);
    assert.deepEqual(snapshotOf(roomId), before);
  });

  test('a source that leaves stays on the bus and returns with the same clientId', async () => {
    const roomId = freshRoom();
    const cam = track(await publishCamera(node, roomId, 'cam-back'));
    const d = track(await joinAs(node, roomId, 'director', 'dir-back'));
    await must(d.socket, 'program:preview', { sourceId: 'cam-back' });
    await must(d.socket, 'program:cut', {});
    const gone = nextEvent(d.socket, 'room:state', (s) => s.sources.length === 0);
    cam.socket.disconnect();
    const state = await gone;
    assert.equal(state.program.programSourceId, 'cam-back');
    const back = nextEvent(d.socket, 'room:state', (s) => s.sources[0]?.sourceId === 'cam-back');
    track(await joinAs(node, roomId, 'camera', 'cam-back'));
    await back;
  });
});

describe('http', () => {
  test('GET /healthz answers status, role, workers with pids and rooms, rooms, peers, uptime', async () => {
    const res = await fetch(`${node.url}/healthz`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as {
      status: string;
      role: string;
      workers: { pid: number; rooms: number }[];
      rooms: number;
      peers: number;
      uptime: number;
      placement: { roomId: string; workerPid: number; peers: number }[];
    };
    assert.equal(body.status, 'ok');
    assert.deepEqual(
      body.placement.map((p) => [p.roomId, p.workerPid, p.peers]).sort(),
      node.registry
        .rooms()
        .map((r) => [r.id, r.workerPid, r.peerCount])
        .sort(),
    );
    assert.equal(body.role, 'site');
    assert.equal(body.workers.length, 2);
    assert.deepEqual(
      body.workers.map((w) => w.pid),
      node.pool.info().map((w) => w.pid),
    );
    assert.equal(
      body.workers.reduce((n, w) => n + w.rooms, 0),
      body.rooms,
    );
    assert.equal(body.rooms, node.registry.rooms().length);
    assert.equal(body.peers, node.registry.peerCount);
    assert.equal(typeof body.uptime, 'number');
  });

  test('an unknown path is 404', async () => {
    const res = await fetch(`${node.url}/nope`);
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });
});
