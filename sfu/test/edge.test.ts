import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, FABRIC_NAMESPACE, type Result } from '@microstudio/protocol';
import type { types } from 'mediasoup';
import { io, type Socket } from 'socket.io-client';
import { LocalFabric } from '../src/fabric/LocalFabric.ts';
import type { MediaNode } from '../src/node.ts';
import type { Room } from '../src/rooms/Room.ts';
import {
  connect,
  joinAs,
  must,
  nextEvent,
  request,
  sleep,
  startTestNode,
  TEST_TOKEN_SECRET,
  tokenFor,
} from './helpers.ts';
import { isRtcpPli, RtpReceiver, RtpSender, recordingSink, rtcpPackets, vp8Camera } from './rtp.ts';
import { claimsOf, expiredToken, signClaims } from './support/forgedTokens.ts';

/** What edges authenticated with before node tokens: a shared secret the site no longer accepts. */
const OLD_NODE_SECRET = 'edge-test-node-secret-0123456789';
const ROOM = 'show';

/** A node-internal camera on the site: Opus RTP from a UDP socket into a comedia PlainTransport. */
async function rtpCamera(room: Room, sourceId: string, ssrc: number) {
  const peer = room.join({
    role: 'camera',
    displayName: sourceId,
    clientId: sourceId,
    sink: recordingSink(),
  });
  const inbound = await room.createPlainTransport(peer, 'send', {
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    rtcpMux: true,
    comedia: true,
  });
  const producer = await room.produce(peer, {
    transportId: inbound.id,
    kind: 'audio',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc }],
    },
    purpose: 'mic',
  });
  const sender = new RtpSender(ssrc);
  sender.start(inbound.tuple.localPort);
  return { peer, producer, sender };
}

/** A node-internal viewer on the edge: consumes into a PlainTransport and counts the RTP. */
async function rtpViewer(room: Room, clientId: string, producerId: string) {
  const peer = room.join({ role: 'viewer', displayName: clientId, clientId, sink: recordingSink() });
  const receiver = new RtpReceiver();
  const port = await receiver.bind();
  const transport = await room.createPlainTransport(peer, 'recv', {
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    rtcpMux: true,
    comedia: false,
  });
  await transport.connect({ ip: '127.0.0.1', port });
  const consumer: types.Consumer = await room.consume(peer, {
    transportId: transport.id,
    producerId,
    rtpCapabilities: room.wireRtpCapabilities,
  });
  await room.resumeConsumer(peer, consumer.id);
  return { peer, receiver, consumer };
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function nodeChannel(node: MediaNode, auth: Record<string, unknown>): Socket {
  return io(`${node.url}${FABRIC_NAMESPACE}`, {
    auth,
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
  });
}

function connectError(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => reject(new Error('connected without a valid node token')));
    socket.once('connect_error', (error) => resolve(error.message));
  });
}

