import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { grantsOf } from '@microstudio/auth';
import { ErrorCode, type RecorderStatus } from '@microstudio/protocol';
import type { MediaNode } from '../src/node.ts';
import type { Room } from '../src/rooms/Room.ts';
import { connect, request, startTestNode, TEST_TOKEN_SECRET } from './helpers.ts';
import { vp8Camera } from './rtp.ts';
import { claimsOf, expiredToken, signClaims } from './support/forgedTokens.ts';

/**
 * The recorder API takes `recorder` tokens only: each refusal (no token, the old shared secret,
 * forged, expired, another role, grants that are not the role's, another room) is answered with
 * its reason and leaves the node as it was (no transport, no recording, no status, no plan change).
 */

const ROOM = 'rec-auth';
const OTHER = 'rec-auth-other';
const OLD_NODE_SECRET = 'recorder-auth-old-node-secret-0123';
let node: MediaNode;
let room: Room;
let cam: Awaited<ReturnType<typeof vp8Camera>>;

before(async () => {
  // The old shared secret is still configured (the log shipper's): it must open nothing here.
  node = await startTestNode({ MICROSTUDIO_NODE_SECRET: OLD_NODE_SECRET, MICROSTUDIO_WORKERS: '1' });
  room = await node.registry.open(ROOM);
  await node.registry.open(OTHER);
  cam = await vp8Camera(room, { clientId: 'cam-auth', ssrc: 5151 });
});

after(async () => {
  cam?.close();
  await node?.close();
});

