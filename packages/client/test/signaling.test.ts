import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Server, type Socket } from 'socket.io';
import { SignalingClient } from '../src/signaling.ts';

// A real socket.io server standing in for the node's wire (what it sends is the test's script).
let io: Server;
let url: string;
let onConnection: (socket: Socket) => void = () => {};

before(async () => {
  const http = createServer();
  io = new Server(http);
  io.on('connection', (socket) => onConnection(socket));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

after(async () => {
  await io.close();
});

async function connected(script: (socket: Socket) => void): Promise<SignalingClient> {
  onConnection = script;
  const client = new SignalingClient({ url, requestTimeoutMs: 2000 });
  await client.connect();
  return client;
}

describe('SignalingClient', () => {
  it('delivers notifications and answers validated, in the order they came', async () => {
    const seen: string[] = [];
    const client = await connected((socket) => {
      socket.on('invite:revoke', (_payload: unknown, ack: (result: unknown) => void) => {
        socket.emit('room:rejoin', { reason: 'first' });
        ack({ ok: true, data: {} });
        socket.emit('room:rejoin', { reason: 'after the answer' });
      });
    });
    client.on('room:rejoin', ({ reason }) => seen.push(`notification ${reason}`));
    const result = await client.request('invite:revoke', { inviteId: 'abc' });
    seen.push(`answer ${result.ok}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(seen, ['notification first', 'answer true', 'notification after the answer']);
    client.close();
  });

  it('drops an invalid or unknown notification and keeps delivering the valid ones after it', async () => {
    const seen: string[] = [];
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (message: unknown) => warnings.push(String(message));
    try {
      const client = await connected((socket) => {
        socket.on('invite:revoke', (_payload: unknown, ack: (result: unknown) => void) => {
          socket.emit('room:rejoin', { reason: 42 });
          socket.emit('made:up', { reason: 'x' });
          socket.emit('room:rejoin', { reason: 'valid' });
          ack({ ok: true, data: {} });
        });
      });
      client.on('room:rejoin', ({ reason }) => seen.push(reason));
      await client.request('invite:revoke', { inviteId: 'abc' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(seen, ['valid']);
      assert.ok(
        warnings.some((w) => w.includes('invalid "room:rejoin"')),
        warnings.join('\n'),
      );
      assert.ok(
        warnings.some((w) => w.includes('unknown "made:up"')),
        warnings.join('\n'),
      );
      client.close();
    } finally {
      console.warn = warn;
    }
  });

  it('turns an answer that does not match its schema into an INTERNAL error, and silence into TIMEOUT', async () => {
    const client = await connected((socket) => {
      socket.on('invite:revoke', (_payload: unknown, ack: (result: unknown) => void) => ack({ ok: 'yes' }));
      socket.on('room:leave', () => {});
    });
    const invalid = await client.request('invite:revoke', { inviteId: 'abc' });
    assert.deepEqual(invalid, {
      ok: false,
      error: { code: 'INTERNAL', message: 'invalid answer to invite:revoke' },
    });
    const silent = await client.request('room:leave', {});
    assert.equal(silent.ok, false);
    assert.equal(!silent.ok && silent.error.code, 'TIMEOUT');
    client.close();
  });

  describe('connectAndJoin (the join in the handshake)', () => {
    const join = { roomId: 'main', token: 't'.repeat(20), displayName: 'Viewer', clientId: 'viewer-1' };
    const joinedAnswer = {
      ok: true,
      data: {
        peerId: 'peer-1',
        role: 'viewer',
        routerRtpCapabilities: { codecs: [], headerExtensions: [] },
        iceServers: [],
        room: {
          roomId: 'main',
          sources: [],
          program: { programSourceId: null, previewSourceId: null, transition: null, revision: 0 },
        },
      },
    };

    it('sends the join in the handshake only, and resolves with room:joined after what came before it', async () => {
      const auths: unknown[] = [];
      onConnection = (socket) => {
        auths.push(socket.handshake.auth);
        if (socket.handshake.auth.join) {
          socket.emit('room:rejoin', { reason: 'before the answer' });
          socket.emit('room:joined', joinedAnswer);
        }
      };
      const client = new SignalingClient({ url, requestTimeoutMs: 2000 });
      const seen: string[] = [];
      client.on('room:rejoin', ({ reason }) => seen.push(reason));
      const result = await client.connectAndJoin(join);
      seen.push('answer');
      assert.deepEqual(result, joinedAnswer);
      assert.deepEqual(seen, ['before the answer', 'answer']);
      assert.deepEqual(auths, [{ join }]);
      // A later connection (a reconnect) carries no join: the session decides what to send.
      client.disconnect();
      await client.connect();
      assert.deepEqual(auths, [{ join }, {}]);
      client.close();
    });

    it('on a live connection, asks with a request instead', async () => {
      const requested: unknown[] = [];
      const client = await connected((socket) => {
        socket.on('room:join', (payload: unknown, ack: (result: unknown) => void) => {
          requested.push(payload);
          ack(joinedAnswer);
        });
      });
      assert.deepEqual(await client.connectAndJoin(join), joinedAnswer);
      assert.deepEqual(requested, [join]);
      client.close();
    });

    it('an invalid answer is dropped and the join times out; a lost connection ends it at once', async () => {
      const warn = console.warn;
      console.warn = () => undefined;
      try {
        onConnection = (socket) => socket.emit('room:joined', { ok: true, data: { peerId: '' } });
        const client = new SignalingClient({ url, requestTimeoutMs: 300 });
        const invalid = await client.connectAndJoin(join);
        assert.equal(!invalid.ok && invalid.error.code, 'TIMEOUT');
        client.close();
      } finally {
        console.warn = warn;
      }
      onConnection = (socket) => setTimeout(() => socket.disconnect(true), 20);
      const client = new SignalingClient({ url, requestTimeoutMs: 5000 });
      const startedAt = Date.now();
      const lost = await client.connectAndJoin(join);
      assert.equal(!lost.ok && lost.error.code, 'TIMEOUT');
      assert.match(!lost.ok ? lost.error.message : '', /connection lost/);
      assert.ok(Date.now() - startedAt < 2000, 'did not wait for the timeout');
      client.close();
    });
  });
});