describe('edge fabric (site and edge in one process, sharing an in-memory fabric)', () => {
  let fabric: LocalFabric;
  let site: MediaNode;
  let edge: MediaNode;
  let siteRoom: Room;
  const cleanup: (() => void)[] = [];

  before(async () => {
    fabric = new LocalFabric();
    // Both nodes get TEST_TOKEN_SECRET (startTestNode): the edge signs its node token with it.
    const shared = {
      MICROSTUDIO_HEARTBEAT_MS: '200',
      MICROSTUDIO_PIPE_PORT_MIN: '47000',
      MICROSTUDIO_PIPE_PORT_MAX: '47099',
      MICROSTUDIO_MIRROR_IDLE_MS: '300',
    };
    site = await startTestNode({ ...shared, MICROSTUDIO_NODE_ID: 'site-1' }, { fabric });
    edge = await startTestNode(
      { ...shared, MICROSTUDIO_NODE_ROLE: 'edge', MICROSTUDIO_NODE_ID: 'edge-1', MICROSTUDIO_REGION: 'eu' },
      { fabric },
    );
    siteRoom = await site.registry.open(ROOM);
    await until('the edge uplink', () => edge.edge?.uplink === 'up');
  });

  after(async () => {
    for (const fn of cleanup) fn();
    await edge?.close();
    await site?.close();
    await fabric?.close();
  });

  it('registers both nodes in the fabric with their roles', async () => {
    const nodes = await fabric.nodes();
    const byId = new Map(nodes.map((n) => [n.nodeId, n]));
    assert.equal(byId.get('site-1')?.role, 'site');
    assert.equal(byId.get('edge-1')?.role, 'edge');
    assert.equal(byId.get('edge-1')?.region, 'eu');
  });

  it('measures the uplink RTT: announced in the fabric, at /healthz and in /metrics; the site has none', async () => {
    const probesAt = async (node: MediaNode) =>
      Number(
        /^microstudio_uplink_rtt_seconds_count (\d+)/m.exec(
          await (await fetch(`${node.url}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    const record = async (id: string) => (await fabric.nodes()).find((n) => n.nodeId === id);
    // A few probes (every 500 ms), then a heartbeat (every 200 ms) carrying their figures.
    const deadline = Date.now() + 8000;
    while ((await probesAt(edge)) < 4 || (await record('edge-1'))?.uplinkRttMs === undefined) {
      if (Date.now() > deadline) assert.fail('the edge announced no RTT within 8 s');
      await sleep(100);
    }
    const [edgeRecord, siteRecord] = [await record('edge-1'), await record('site-1')];
    const rtt = edgeRecord?.uplinkRttMs;
    const p95 = edgeRecord?.uplinkRttP95Ms;
    console.log(`edge uplink RTT on loopback: smoothed ${rtt} ms, p95 ${p95} ms`);
    assert.ok(rtt !== undefined && Number.isFinite(rtt) && rtt > 0 && rtt < 1000, `smoothed RTT ${rtt}`);
    assert.ok(p95 !== undefined && Number.isFinite(p95) && p95 > 0 && p95 < 1000, `p95 RTT ${p95}`);
    assert.equal(siteRecord?.uplinkRttMs, undefined);

    // /fabric/nodes carries what the fabric holds.
    const listed = (await (await fetch(`${site.url}/fabric/nodes`)).json()) as {
      nodes: { nodeId: string; uplinkRttMs?: number }[];
    };
    const listedRtt = listed.nodes.find((n) => n.nodeId === 'edge-1')?.uplinkRttMs;
    assert.ok(listedRtt !== undefined && listedRtt > 0);

    const health = (await (await fetch(`${edge.url}/healthz`)).json()) as {
      node?: { uplink: string; uplinkRttMs?: number; uplinkRttP95Ms?: number };
    };
    assert.equal(health.node?.uplink, 'up');
    assert.ok((health.node?.uplinkRttMs ?? 0) > 0 && (health.node?.uplinkRttP95Ms ?? 0) > 0);

    assert.ok((await probesAt(edge)) >= 4);
    assert.match(
      await (await fetch(`${edge.url}/metrics`)).text(),
      /^microstudio_uplink_rtt_seconds_bucket\{le="0\.05"\} [1-9]\d*$/m,
    );
    const siteMetrics = await (await fetch(`${site.url}/metrics`)).text();
    assert.match(siteMetrics, /^microstudio_uplink_rtt_seconds_count 0$/m);
  });

  it('mirrors the program to an edge viewer and follows every cut', async () => {
    const camA = await rtpCamera(siteRoom, 'cam-a', 1111);
    const camB = await rtpCamera(siteRoom, 'cam-b', 2222);
    cleanup.push(
      () => camA.sender.close(),
      () => camB.sender.close(),
    );
    const director = await joinAs(site, ROOM, 'director', 'director-1');
    await must(director.socket, 'program:preview', { sourceId: 'cam-a' });
    await must(director.socket, 'program:cut', {});

    const viewer = await joinAs(edge, ROOM, 'viewer', 'viewer-1');
    // The join may land before the pipe is open; the edge then sends the site's state.
    const state =
      viewer.data.room.sources.length === 2
        ? viewer.data.room
        : await nextEvent(viewer.socket, 'room:state', (s) => s.sources.length === 2);
    assert.equal(state.uplink, 'up');
    assert.equal(state.program.programSourceId, 'cam-a');
    const ids = state.sources.flatMap((s) => s.tracks.map((t) => t.producerId)).sort();
    assert.deepEqual(ids, [camA.producer.id, camB.producer.id].sort(), 'producer ids are the site’s');

    // Real RTP crosses site → pipe (SRTP) → edge → viewer.
    const edgeRoom = edge.registry.get(ROOM);
    assert.ok(edgeRoom?.mirrored);
    const probe = await rtpViewer(edgeRoom, 'probe-1', camA.producer.id);
    cleanup.push(() => probe.receiver.close());
    await until('RTP at the edge viewer', () => probe.receiver.arrivals.length >= 20);
    const metrics = await (await fetch(`${edge.url}/metrics`)).text();
    assert.match(metrics, /^microstudio_pipes 1$/m);
    assert.match(metrics, /^microstudio_uplink_up 1$/m);
    const audioBps = Number(/^microstudio_pipe_ingest_bitrate_bps\{kind="audio"\} (\d+)/m.exec(metrics)?.[1]);
    assert.ok(audioBps > 0, `piped audio bitrate is ${audioBps}`);

    const cut = nextEvent(viewer.socket, 'program:state', (p) => p.programSourceId === 'cam-b');
    await must(director.socket, 'program:preview', { sourceId: 'cam-b' });
    await must(director.socket, 'program:cut', {});
    const atEdge = await cut;
    assert.equal(atEdge.revision, siteRoom.bus.state.revision, 'the edge keeps the site’s revision');
    assert.equal(site.mirrors?.pipeCount, 1, 'one pipe for this edge and room');

    // The program's source is piped ahead of any request (a cut is a switch at the edge).
    await until('cam-b piped', () => edge.edge !== undefined && edge.edge.pipeCount === 1);
    director.socket.disconnect();
    viewer.socket.disconnect();
    edgeRoom.leave(probe.peer);
  });

  it('tells edge viewers when a source leaves the site, and closes their consumer', async () => {
    const camC = await rtpCamera(siteRoom, 'cam-c', 3333);
    cleanup.push(() => camC.sender.close());
    const viewer = await joinAs(edge, ROOM, 'viewer', 'viewer-2');
    const edgeRoom = edge.registry.get(ROOM);
    assert.ok(edgeRoom);
    await until('cam-c at the edge', () => edgeRoom.snapshot().sources.some((s) => s.sourceId === 'cam-c'));
    const probe = await rtpViewer(edgeRoom, 'probe-2', camC.producer.id);
    cleanup.push(() => probe.receiver.close());
    await until('RTP of cam-c', () => probe.receiver.arrivals.length >= 5);
    const gone = nextEvent(
      viewer.socket,
      'room:state',
      (s) => !s.sources.some((x) => x.sourceId === 'cam-c'),
    );
    siteRoom.leave(camC.peer);
    await gone;
    await until('the edge consumer closed', () => probe.consumer.closed);
    viewer.socket.disconnect();
    edgeRoom.leave(probe.peer);
  });

  it('refuses cameras and directors at an edge', async () => {
    const socket = await connect(edge);
    for (const role of ['camera', 'director'] as const) {
      const token = await tokenFor(site, ROOM, role);
      const result = await request(socket, 'room:join', {
        roomId: ROOM,
        token,
        displayName: role,
        clientId: `x-${role}`,
      });
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.error.code, ErrorCode.Forbidden);
    }
    socket.disconnect();
  });

  it('unpipes a room after its last edge viewer left (idle timeout)', async () => {
    const viewer = await joinAs(edge, ROOM, 'viewer', 'viewer-3');
    await until('pipe open', () => (site.mirrors?.pipeCount ?? 0) === 1);
    viewer.socket.disconnect();
    await until('pipe closed at the site', () => site.mirrors?.pipeCount === 0);
    assert.equal(edge.edge?.pipeCount, 0);
  });

  it('places viewers at the edge, and at the site when the edge is excluded', async () => {
    const placed = (await (await fetch(`${site.url}/placement?region=eu`)).json()) as { nodeId: string };
    assert.equal(placed.nodeId, 'edge-1');
    const fallback = (await (await fetch(`${site.url}/placement?exclude=edge-1`)).json()) as {
      nodeId: string;
    };
    assert.equal(fallback.nodeId, 'site-1');
    const bad = await fetch(`${site.url}/placement?region=${encodeURIComponent('EU!')}`);
    assert.equal(bad.status, 400);
  });

  describe('node channel refusals (nothing changes)', () => {
    it('refuses a connection without a node token, with the old shared secret, a forged, expired, wrong-role or widened token, or without a node id', async () => {
      const pipesBefore = site.mirrors?.pipeCount;
      const peersBefore = siteRoom.peerCount;
      const issue = (role: 'node' | 'recorder' | 'camera', room = '*') =>
        site.auth.issuer.issue({ room: role === 'camera' ? ROOM : room, role, ttlSeconds: 600 });
      const cases: [string, Record<string, unknown>, RegExp][] = [
        ['no token', { nodeId: 'rogue' }, /a node token is required/],
        ['the old shared secret', { nodeId: 'rogue', secret: OLD_NODE_SECRET }, /a node token is required/],
        [
          'the shared secret as a token',
          { nodeId: 'rogue', token: OLD_NODE_SECRET },
          /node token refused: not a valid token/,
        ],
        [
          'forged (another secret)',
          { nodeId: 'rogue', token: signClaims('x'.repeat(40), claimsOf('node', '*', ['mirror'])) },
          /node token refused: token signature is not valid/,
        ],
        [
          'expired',
          { nodeId: 'rogue', token: await expiredToken(TEST_TOKEN_SECRET, 'node', '*') },
          /node token refused: token expired/,
        ],
        [
          'a recorder token',
          { nodeId: 'rogue', token: (await issue('recorder')).token },
          /a recorder token cannot be used here \(a node token is needed\)/,
        ],
        [
          'a camera token',
          { nodeId: 'rogue', token: (await issue('camera')).token },
          /a camera token cannot be used here/,
        ],
        [
          'grants widened beyond the role',
          {
            nodeId: 'rogue',
            token: signClaims(TEST_TOKEN_SECRET, claimsOf('node', '*', ['mirror', 'admin'])),
          },
          /token grants \[mirror, admin\] are not those of a node \[mirror\]: refused/,
        ],
        [
          'a recorder token claiming the node grant',
          { nodeId: 'rogue', token: signClaims(TEST_TOKEN_SECRET, claimsOf('recorder', '*', ['mirror'])) },
          /are not those of a recorder/,
        ],
        ['no node id', { token: (await issue('node')).token }, /nodeId is required/],
      ];
      for (const [what, auth, expected] of cases) {
        assert.match(await connectError(nodeChannel(site, auth)), expected, what);
      }
      assert.equal(site.mirrors?.edgeCount, 1, 'only the real edge is connected');
      assert.equal(site.mirrors?.pipeCount, pipesBefore);
      assert.equal(siteRoom.peerCount, peersBefore);
    });

    it('a node token for one room opens that room only', async () => {
      const other = await site.registry.open('show-other');
      const { token } = await site.auth.issuer.issue({ room: 'show-other', role: 'node', ttlSeconds: 600 });
      const socket = nodeChannel(site, { nodeId: 'scoped-node', token });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        });
        const pipesBefore = site.mirrors?.pipeCount ?? 0;
        const peersBefore = siteRoom.peerCount;
        const refused = (await socket
          .timeout(3000)
          .emitWithAck('mirror:open', { roomId: ROOM })) as Result<unknown>;
        assert.equal(refused.ok, false);
        assert.equal(!refused.ok && refused.error.code, ErrorCode.Forbidden);
        assert.match(
          !refused.ok ? refused.error.message : '',
          /node token is for room "show-other", not "show"/,
        );
        assert.equal(siteRoom.peerCount, peersBefore, 'no mirror peer joined the refused room');
        assert.equal(site.mirrors?.pipeCount, pipesBefore);
        const opened = (await socket
          .timeout(3000)
          .emitWithAck('mirror:open', { roomId: 'show-other' })) as Result<unknown>;
        assert.equal(opened.ok, true, JSON.stringify(opened));
        assert.equal(site.mirrors?.pipeCount, pipesBefore + 1);
      } finally {
        socket.disconnect();
        await until('the scoped pipe to close', () => other.peerCount === 0);
      }
    });

    it('answers malformed requests, unknown rooms and unknown pipes with clear errors', async () => {
      const { token } = await site.auth.issuer.issue({ room: '*', role: 'node', ttlSeconds: 600 });
      const socket = nodeChannel(site, { nodeId: 'probe-node', token });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const ask = (name: string, payload: unknown) =>
        socket.timeout(3000).emitWithAck(name, payload) as Promise<Result<unknown>>;
      const peersBefore = siteRoom.peerCount;
      const roomsBefore = site.registry.rooms().length;
      const cases: [string, unknown, string][] = [
        ['mirror:open', { roomId: 42 }, ErrorCode.BadRequest],
        ['mirror:open', { roomId: 'no-such-room' }, ErrorCode.NotFound],
        ['mirror:consume', { pipeId: 'nope', producerId: 'nope' }, ErrorCode.NotFound],
        ['mirror:close', { pipeId: 'nope' }, ErrorCode.NotFound],
        ['mirror:connect', { pipeId: 'nope', edge: { ip: '1.2.3.4', port: 0 } }, ErrorCode.BadRequest],
        ['pipe:everything', {}, ErrorCode.UnknownEvent],
        ['mirror:open', { roomId: 'x'.repeat(300_000) }, ErrorCode.MessageTooLarge],
      ];
      for (const [name, payload, code] of cases) {
        const answer = await ask(name, payload);
        assert.equal(answer.ok, false, name);
        assert.equal(!answer.ok && answer.error.code, code, `${name} → ${code}`);
      }
      assert.equal(siteRoom.peerCount, peersBefore);
      assert.equal(site.registry.rooms().length, roomsBefore, 'an unknown room is not created');
      assert.equal(site.mirrors?.pipeCount, 0);
      socket.disconnect();
    });
  });
});

describe('keyframe requests cross the pipe', () => {
  it('a new edge consumer makes the site camera send a keyframe (PLI reaches the encoder)', async () => {
    const fabric = new LocalFabric();
    const shared = {
      MICROSTUDIO_PIPE_PORT_MIN: '47100',
      MICROSTUDIO_PIPE_PORT_MAX: '47199',
    };
    const site = await startTestNode({ ...shared, MICROSTUDIO_NODE_ID: 'site-k' }, { fabric });
    const edge = await startTestNode(
      { ...shared, MICROSTUDIO_NODE_ROLE: 'edge', MICROSTUDIO_NODE_ID: 'edge-k' },
      { fabric },
    );
    let camera: Awaited<ReturnType<typeof vp8Camera>> | undefined;
    try {
      await until('uplink', () => edge.edge?.uplink === 'up');
      const room = await site.registry.open('kf');
      // The encoder sends inter frames only, so the edge viewer needs a keyframe from a PLI.
      camera = await vp8Camera(room, { clientId: 'vp8-cam', ssrc: 4444, keyframeEvery: 0 });
      const { producer, feedback } = camera;
      const plis = () => feedback.flatMap(rtcpPackets).filter(isRtcpPli).length;
      await sleep(300);
      const viewerSocket = await joinAs(edge, 'kf', 'viewer', 'kf-viewer');
      const edgeRoom = edge.registry.get('kf');
      assert.ok(edgeRoom);
      await until('sources at the edge', () => edgeRoom.snapshot().sources.length === 1);
      const before = plis();
      const probe = await rtpViewer(edgeRoom, 'kf-probe', producer.id);
      await until('a PLI at the site encoder', () => plis() > before, 5000);
      probe.receiver.close();
      viewerSocket.socket.disconnect();
    } finally {
      camera?.close();
      await edge.close();
      await site.close();
      await fabric.close();
    }
  });
});
