import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode } from '@microstudio/protocol';
import type { MediaNode } from '../src/node.ts';
import {
  dtlsParameters,
  joinAs,
  must,
  opusParameters,
  record,
  request,
  sleep,
  startTestNode,
  tokenFor,
  vp8SimulcastParameters,
} from './helpers.ts';
import { rtpLoop } from './rtp.ts';

let node: MediaNode;

before(async () => {
  node = await startTestNode({ MICROSTUDIO_WORKERS: '2' });
});

after(async () => {
  await node.close();
});

test('SIGKILL of a worker recovers only its rooms: A re-joins in < 3 s, B keeps forwarding RTP without a gap', async () => {
  const roomA = await node.registry.open('room-a', { slot: 0 });
  const roomB = await node.registry.open('room-b', { slot: 1 });
  assert.equal(roomA.workerSlot, 0);
  assert.equal(roomB.workerSlot, 1);
  const deadPid = node.pool.worker(0)?.worker.pid;
  assert.ok(deadPid);
  const port0 = node.pool.worker(0)?.port;

  const loopA = await rtpLoop(roomA, 1111);
  const loopB = await rtpLoop(roomB, 2222);
  const camA = await joinAs(node, 'room-a', 'camera', 'cam-a');
  const dirA = await joinAs(node, 'room-a', 'director', 'dir-a');
  const camB = await joinAs(node, 'room-b', 'camera', 'cam-b');
  const dirB = await joinAs(node, 'room-b', 'director', 'dir-b');
  await must(dirA.socket, 'program:preview', { sourceId: 'cam-a' });
  await must(dirA.socket, 'program:cut', {});
  const seenBcam = record(camB.socket);
  const seenBdir = record(dirB.socket);
  try {
    await sleep(600);
    assert.ok(
      loopA.receiver.arrivals.length > 10,
      `room A forwards RTP (${loopA.receiver.arrivals.length} packets)`,
    );
    assert.ok(
      loopB.receiver.arrivals.length > 10,
      `room B forwards RTP (${loopB.receiver.arrivals.length} packets)`,
    );

    const rejoinA = Promise.all([
      new Promise((resolve) => camA.socket.once('room:rejoin', resolve)),
      new Promise((resolve) => dirA.socket.once('room:rejoin', resolve)),
    ]);
    const replaced = new Promise<number>((resolve) =>
      node.pool.once('replaced', (_slot, pid) => resolve(pid)),
    );
    const killedAt = performance.now();
    process.kill(deadPid, 'SIGKILL');

    await rejoinA;
    // The client's reaction to room:rejoin: join again on the same socket, republish.
    const again = await must(camA.socket, 'room:join', {
      roomId: 'room-a',
      token: await tokenFor(node, 'room-a', 'camera'),
      displayName: 'cam-a',
      clientId: 'cam-a',
    });
    const send = await must(camA.socket, 'transport:create', { direction: 'send' });
    await must(camA.socket, 'transport:connect', { transportId: send.id, dtlsParameters });
    await must(camA.socket, 'producer:create', {
      transportId: send.id,
      kind: 'video',
      rtpParameters: vp8SimulcastParameters(),
      purpose: 'camera',
    });
    await must(camA.socket, 'producer:create', {
      transportId: send.id,
      kind: 'audio',
      rtpParameters: opusParameters(),
      purpose: 'mic',
    });
    const recoveredIn = performance.now() - killedAt;
    assert.ok(recoveredIn < 3000, `room A works again after ${Math.round(recoveredIn)} ms`);

    // Room A kept its identity and program bus; its media moved to the live worker.
    assert.equal(node.registry.get('room-a'), roomA);
    assert.equal(roomA.workerSlot, 1);
    assert.equal(again.room.program.programSourceId, 'cam-a', 'the program bus survived');
    assert.deepEqual(loopA.cameraSink.detachedWith, ['recovering']);
    assert.deepEqual(loopA.viewerSink.detachedWith, ['recovering']);
    const dirAgain = await must(dirA.socket, 'room:join', {
      roomId: 'room-a',
      token: await tokenFor(node, 'room-a', 'director'),
      displayName: 'dir-a',
      clientId: 'dir-a',
    });
    assert.deepEqual(
      dirAgain.room.sources.map((s) => [s.sourceId, s.tracks.length]),
      [['cam-a', 2]],
    );

    // The slot gets a replacement worker on the same port.
    const newPid = await replaced;
    assert.notEqual(newPid, deadPid);
    assert.equal(node.pool.worker(0)?.port, port0);
    const dump = await node.pool.worker(0)?.webRtcServer.dump();
    assert.deepEqual(
      dump?.udpSockets.map((s) => s.port),
      [port0],
    );

    await sleep(500);
    const end = performance.now();
    const gapB = loopB.receiver.maxGap(killedAt - 500, end);
    assert.ok(gapB < 500, `room B's RTP had a ${Math.round(gapB)} ms gap`);
    assert.deepEqual(loopB.cameraSink.detachedWith, []);
    assert.deepEqual(loopB.viewerSink.detachedWith, []);
    assert.equal(roomB.workerSlot, 1);
    assert.equal(roomB.peerCount, 4);
    assert.equal(seenBcam.filter((e) => e.name === 'room:rejoin').length, 0, 'B camera got no room:rejoin');
    assert.equal(seenBdir.filter((e) => e.name === 'room:rejoin').length, 0, 'B director got no room:rejoin');

    const health = (await (await fetch(`${node.url}/healthz`)).json()) as {
      status: string;
      workers: { pid: number }[];
    };
    assert.equal(health.status, 'ok');
    assert.deepEqual(
      health.workers.map((w) => w.pid),
      [newPid, node.pool.worker(1)?.worker.pid],
    );
  } finally {
    loopA.close();
    loopB.close();
    for (const s of [camA.socket, dirA.socket, camB.socket, dirB.socket]) s.close();
  }
});

test('with a single worker, requests during recovery get ROOM_RECOVERING and a re-join waits for the new worker', async () => {
  const single = await startTestNode({ MICROSTUDIO_WORKERS: '1' });
  const cam = await joinAs(single, 'room-c', 'camera', 'cam-c');
  try {
    const room = single.registry.get('room-c');
    const pid = single.pool.worker(0)?.worker.pid;
    assert.ok(room && pid);
    const rejoin = new Promise((resolve) => cam.socket.once('room:rejoin', resolve));
    process.kill(pid, 'SIGKILL');
    await rejoin;
    assert.equal(room.recovering, true, 'the room waits for the replacement worker');
    const during = await request(cam.socket, 'transport:create', { direction: 'send' });
    assert.equal(!during.ok && during.error.code, ErrorCode.RoomRecovering);
    const token = await tokenFor(single, 'room-c', 'camera');
    const startedAt = performance.now();
    const again = await must(cam.socket, 'room:join', {
      roomId: 'room-c',
      token,
      displayName: 'c',
      clientId: 'cam-c',
    });
    assert.ok(performance.now() - startedAt < 3000);
    assert.equal(again.room.roomId, 'room-c');
    assert.equal(room.recovering, false);
    assert.notEqual(single.pool.worker(0)?.worker.pid, pid);
    await must(cam.socket, 'transport:create', { direction: 'send' });
    await must(cam.socket, 'room:leave', {});
    const after = await request(cam.socket, 'transport:create', { direction: 'send' });
    assert.equal(
      !after.ok && after.error.code,
      ErrorCode.NotJoined,
      'after recovery a detached peer is just not joined',
    );
  } finally {
    cam.socket.close();
    await single.close();
  }
});
