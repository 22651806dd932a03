import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, type Guest, type GuestStatus, type RoomSnapshot } from '@microstudio/protocol';
import type { MediaNode } from '../src/node.ts';
import {
  type Client,
  connect,
  deviceCapabilities,
  dtlsParameters,
  joinAs,
  must,
  nextEvent,
  opusParameters,
  publishCamera,
  request,
  startTestNode,
  tokenFor,
  vp8SimulcastParameters,
} from './helpers.ts';

let node: MediaNode;
const sockets: Client[] = [];
let roomCounter = 0;
const freshRoom = (): string => `guests-${++roomCounter}`;

function track<T extends { socket: Client }>(value: T): T {
  sockets.push(value.socket);
  return value;
}

before(async () => {
  node = await startTestNode();
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

function guestsOf(roomId: string): Guest[] {
  const room = node.registry.get(roomId);
  assert.ok(room, `room ${roomId} exists`);
  return room.guests();
}

/** A director and a guest (joined with a director-made guest invite), both tracked. */
async function setup(options: { uses?: number; name?: string } = {}) {
  const roomId = freshRoom();
  const director = track(await joinAs(node, roomId, 'director', `dir-${roomId}`));
  const invite = await must(director.socket, 'invite:create', {
    role: 'guest',
    ttlSeconds: 600,
    ...(options.uses ? { uses: options.uses } : {}),
    label: 'Guest',
  });
  const guestId = `guest-${roomId}`;
  const guest = await joinGuest(roomId, invite.token, guestId, options.name ?? 'Ana');
  return { roomId, director, invite, guestId, guest };
}

async function joinGuest(roomId: string, token: string, clientId: string, displayName: string) {
  const socket = await connect(node);
  sockets.push(socket);
  const status = nextEvent(socket, 'guest:status');
  const data = await must(socket, 'room:join', { roomId, token, displayName, clientId });
  return { socket, data, caps: deviceCapabilities(data.routerRtpCapabilities), status: await status };
}

/** The guest's send transport and a camera + mic producer (it must be admitted). */
async function publishGuest(socket: Client) {
  const transport = await must(socket, 'transport:create', { direction: 'send' });
  await must(socket, 'transport:connect', { transportId: transport.id, dtlsParameters });
  const video = await must(socket, 'producer:create', {
    transportId: transport.id,
    kind: 'video',
    rtpParameters: vp8SimulcastParameters(),
    purpose: 'camera',
  });
  const audio = await must(socket, 'producer:create', {
    transportId: transport.id,
    kind: 'audio',
    rtpParameters: opusParameters(),
    purpose: 'mic',
  });
  return { transportId: transport.id, videoProducerId: video.producerId, audioProducerId: audio.producerId };
}

const disconnected = (socket: Client) =>
  new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));

describe('guest invites', () => {
  test('the director makes guest invites with expiry and use count; they are listed', async () => {
    const { director, invite } = await setup({ uses: 1 });
    assert.equal(invite.role, 'guest');
    assert.equal(invite.uses, 1);
    assert.ok(invite.expiresAt > Date.now() + 500_000 && invite.expiresAt <= Date.now() + 600_000);
    const { invites } = await must(director.socket, 'invite:list', {});
    const listed = invites.find((i) => i.inviteId === invite.inviteId);
    assert.equal(listed?.role, 'guest');
    assert.equal(listed?.used, 1);
  });

  test('a camera or a guest cannot make invites (FORBIDDEN)', async () => {
    const { roomId, guest } = await setup();
    const camera = track(await joinAs(node, roomId, 'camera', 'cam-inv'));
    for (const socket of [camera.socket, guest.socket]) {
      const result = await request(socket, 'invite:create', { role: 'guest', ttlSeconds: 600 });
      assert.equal(result.ok ? 'ok' : result.error.code, ErrorCode.Forbidden);
    }
  });
});

