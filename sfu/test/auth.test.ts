import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TokenIssuer } from '@microstudio/auth';
import { ErrorCode } from '@microstudio/protocol';
import { SignJWT } from 'jose';
import type { MediaNode } from '../src/node.ts';
import {
  connect,
  joinAs,
  must,
  publishCamera,
  rawRequest,
  request,
  startTestNode,
  TEST_ADMIN_SECRET,
  TEST_TOKEN_SECRET,
  tokenFor,
} from './helpers.ts';

let node: MediaNode;
const sockets: { close(): void }[] = [];
let rooms = 0;
const freshRoom = () => `auth-${++rooms}`;

before(async () => {
  node = await startTestNode();
});
after(async () => {
  for (const s of sockets) s.close();
  await node.close();
});

async function joinWith(
  roomId: string,
  token: string,
  clientId = `c-${Math.random().toString(36).slice(2)}`,
) {
  const socket = await connect(node);
  sockets.push(socket);
  const result = await request(socket, 'room:join', { roomId, token, displayName: clientId, clientId });
  return { socket, result };
}

/**
 * A refused join must not open the room nor add a peer to it. `peersBefore` undefined: the room
 * did not exist before, and must still not exist (a refused join opened nothing).
 */
function assertRefusedWithoutTrace(
  result: Awaited<ReturnType<typeof joinWith>>['result'],
  roomId: string,
  peersBefore?: number,
) {
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.error.code, ErrorCode.Unauthorized);
  const room = node.registry.get(roomId);
  if (peersBefore === undefined) assert.equal(room, undefined, `room ${roomId} was opened by a refused join`);
  else assert.equal(room?.peerCount, peersBefore);
}

describe('room:join checks the token', () => {
  test('the role comes from the token, not the client', async () => {
    const roomId = freshRoom();
    const { result } = await joinWith(roomId, await tokenFor(node, roomId, 'viewer'));
    assert.ok(result.ok);
    assert.equal(result.ok && result.data.role, 'viewer');
  });

  test('a forged token (signed with another secret) is refused and opens no room', async () => {
    const roomId = freshRoom();
    const { token } = await new TokenIssuer('x'.repeat(40)).issue({
      room: roomId,
      role: 'director',
      ttlSeconds: 60,
    });
    assertRefusedWithoutTrace((await joinWith(roomId, token)).result, roomId);
    assert.equal(node.registry.get(roomId), undefined);
  });

  test('an expired token is refused', async () => {
    const roomId = freshRoom();
    const past = new TokenIssuer(TEST_TOKEN_SECRET, () => Date.now() - 3600_000);
    const { token } = await past.issue({ room: roomId, role: 'camera', ttlSeconds: 60 });
    assertRefusedWithoutTrace((await joinWith(roomId, token)).result, roomId);
  });

  test('a token for room A opens nothing in room B', async () => {
    const roomA = freshRoom();
    const roomB = freshRoom();
    const { result } = await joinWith(roomB, await tokenFor(node, roomA, 'director'));
    assertRefusedWithoutTrace(result, roomB);
    assert.equal(node.registry.get(roomB), undefined);
  });

  test('a correctly signed token with extra claims is refused', async () => {
    const roomId = freshRoom();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      iss: 'microstudio',
      aud: 'microstudio-node',
      iat: now,
      exp: now + 60,
      jti: 'extra',
      room: roomId,
      role: 'viewer',
      grants: ['admin'],
    })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(TEST_TOKEN_SECRET));
    assertRefusedWithoutTrace((await joinWith(roomId, token)).result, roomId);
  });
});

describe('auth:director', () => {
  test('a wrong admin secret is refused; the right one gives a director token that joins as director', async () => {
    const roomId = freshRoom();
    const socket = await connect(node);
    sockets.push(socket);
    const wrong = await request(socket, 'auth:director', { roomId, adminSecret: `${TEST_ADMIN_SECRET}x` });
    assert.equal(!wrong.ok && wrong.error.code, ErrorCode.Unauthorized);
    const right = await must(socket, 'auth:director', { roomId, adminSecret: TEST_ADMIN_SECRET });
    assert.ok(right.expiresAt > Date.now());
    const joined = await must(socket, 'room:join', {
      roomId,
      token: right.token,
      displayName: 'D',
      clientId: 'dir',
    });
    assert.equal(joined.role, 'director');
  });
});

