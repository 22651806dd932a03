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
});