describe('green room', () => {
  test('a guest joins waiting: not a source, listed for the director, told it waits', async () => {
    const roomId = freshRoom();
    const director = track(await joinAs(node, roomId, 'director', 'dir-w'));
    const listed = nextEvent(director.socket, 'guests:state', (l) => l.guests.length === 1);
    const invite = await must(director.socket, 'invite:create', { role: 'guest', ttlSeconds: 600 });
    const guest = await joinGuest(roomId, invite.token, 'g-w', 'Ana');
    assert.equal(guest.data.role, 'guest');
    assert.deepEqual(guest.status, { state: 'waiting', muted: false } satisfies GuestStatus);
    assert.deepEqual((await listed).guests, [
      { guestId: 'g-w', displayName: 'Ana', state: 'waiting', muted: false },
    ]);
    assert.deepEqual(guest.data.room.sources, []);
    assert.deepEqual(snapshotOf(roomId).sources, []);
    assert.deepEqual((await must(director.socket, 'guest:list', {})).guests, guestsOf(roomId));
    // A director joining later is told at once.
    const late = await connect(node);
    sockets.push(late);
    const lateList = nextEvent(late, 'guests:state');
    const token = await tokenFor(node, roomId, 'director');
    await must(late, 'room:join', { roomId, token, displayName: 'Dir 2', clientId: 'dir-late' });
    assert.equal((await lateList).guests.length, 1);
  });

  test('a waiting guest cannot publish (NOT_ADMITTED) and nothing changes', async () => {
    const { roomId, guest } = await setup();
    const before = { sources: snapshotOf(roomId).sources, guests: guestsOf(roomId) };
    const send = await request(guest.socket, 'transport:create', { direction: 'send' });
    assert.equal(send.ok ? 'ok' : send.error.code, ErrorCode.NotAdmitted);
    const produce = await request(guest.socket, 'producer:create', {
      transportId: 'nope',
      kind: 'audio',
      rtpParameters: opusParameters(),
      purpose: 'mic',
    });
    assert.equal(produce.ok ? 'ok' : produce.error.code, ErrorCode.NotAdmitted);
    for (const name of ['producer:pause', 'producer:resume', 'producer:close'] as const) {
      const result = await request(guest.socket, name, { producerId: 'p' });
      assert.equal(result.ok ? 'ok' : result.error.code, ErrorCode.NotAdmitted, name);
    }
    assert.deepEqual({ sources: snapshotOf(roomId).sources, guests: guestsOf(roomId) }, before);
    assert.equal(
      node.registry
        .get(roomId)
        ?.peers()
        .find((p) => p.role === 'guest')?.transports.size,
      0,
    );
  });

  test('a guest never cuts or admits (FORBIDDEN), waiting or admitted; the bus does not move', async () => {
    const { roomId, director, guest, guestId } = await setup();
    const cam = track(await publishCamera(node, roomId, 'cam-f'));
    await must(director.socket, 'program:preview', { sourceId: 'cam-f' });
    const bus = snapshotOf(roomId).program;
    for (const admitted of [false, true]) {
      if (admitted) await must(director.socket, 'guest:admit', { guestId });
      for (const [name, payload] of [
        ['program:cut', {}],
        ['program:preview', { sourceId: 'cam-f' }],
        ['program:auto', {}],
        ['guest:admit', { guestId }],
        ['guest:remove', { guestId }],
        ['guest:list', {}],
        ['invite:list', {}],
      ] as const) {
        const result = await request(guest.socket, name, payload as never);
        assert.equal(
          result.ok ? 'ok' : result.error.code,
          ErrorCode.Forbidden,
          `${name} admitted=${admitted}`,
        );
      }
    }
    assert.deepEqual(snapshotOf(roomId).program, bus);
    assert.equal(guestsOf(roomId).length, 1);
    assert.ok(cam);
  });

  test('a waiting guest may consume the program only (NOT_ADMITTED for any other source)', async () => {
    const { roomId, director, guest } = await setup();
    const onAir = track(await publishCamera(node, roomId, 'cam-air'));
    const offAir = track(await publishCamera(node, roomId, 'cam-off'));
    await must(director.socket, 'program:preview', { sourceId: 'cam-air' });
    await must(director.socket, 'program:cut', {});
    const recv = await must(guest.socket, 'transport:create', { direction: 'recv' });
    const consumersBefore = node.registry
      .get(roomId)
      ?.peers()
      .find((p) => p.role === 'guest')?.consumers.size;
    for (const producerId of [offAir.videoProducerId, offAir.audioProducerId]) {
      const refused = await request(guest.socket, 'consumer:create', {
        transportId: recv.id,
        producerId,
        rtpCapabilities: guest.caps,
      });
      assert.equal(refused.ok ? 'ok' : refused.error.code, ErrorCode.NotAdmitted);
    }
    assert.equal(
      node.registry
        .get(roomId)
        ?.peers()
        .find((p) => p.role === 'guest')?.consumers.size,
      consumersBefore,
    );
    for (const producerId of [onAir.videoProducerId, onAir.audioProducerId]) {
      const consumed = await must(guest.socket, 'consumer:create', {
        transportId: recv.id,
        producerId,
        rtpCapabilities: guest.caps,
        spatialLayer: 2,
      });
      assert.equal(consumed.producerId, producerId);
    }
  });
});