async function api(
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; error: string; json: Record<string, unknown> }> {
  const res = await fetch(`${node.url}/internal/recorder/v1${path}`, {
    method,
    headers: {
      ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  return { status: res.status, error: String(json.error ?? ''), json };
}

const recorderToken = async (forRoom: string) =>
  (await node.auth.issuer.issue({ room: forRoom, role: 'recorder', ttlSeconds: 600 })).token;

const status = (): RecorderStatus => ({
  recorderId: 'rogue:1',
  at: Date.now(),
  disk: { path: '/rec', freeBytes: 1e10, totalBytes: 1e11, warnBytes: 2e9, state: 'ok' },
  uploads: { state: 'off', bucket: null, pending: 0, pendingBytes: 0, confirmed: 0, lastError: null },
  tracks: [],
  errors: [],
});

/** Every route of the API, as the recorder calls it, for `roomId`. */
const everyRoute = (roomId: string, producerId: string): [string, string, unknown?][] => [
  ['GET', `/rooms/${roomId}/sources`],
  ['POST', `/rooms/${roomId}/status`, status()],
  ['GET', `/rooms/${roomId}/cuts?after=-1`],
  ['POST', '/recordings', { roomId, producerId, ip: '127.0.0.1', rtpPort: 50_000, rtcpPort: 50_001 }],
  ['GET', '/recordings'],
];

/** What a refused call must not have changed. */
async function snapshot() {
  return {
    transports: (await room.router.dump()).transportIds.length,
    recordings: node.recordings.list().length,
    status: node.desks.get(ROOM)?.status ?? null,
    plan: JSON.stringify(node.desks.get(ROOM)?.plan),
  };
}

test('refuses, on every route, no token, the old shared secret, forged, expired, wrong-role and widened tokens; nothing changes', async () => {
  const before = await snapshot();
  const { token: camera } = await node.auth.issuer.issue({ room: ROOM, role: 'camera', ttlSeconds: 600 });
  const { token: director } = await node.auth.issuer.issue({ room: ROOM, role: 'director', ttlSeconds: 600 });
  const { token: nodeToken } = await node.auth.issuer.issue({ room: '*', role: 'node', ttlSeconds: 600 });
  const cases: [string, string | undefined, number, RegExp][] = [
    ['no token', undefined, 401, /^a recorder token is required$/],
    ['the old shared node secret', OLD_NODE_SECRET, 401, /recorder token refused: not a valid token/],
    [
      'forged (signed with another secret)',
      signClaims('f'.repeat(40), claimsOf('recorder', ROOM, grantsOf.recorder)),
      401,
      /recorder token refused: token signature is not valid/,
    ],
    [
      'expired',
      await expiredToken(TEST_TOKEN_SECRET, 'recorder', ROOM),
      401,
      /recorder token refused: token expired/,
    ],
    ['a camera token', camera, 403, /a camera token cannot be used here \(a recorder token is needed\)/],
    ['a director token', director, 403, /a director token cannot be used here/],
    ['a node token', nodeToken, 403, /a node token cannot be used here/],
    [
      'recorder grants widened with admin',
      signClaims(TEST_TOKEN_SECRET, claimsOf('recorder', ROOM, [...grantsOf.recorder, 'admin'])),
      401,
      /token grants \[.*admin\] are not those of a recorder \[sources:read, record, status:report, cuts:read\]: refused/,
    ],
    [
      'a camera token carrying the recorder grants',
      signClaims(TEST_TOKEN_SECRET, claimsOf('camera', ROOM, grantsOf.recorder)),
      401,
      /are not those of a camera \[publish, subscribe\]/,
    ],
    [
      'a recorder token without its grants claim',
      (() => {
        const { grants: _, ...claims } = claimsOf('recorder', ROOM, []);
        return signClaims(TEST_TOKEN_SECRET, claims);
      })(),
      401,
      /unexpected or missing claims/,
    ],
    [
      'a viewer token for every room',
      signClaims(TEST_TOKEN_SECRET, claimsOf('viewer', '*', grantsOf.viewer)),
      401,
      /a viewer token cannot be for every room/,
    ],
  ];
  for (const [what, token, expectedStatus, expectedError] of cases) {
    for (const [method, path, body] of everyRoute(ROOM, cam.producer.id)) {
      const answer = await api(token, method, path, body);
      assert.equal(
        answer.status,
        expectedStatus,
        `${what}: ${method} ${path} → ${answer.status} ${answer.error}`,
      );
      assert.match(answer.error, expectedError, `${what}: ${method} ${path}`);
    }
  }
  assert.deepEqual(await snapshot(), before);
});

test("a recorder token for another room cannot read, record, report or see that room's recordings", async () => {
  const mine = await recorderToken(ROOM);
  const theirs = await recorderToken(OTHER);
  // A recording of ROOM, made with ROOM's token.
  const started = await api(mine, 'POST', '/recordings', {
    roomId: ROOM,
    producerId: cam.producer.id,
    ip: '127.0.0.1',
    rtpPort: 50_010,
    rtcpPort: 50_011,
  });
  assert.equal(started.status, 201, started.error);
  const recordingId = String(started.json.recordingId);
  try {
    const before = await snapshot();
    for (const [method, path, body] of everyRoute(ROOM, cam.producer.id).slice(0, 4)) {
      const answer = await api(theirs, method, path, body);
      assert.equal(answer.status, 403, `${method} ${path} → ${answer.status} ${answer.error}`);
      assert.match(answer.error, /this recorder token is for room "rec-auth-other", not "rec-auth"/);
    }
    // Another room's recording is as unknown as a made-up id: no hint that it exists.
    for (const [method, path] of [
      ['GET', `/recordings/${recordingId}`],
      ['POST', `/recordings/${recordingId}/resume`],
      ['POST', `/recordings/${recordingId}/keyframe`],
      ['DELETE', `/recordings/${recordingId}`],
    ] as const) {
      const answer = await api(theirs, method, path);
      assert.equal(answer.status, 404, `${method} ${path} → ${answer.status} ${answer.error}`);
      assert.match(answer.error, /recording ".*" not found/);
    }
    assert.deepEqual((await api(theirs, 'GET', '/recordings')).json.recordings, []);
    assert.deepEqual(await snapshot(), before);
    const paused = node.recordings.get(recordingId).paused;
    assert.equal(paused, true, 'the refused resume did not resume it');
    // Its own room's token, and a token for every room, see it.
    const listed = (await api(mine, 'GET', '/recordings')).json.recordings as { recordingId: string }[];
    assert.deepEqual(
      listed.map((r) => r.recordingId),
      [recordingId],
    );
    const anyRoom = await recorderToken('*');
    assert.equal((await api(anyRoom, 'GET', `/recordings/${recordingId}`)).status, 200);
    assert.equal((await api(anyRoom, 'GET', `/rooms/${OTHER}/sources`)).status, 200);
    assert.equal((await api(mine, 'POST', `/rooms/${ROOM}/status`, status())).status, 204);
  } finally {
    assert.equal((await api(mine, 'DELETE', `/recordings/${recordingId}`)).status, 204);
  }
});

test('a recorder or node token does not join a room as a peer (signaling)', async () => {
  const peersBefore = room.peerCount;
  for (const role of ['recorder', 'node'] as const) {
    const { token } = await node.auth.issuer.issue({ room: ROOM, role, ttlSeconds: 600 });
    const socket = await connect(node);
    try {
      const result = await request(socket, 'room:join', {
        roomId: ROOM,
        token,
        displayName: role,
        clientId: `client-${role}`,
      });
      assert.equal(result.ok, false);
      assert.equal(!result.ok && result.error.code, ErrorCode.Unauthorized);
      assert.match(
        !result.ok ? result.error.message : '',
        new RegExp(`a ${role} token is for a service, not for joining a room`),
      );
    } finally {
      socket.close();
    }
  }
  assert.equal(room.peerCount, peersBefore);
});
