import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '@microstudio/config';
import { iceServersFor, turnCredentials, turnSettings } from '../src/auth/turn.ts';
import type { MediaNode } from '../src/node.ts';
import { connect, must, startTestNode, tokenFor } from './helpers.ts';

const SECRET = 'north-hall-turn-secret-0123';
const NOW = 1_700_000_000_000; // 2023-11-14T22:13:20Z

describe('turnCredentials (REST shared-secret scheme)', () => {
  test('the password is base64(HMAC-SHA1(secret, username)), matching an independent computation', () => {
    const { username, credential, expiresAt } = turnCredentials({
      secret: SECRET,
      ttlSeconds: 3600,
      user: 'cam-1',
      now: NOW,
    });
    assert.equal(username, '1700003600:cam-1');
    assert.equal(expiresAt, 1_700_003_600);
    // Computed with node:crypto here, and pinned from Python's hmac/hashlib (independent of turn.ts).
    const expected = createHmac('sha1', SECRET).update('1700003600:cam-1').digest('base64');
    assert.equal(credential, expected);
    assert.equal(credential, '2sL8TH49emg5MOcC5dJUnUHLWHw=');
  });

  test('the username carries the expiry (now + ttl, unix seconds) and the user', () => {
    const { username } = turnCredentials({
      secret: SECRET,
      ttlSeconds: 90,
      user: 'viewer-7',
      now: NOW + 999,
    });
    const [expiry, user] = username.split(':');
    assert.equal(Number(expiry), Math.floor((NOW + 999) / 1000) + 90);
    assert.equal(user, 'viewer-7');
    // A ':' in the user would confuse the <expiry>:<user> split: it is replaced.
    assert.equal(
      turnCredentials({ secret: SECRET, ttlSeconds: 60, user: 'a:b', now: NOW }).username,
      '1700000060:a_b',
    );
  });

  test('a different secret, user or time gives a different credential (nothing static)', () => {
    const base = turnCredentials({ secret: SECRET, ttlSeconds: 3600, user: 'cam-1', now: NOW }).credential;
    const other = (o: Partial<{ secret: string; user: string; now: number }>) =>
      turnCredentials({ secret: SECRET, ttlSeconds: 3600, user: 'cam-1', now: NOW, ...o }).credential;
    assert.notEqual(other({ secret: `${SECRET}x` }), base);
    assert.notEqual(other({ user: 'cam-2' }), base);
    assert.notEqual(other({ now: NOW + 1000 }), base);
  });
});

describe('TURN settings', () => {
  test('unset URLs: no TURN, no ICE servers', () => {
    assert.equal(turnSettings(undefined, SECRET, 3600), undefined);
    assert.equal(turnSettings(' , ', SECRET, 3600), undefined);
    assert.deepEqual(iceServersFor(undefined, 'cam-1'), []);
  });

  test('URLs are split on commas; a secret is required with them', () => {
    assert.deepEqual(turnSettings('turn:a:3478?transport=udp, turns:a:5349', SECRET, 60)?.urls, [
      'turn:a:3478?transport=udp',
      'turns:a:5349',
    ]);
    assert.throws(() => turnSettings('turn:a:3478', undefined, 60), /MICROSTUDIO_TURN_SECRET/);
  });

  test('config validates the TURN variables', () => {
    const config = loadConfig({
      MICROSTUDIO_TURN_URLS: 'turn:127.0.0.1:3478',
      MICROSTUDIO_TURN_SECRET: SECRET,
    });
    assert.equal(config.MICROSTUDIO_TURN_TTL_SECONDS, 3600);
    assert.throws(() => loadConfig({ MICROSTUDIO_TURN_URLS: 'http://example.com' }), ConfigError);
    assert.throws(() => loadConfig({ MICROSTUDIO_TURN_SECRET: 'short' }), ConfigError);
    assert.throws(() => loadConfig({ MICROSTUDIO_TURN_TTL_SECONDS: '5' }), ConfigError);
  });
});

describe('room:join hands out ICE servers', () => {
  const nodes: MediaNode[] = [];
  const sockets: { close(): void }[] = [];
  after(async () => {
    for (const s of sockets) s.close();
    await Promise.all(nodes.map((n) => n.close()));
  });

  async function join(node: MediaNode, clientId: string) {
    const socket = await connect(node);
    sockets.push(socket);
    const token = await tokenFor(node, 'turn-room', 'viewer');
    return must(socket, 'room:join', { roomId: 'turn-room', token, displayName: clientId, clientId });
  }

  test('with TURN configured, every join gets the URLs and fresh credentials for its clientId', async () => {
    const node = await startTestNode({
      MICROSTUDIO_TURN_URLS: 'turn:127.0.0.1:3478?transport=udp,turn:127.0.0.1:3478?transport=tcp',
      MICROSTUDIO_TURN_SECRET: SECRET,
      MICROSTUDIO_TURN_TTL_SECONDS: '600',
    });
    nodes.push(node);
    const before = Math.floor(Date.now() / 1000);
    const first = await join(node, 'viewer-a');
    const second = await join(node, 'viewer-b');
    for (const [joined, user] of [
      [first, 'viewer-a'],
      [second, 'viewer-b'],
    ] as const) {
      assert.equal(joined.iceServers.length, 1);
      const [server] = joined.iceServers;
      assert.deepEqual(server?.urls, [
        'turn:127.0.0.1:3478?transport=udp',
        'turn:127.0.0.1:3478?transport=tcp',
      ]);
      const [expiry, name] = (server?.username ?? '').split(':');
      assert.equal(name, user);
      assert.ok(Number(expiry) >= before + 600 && Number(expiry) <= before + 602, `expiry ${expiry}`);
      assert.equal(
        server?.credential,
        createHmac('sha1', SECRET)
          .update(server?.username ?? '')
          .digest('base64'),
      );
    }
    assert.notEqual(first.iceServers[0]?.credential, second.iceServers[0]?.credential);
  });

  test('without TURN, iceServers stays empty', async () => {
    const node = await startTestNode();
    nodes.push(node);
    assert.deepEqual((await join(node, 'viewer-c')).iceServers, []);
  });

  test('TURN URLs without a secret: the node refuses to start', async () => {
    await assert.rejects(
      startTestNode({ MICROSTUDIO_TURN_URLS: 'turn:127.0.0.1:3478' }),
      /MICROSTUDIO_TURN_SECRET/,
    );
  });
});