describe('green room program feed', () => {
  test('what a waiting guest consumed is closed when its source leaves the air', async () => {
    const { roomId, director, guest } = await setup();
    const first = track(await publishCamera(node, roomId, 'cam-1'));
    track(await publishCamera(node, roomId, 'cam-2'));
    await must(director.socket, 'program:preview', { sourceId: 'cam-1' });
    await must(director.socket, 'program:cut', {});
    const recv = await must(guest.socket, 'transport:create', { direction: 'recv' });
    const consumed = await must(guest.socket, 'consumer:create', {
      transportId: recv.id,
      producerId: first.videoProducerId,
      rtpCapabilities: guest.caps,
    });
    const closed = nextEvent(guest.socket, 'consumer:closed', (c) => c.consumerId === consumed.consumerId);
    await must(director.socket, 'program:preview', { sourceId: 'cam-2' });
    await must(director.socket, 'program:cut', {});
    await closed;
    const peer = node.registry
      .get(roomId)
      ?.peers()
      .find((p) => p.role === 'guest');
    assert.equal(peer?.consumers.size, 0);
  });
});

describe('admit, mute, reject, remove', () => {
  test('an admitted guest publishes, becomes a source and goes on program', async () => {
    const { roomId, director, guest, guestId } = await setup();
    const told = nextEvent(guest.socket, 'guest:status', (s) => s.state === 'admitted');
    const listed = nextEvent(director.socket, 'guests:state', (l) => l.guests[0]?.state === 'admitted');
    await must(director.socket, 'guest:admit', { guestId });
    assert.deepEqual(await told, { state: 'admitted', muted: false });
    assert.equal((await listed).guests[0]?.guestId, guestId);
    const published = await publishGuest(guest.socket);
    const source = snapshotOf(roomId).sources.find((s) => s.sourceId === guestId);
    assert.equal(source?.displayName, 'Ana');
    assert.deepEqual(
      source?.tracks.map((t) => t.producerId).sort(),
      [published.audioProducerId, published.videoProducerId].sort(),
    );
    await must(director.socket, 'program:preview', { sourceId: guestId });
    await must(director.socket, 'program:cut', {});
    assert.equal(snapshotOf(roomId).program.programSourceId, guestId);
    // A viewer watches the guest like any camera.
    const viewer = track(await joinAs(node, roomId, 'viewer', 'v-g'));
    const recv = await must(viewer.socket, 'transport:create', { direction: 'recv' });
    await must(viewer.socket, 'consumer:create', {
      transportId: recv.id,
      producerId: published.videoProducerId,
      rtpCapabilities: viewer.caps,
    });
  });

  test('admit refusals: unknown guest NOT_FOUND, twice BAD_REQUEST, camera FORBIDDEN; nothing changes', async () => {
    const { roomId, director, guest, guestId } = await setup();
    const camera = track(await joinAs(node, roomId, 'camera', 'cam-a'));
    const viewer = track(await joinAs(node, roomId, 'viewer', 'view-a'));
    const expectations: [Client, string, string][] = [
      [director.socket, 'nobody', ErrorCode.NotFound],
      // A camera's id is not a guest's.
      [director.socket, 'cam-a', ErrorCode.NotFound],
      [camera.socket, guestId, ErrorCode.Forbidden],
      [viewer.socket, guestId, ErrorCode.Forbidden],
    ];
    for (const [socket, target, code] of expectations) {
      for (const name of [
        'guest:admit',
        'guest:reject',
        'guest:mute',
        'guest:unmute',
        'guest:remove',
      ] as const) {
        const result = await request(socket, name, { guestId: target });
        assert.equal(result.ok ? 'ok' : result.error.code, code, `${name} ${target}`);
      }
    }
    assert.deepEqual(guestsOf(roomId), [{ guestId, displayName: 'Ana', state: 'waiting', muted: false }]);
    assert.equal(guest.socket.connected, true);
    const bad = await request(director.socket, 'guest:admit', { guestId: '' } as never);
    assert.equal(bad.ok ? 'ok' : bad.error.code, ErrorCode.BadRequest);
    await must(director.socket, 'guest:admit', { guestId });
    const twice = await request(director.socket, 'guest:admit', { guestId });
    assert.equal(twice.ok ? 'ok' : twice.error.code, ErrorCode.BadRequest);
    const rejectAdmitted = await request(director.socket, 'guest:reject', { guestId });
    assert.equal(rejectAdmitted.ok ? 'ok' : rejectAdmitted.error.code, ErrorCode.BadRequest);
    assert.deepEqual(guestsOf(roomId), [{ guestId, displayName: 'Ana', state: 'admitted', muted: false }]);
    assert.equal(guest.socket.connected, true);
  });

  test('mute pauses the mic on the node and tells the guest; the guest cannot resume it; unmute does', async () => {
    const { roomId, director, guest, guestId } = await setup();
    await must(director.socket, 'guest:admit', { guestId });
    const { audioProducerId, videoProducerId } = await publishGuest(guest.socket);
    const mic = () => snapshotOf(roomId).sources.find((s) => s.sourceId === guestId)?.tracks;
    const muted = nextEvent(guest.socket, 'guest:status', (s) => s.muted);
    await must(director.socket, 'guest:mute', { guestId });
    assert.deepEqual(await muted, { state: 'admitted', muted: true });
    assert.equal(mic()?.find((t) => t.producerId === audioProducerId)?.paused, true);
    assert.equal(mic()?.find((t) => t.producerId === videoProducerId)?.paused, false);
    assert.equal(guestsOf(roomId)[0]?.muted, true);
    const resume = await request(guest.socket, 'producer:resume', { producerId: audioProducerId });
    assert.equal(resume.ok ? 'ok' : resume.error.code, ErrorCode.Forbidden);
    assert.equal(mic()?.find((t) => t.producerId === audioProducerId)?.paused, true);
    // Muting twice is harmless; a mic published while muted starts paused.
    await must(director.socket, 'guest:mute', { guestId });
    await must(guest.socket, 'producer:close', { producerId: audioProducerId });
    const transportId = node.registry
      .get(roomId)
      ?.peers()
      .find((p) => p.clientId === guestId)
      ?.transports.keys()
      .next().value as string;
    const again = await must(guest.socket, 'producer:create', {
      transportId,
      kind: 'audio',
      rtpParameters: opusParameters('2', 22_222_222),
      purpose: 'mic',
    });
    assert.equal(mic()?.find((t) => t.producerId === again.producerId)?.paused, true);
    const unmuted = nextEvent(guest.socket, 'guest:status', (s) => !s.muted);
    await must(director.socket, 'guest:unmute', { guestId });
    assert.deepEqual(await unmuted, { state: 'admitted', muted: false });
    assert.equal(mic()?.find((t) => t.producerId === again.producerId)?.paused, false);
  });

  test('reject tells the guest, disconnects it, and spends its invite (it cannot re-enter)', async () => {
    const { roomId, director, guest, guestId, invite } = await setup({ uses: 1 });
    const told = nextEvent(guest.socket, 'guest:status', (s) => s.state === 'rejected');
    const gone = disconnected(guest.socket);
    await must(director.socket, 'guest:reject', { guestId });
    assert.equal((await told).state, 'rejected');
    assert.equal(await gone, 'io server disconnect');
    assert.deepEqual(guestsOf(roomId), []);
    assert.deepEqual((await must(director.socket, 'guest:list', {})).guests, []);
    // The same device is turned away; another device finds the one-use invite used up.
    for (const clientId of [guestId, 'another-device']) {
      const socket = await connect(node);
      sockets.push(socket);
      const result = await request(socket, 'room:join', {
        roomId,
        token: invite.token,
        displayName: 'Ana again',
        clientId,
      });
      assert.equal(result.ok ? 'ok' : result.error.code, ErrorCode.Unauthorized, clientId);
    }
    assert.deepEqual(guestsOf(roomId), []);
    const listed = (await must(director.socket, 'invite:list', {})).invites.find(
      (i) => i.inviteId === invite.inviteId,
    );
    assert.equal(listed?.used, 1);
  });

  test('remove takes an admitted guest off program and out; a multi-use invite lets other devices in only', async () => {
    const { roomId, director, guest, guestId, invite } = await setup({ uses: 2 });
    await must(director.socket, 'guest:admit', { guestId });
    await publishGuest(guest.socket);
    await must(director.socket, 'program:preview', { sourceId: guestId });
    await must(director.socket, 'program:cut', {});
    const told = nextEvent(guest.socket, 'guest:status', (s) => s.state === 'removed');
    const gone = disconnected(guest.socket);
    const bus = nextEvent(director.socket, 'program:state', (p) => p.programSourceId === null);
    await must(director.socket, 'guest:remove', { guestId });
    assert.equal((await told).state, 'removed');
    await gone;
    await bus;
    assert.equal(
      snapshotOf(roomId).sources.some((s) => s.sourceId === guestId),
      false,
    );
    const again = await connect(node);
    sockets.push(again);
    const refused = await request(again, 'room:join', {
      roomId,
      token: invite.token,
      displayName: 'Ana',
      clientId: guestId,
    });
    assert.equal(refused.ok ? 'ok' : refused.error.code, ErrorCode.Unauthorized);
    // The second use is still there for another device, which waits in the green room again.
    const other = await joinGuest(roomId, invite.token, 'other-device', 'Ben');
    assert.equal(other.status.state, 'waiting');
  });

  test('an admitted guest that reconnects stays admitted (and muted)', async () => {
    const { roomId, director, guest, guestId, invite } = await setup();
    await must(director.socket, 'guest:admit', { guestId });
    await must(director.socket, 'guest:mute', { guestId });
    guest.socket.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(guestsOf(roomId), []);
    const back = await joinGuest(roomId, invite.token, guestId, 'Ana');
    assert.deepEqual(back.status, { state: 'admitted', muted: true });
    await publishGuest(back.socket);
    const mic = snapshotOf(roomId)
      .sources.find((s) => s.sourceId === guestId)
      ?.tracks.find((t) => t.purpose === 'mic');
    assert.equal(mic?.paused, true);
  });
});