describe('invites', () => {
  test('a director creates, lists and revokes invites; a revoked invite no longer opens the room', async () => {
    const roomId = freshRoom();
    const director = await joinAs(node, roomId, 'director', 'dir');
    sockets.push(director.socket);
    const invite = await must(director.socket, 'invite:create', {
      role: 'camera',
      ttlSeconds: 3600,
      label: 'Cam 2',
    });
    assert.equal(invite.role, 'camera');
    const listed = await must(director.socket, 'invite:list', {});
    assert.deepEqual(
      listed.invites.map((i) => [i.inviteId, i.label, i.revoked, i.used]),
      [[invite.inviteId, 'Cam 2', false, 0]],
    );
    const first = await joinWith(roomId, invite.token, 'cam-2');
    assert.ok(first.result.ok);
    const letGo = new Promise<void>((resolve) => first.socket.once('disconnect', () => resolve()));
    await must(director.socket, 'invite:revoke', { inviteId: invite.inviteId });
    await letGo; // the device that joined with it is let go
    const again = await joinWith(roomId, invite.token, 'cam-3');
    assertRefusedWithoutTrace(again.result, roomId, 1);
    const after = await must(director.socket, 'invite:list', {});
    assert.equal(after.invites[0]?.revoked, true);
    assert.equal(after.invites[0]?.used, 1);
  });

  test('an invite with a use count admits that many devices; a counted device may reconnect', async () => {
    const roomId = freshRoom();
    const director = await joinAs(node, roomId, 'director', 'dir');
    sockets.push(director.socket);
    const invite = await must(director.socket, 'invite:create', {
      role: 'camera',
      ttlSeconds: 3600,
      uses: 1,
    });
    const first = await joinWith(roomId, invite.token, 'phone-1');
    assert.ok(first.result.ok);
    assertRefusedWithoutTrace((await joinWith(roomId, invite.token, 'phone-2')).result, roomId, 2);
    first.socket.close();
    const back = await joinWith(roomId, invite.token, 'phone-1');
    assert.ok(back.result.ok, 'the same device reconnecting is not a new use');
  });

  test('revoking an unknown invite is NOT_FOUND and changes nothing', async () => {
    const roomId = freshRoom();
    const director = await joinAs(node, roomId, 'director', 'dir');
    sockets.push(director.socket);
    await must(director.socket, 'invite:create', { role: 'viewer', ttlSeconds: 600 });
    const before = await must(director.socket, 'invite:list', {});
    const result = await request(director.socket, 'invite:revoke', { inviteId: 'no-such-invite' });
    assert.equal(!result.ok && result.error.code, ErrorCode.NotFound);
    assert.deepEqual(await must(director.socket, 'invite:list', {}), before);
  });

  test('only a director manages invites: camera and viewer get FORBIDDEN and nothing is created', async () => {
    const roomId = freshRoom();
    const director = await joinAs(node, roomId, 'director', 'dir');
    const camera = await publishCamera(node, roomId, 'cam');
    const viewer = await joinAs(node, roomId, 'viewer', 'viewer');
    sockets.push(director.socket, camera.socket, viewer.socket);
    for (const peer of [camera, viewer]) {
      const created = await request(peer.socket, 'invite:create', { role: 'director', ttlSeconds: 600 });
      assert.equal(!created.ok && created.error.code, ErrorCode.Forbidden);
      const listed = await request(peer.socket, 'invite:list', {});
      assert.equal(!listed.ok && listed.error.code, ErrorCode.Forbidden);
    }
    assert.deepEqual((await must(director.socket, 'invite:list', {})).invites, []);
  });
});

describe('configured limits (MICROSTUDIO_MAX_*) are the ones the node enforces', () => {
  let small: MediaNode;
  const smallSockets: { close(): void }[] = [];
  before(async () => {
    small = await startTestNode({
      MICROSTUDIO_MAX_INVITE_USES: '3',
      MICROSTUDIO_MAX_MESSAGE_BYTES: String(64 * 1024),
      MICROSTUDIO_MAX_GUESTS_PER_ROOM: '1',
      MICROSTUDIO_MAX_SOURCES_PER_ROOM: '1',
    });
  });
  after(async () => {
    for (const s of smallSockets) s.close();
    await small.close();
  });
  const join = async (roomId: string, role: 'camera' | 'director' | 'guest', clientId: string) => {
    const socket = await connect(small);
    smallSockets.push(socket);
    const token = await tokenFor(small, roomId, role);
    return {
      socket,
      result: await request(socket, 'room:join', { roomId, token, displayName: clientId, clientId }),
    };
  };
  const limitOf = (result: { ok: boolean; error?: { code: string; message: string } }) =>
    result.ok ? 'accepted' : `${result.error?.code}: ${result.error?.message}`;

  test('an invite above MICROSTUDIO_MAX_INVITE_USES is LIMIT_REACHED and not created; at the limit it is', async () => {
    const { socket, result } = await join('limits-invites', 'director', 'dir');
    assert.ok(result.ok);
    const over = await request(socket, 'invite:create', { role: 'guest', ttlSeconds: 600, uses: 4 });
    assert.equal(limitOf(over), 'LIMIT_REACHED: invite uses limit reached (3)');
    assert.deepEqual((await must(socket, 'invite:list', {})).invites, []);
    const at = await must(socket, 'invite:create', { role: 'guest', ttlSeconds: 600, uses: 3 });
    assert.equal(at.uses, 3);
  });

  test('a message above MICROSTUDIO_MAX_MESSAGE_BYTES is MESSAGE_TOO_LARGE; below it is read', async () => {
    const { socket, result } = await join('limits-bytes', 'director', 'dir');
    assert.ok(result.ok);
    const label = (bytes: number) => ({ role: 'viewer', ttlSeconds: 600, padding: 'x'.repeat(bytes) });
    const big = await rawRequest(socket, 'invite:create', label(64 * 1024));
    assert.equal(!big.ok && big.error.code, ErrorCode.MessageTooLarge);
    assert.match(!big.ok ? big.error.message : '', /65536-byte limit/);
    // 60 KiB is under the configured 64 KiB: read (the schema strips the padding).
    assert.ok((await rawRequest(socket, 'invite:create', label(60 * 1024))).ok);
  });

  test('a second guest and a second source are LIMIT_REACHED at MICROSTUDIO_MAX_*_PER_ROOM = 1', async () => {
    const roomId = 'limits-room';
    assert.ok((await join(roomId, 'guest', 'guest-1')).result.ok);
    assert.equal(
      limitOf((await join(roomId, 'guest', 'guest-2')).result),
      'LIMIT_REACHED: guests per room limit reached (1)',
    );
    assert.ok((await join(roomId, 'camera', 'cam-1')).result.ok);
    assert.equal(
      limitOf((await join(roomId, 'camera', 'cam-2')).result),
      'LIMIT_REACHED: sources per room limit reached (1)',
    );
    assert.equal(small.registry.get(roomId)?.peerCount, 2);
  });
});
