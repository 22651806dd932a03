import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '@microstudio/config';
import { ErrorCode } from '@microstudio/protocol';
import { io } from 'socket.io-client';
import type { MediaNode } from '../src/node.ts';
import { allowedOrigins, isAllowedOrigin } from '../src/signaling/origins.ts';
import { connect, joinAs, must, request, startTestNode } from './helpers.ts';

describe('allowedOrigins()', () => {
  test('defaults to the studio on localhost, 127.0.0.1 and the announced address', () => {
    const origins = allowedOrigins(loadConfig({}), '192.0.2.7');
    assert.ok(origins.has('http://localhost:3000'));
    assert.ok(origins.has('https://192.0.2.7:3443'));
    assert.ok(!origins.has('https://evil.example'));
  });
  test('takes a configured list (trailing slashes dropped)', () => {
    const origins = allowedOrigins(
      loadConfig({ MICROSTUDIO_ALLOWED_ORIGINS: 'https://studio.example/, https://b.example' }),
      'x',
    );
    assert.deepEqual([...origins], ['https://studio.example', 'https://b.example']);
  });
  test('a program that sends no Origin is judged by its token alone', () => {
    assert.equal(isAllowedOrigin(undefined, new Set()), true);
    assert.equal(isAllowedOrigin('https://evil.example', new Set(['https://ok.example'])), false);
  });
});

describe('signaling connections', () => {
  let node: MediaNode;
  before(async () => {
    node = await startTestNode();
  });
  after(async () => {
    await node.close();
  });

  const connectFrom = (origin: string) =>
    new Promise<'connected' | 'refused'>((resolve) => {
      const socket = io(node.url, {
        transports: ['polling'],
        forceNew: true,
        reconnection: false,
        extraHeaders: { origin },
      });
      socket.once('connect', () => {
        socket.close();
        resolve('connected');
      });
      socket.once('connect_error', () => {
        socket.close();
        resolve('refused');
      });
    });

  test('a page of another origin is refused; the studio origin connects', async () => {
    const before = node.signaling.connections;
    assert.equal(await connectFrom('https://evil.example'), 'refused');
    assert.equal(node.signaling.connections, before);
    assert.equal(await connectFrom('http://localhost:3000'), 'connected');
  });

  test('revoking an invite disconnects the devices that joined with it, and they cannot re-join', async () => {
    const roomId = 'revoke-live';
    const director = await joinAs(node, roomId, 'director', 'dir');
    const invite = await must(director.socket, 'invite:create', { role: 'camera', ttlSeconds: 600 });
    const camera = await connect(node);
    await must(camera, 'room:join', { roomId, token: invite.token, displayName: 'Cam', clientId: 'cam-x' });
    const kicked = new Promise<void>((resolve) => camera.once('disconnect', () => resolve()));
    await must(director.socket, 'invite:revoke', { inviteId: invite.inviteId });
    await kicked;
    const again = await connect(node);
    const result = await request(again, 'room:join', {
      roomId,
      token: invite.token,
      displayName: 'Cam',
      clientId: 'cam-x',
    });
    assert.equal(!result.ok && result.error.code, ErrorCode.Unauthorized);
    assert.equal(node.registry.get(roomId)?.peerCount, 1, 'only the director is left');
    for (const s of [director.socket, camera, again]) s.close();
  });
});