describe('mix-minus on the node', () => {
  test('a guest may not consume its own mic or camera (FORBIDDEN, nothing created); another guest’s mic it may', async () => {
    const { roomId, director, invite, guest, guestId } = await setup({ uses: 2 });
    const other = await joinGuest(roomId, invite.token, `other-${roomId}`, 'Ben');
    await must(director.socket, 'guest:admit', { guestId });
    await must(director.socket, 'guest:admit', { guestId: `other-${roomId}` });
    const own = await publishGuest(guest.socket);
    const theirs = await publishGuest(other.socket);
    // On program too: being on air is no reason to hear oneself.
    await must(director.socket, 'program:preview', { sourceId: guestId });
    await must(director.socket, 'program:cut', {});
    const recv = await must(guest.socket, 'transport:create', { direction: 'recv' });
    const room = node.registry.get(roomId);
    assert.ok(room);
    const consumers = () => ({
      guest: room.peers().find((p) => p.clientId === guestId)?.consumers.size,
      room: room.peers().reduce((n, p) => n + p.consumers.size, 0),
    });
    const before = consumers();

    const refusals: [string, string][] = [
      [own.audioProducerId, 'a peer does not hear itself (mix-minus)'],
      [own.videoProducerId, 'a peer does not receive its own camera back (it shows its local preview)'],
    ];
    for (const [producerId, message] of refusals) {
      const refused = await request(guest.socket, 'consumer:create', {
        transportId: recv.id,
        producerId,
        rtpCapabilities: guest.caps,
      });
      assert.deepEqual(refused.ok ? 'ok' : refused.error, { code: ErrorCode.Forbidden, message });
    }
    assert.deepEqual(consumers(), before, 'no consumer was created');

    const heard = await must(guest.socket, 'consumer:create', {
      transportId: recv.id,
      producerId: theirs.audioProducerId,
      rtpCapabilities: guest.caps,
    });
    assert.equal(heard.producerId, theirs.audioProducerId);
    assert.equal(heard.kind, 'audio');
    assert.deepEqual(consumers(), { guest: (before.guest ?? 0) + 1, room: before.room + 1 });
  });
});
