import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../src/log.ts';
import { RoomRegistry } from '../src/rooms/RoomRegistry.ts';
import { WorkerPool } from '../src/workers/WorkerPool.ts';
import { freeRtcPorts } from './helpers.ts';
import { recordingSink } from './rtp.ts';

const limits = {
  maxPeersPerRoom: 8,
  maxTransportsPerPeer: 4,
  maxProducersPerPeer: 4,
  maxConsumersPerPeer: 8,
};

test("WorkerPool.create() binds worker i's WebRtcServer to rtcPort + i (UDP and TCP) and places rooms least-loaded", async () => {
  const rtcPort = await freeRtcPorts(2);
  const pool = await WorkerPool.create({
    size: 2,
    listenIp: '127.0.0.1',
    announcedAddress: '127.0.0.1',
    rtcPort,
    logger: silentLogger,
  });
  const registry = new RoomRegistry({
    pool,
    limits,
    defaultTransitionMs: 500,
    logger: silentLogger,
    idleCloseMs: 50,
  });
  try {
    assert.deepEqual(pool.portRange, [rtcPort, rtcPort + 1]);
    for (const slot of [0, 1]) {
      const dump = await pool.worker(slot)?.webRtcServer.dump();
      assert.deepEqual(
        dump?.udpSockets.map((s) => s.port),
        [rtcPort + slot],
      );
      assert.deepEqual(
        dump?.tcpServers.map((s) => s.port),
        [rtcPort + slot],
      );
    }
    const rooms = await Promise.all(['r1', 'r2', 'r3', 'r4'].map((id) => registry.open(id)));
    assert.deepEqual(
      pool.info().map((w) => w.rooms),
      [2, 2],
    );
    assert.equal(await registry.open('r1'), rooms[0], 'open() of an existing room returns it');
    assert.equal(typeof pool.info()[0]?.pid, 'number');

    // An empty room closes after idleCloseMs; its router is released.
    const room = rooms[0];
    assert.ok(room);
    const peer = room.join({ role: 'viewer', displayName: 'v', clientId: 'v', sink: recordingSink() });
    room.leave(peer);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(room.closed, true);
    assert.equal(registry.get('r1'), undefined);
    assert.equal(
      pool.info().reduce((n, w) => n + w.rooms, 0),
      3,
    );
  } finally {
    registry.close();
    registry.close();
    pool.close();
    pool.close();
  }
  assert.equal(pool.closed, true);
});

test('room.close() detaches every peer once, closes the router, and is safe to call twice', async () => {
  const pool = await WorkerPool.create({
    size: 1,
    listenIp: '127.0.0.1',
    announcedAddress: '127.0.0.1',
    rtcPort: await freeRtcPorts(1),
    logger: silentLogger,
  });
  const registry = new RoomRegistry({ pool, limits, defaultTransitionMs: 500, logger: silentLogger });
  try {
    const room = await registry.open('closing');
    const sinks = [recordingSink(), recordingSink()];
    room.join({ role: 'camera', displayName: 'c', clientId: 'c', sink: sinks[0] ?? recordingSink() });
    room.join({ role: 'director', displayName: 'd', clientId: 'd', sink: sinks[1] ?? recordingSink() });
    const router = room.router;
    room.close();
    room.close();
    assert.equal(router.closed, true);
    assert.equal(room.bus.closed, true);
    assert.deepEqual(
      sinks.map((s) => s.detachedWith),
      [['closed'], ['closed']],
    );
    assert.equal(registry.get('closing'), undefined);
    assert.throws(
      () => room.join({ role: 'viewer', displayName: 'v', clientId: 'v', sink: recordingSink() }),
      {
        name: 'InvalidStateError',
      },
    );
  } finally {
    registry.close();
    pool.close();
  }
});
