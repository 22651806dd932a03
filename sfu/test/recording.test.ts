import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { after, before, test } from 'node:test';
import { TokenIssuer } from '@microstudio/auth';
import { loadConfig } from '@microstudio/config';
import { silentLogger } from '../src/log.ts';
import { type MediaNode, startNode } from '../src/node.ts';
import { freeRtcPorts, sleep, TEST_TOKEN_SECRET } from './helpers.ts';
import { isRtcpFir, isRtcpPli, rtcpPackets, vp8Camera } from './rtp.ts';

/** The recorder's credential: a `recorder` token for every room (these tests use several). */
let TOKEN: string;
let node: MediaNode;

before(async () => {
  const rtcPort = await freeRtcPorts(1);
  const config = loadConfig({
    MICROSTUDIO_SFU_HOST: '127.0.0.1',
    MICROSTUDIO_RTC_LISTEN_IP: '127.0.0.1',
    MICROSTUDIO_ANNOUNCED_IP: '127.0.0.1',
    MICROSTUDIO_RTC_PORT: String(rtcPort),
    MICROSTUDIO_WORKERS: '1',
    MICROSTUDIO_TOKEN_SECRET: TEST_TOKEN_SECRET,
  });
  node = await startNode(config, { logger: silentLogger, port: 0 });
  TOKEN = (await new TokenIssuer(TEST_TOKEN_SECRET).issue({ room: '*', role: 'recorder', ttlSeconds: 600 }))
    .token;
});

after(async () => {
  await node.close();
});

async function api(
  method: string,
  path: string,
  body?: unknown,
  secret: string | null = TOKEN,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${node.url}/internal/recorder/v1${path}`, {
    method,
    headers: {
      ...(secret ? { authorization: `Bearer ${secret}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function bindUdp(): Promise<{ socket: UdpSocket; port: number; packets: Buffer[] }> {
  const socket = createSocket('udp4');
  const packets: Buffer[] = [];
  socket.on('message', (msg) => packets.push(msg));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, packets };
}

test('recorder API refuses a missing or wrong token and bad input, changing nothing', async () => {
  const room = await node.registry.open('rec-bad');
  const cam = await vp8Camera(room, { clientId: 'cam-bad', ssrc: 4242 });
  try {
    assert.equal((await api('GET', '/rooms/rec-bad/sources', undefined, null)).status, 401);
    assert.equal(
      (await api('GET', '/rooms/rec-bad/sources', undefined, 'wrong-secret-0123456789')).status,
      401,
    );
    assert.equal((await api('GET', '/rooms/nope/sources')).status, 404);
    const transportsBefore = (await room.router.dump()).transportIds.length;
    const bad = [
      await api('POST', '/recordings', 'not json'),
      await api('POST', '/recordings', { roomId: 'rec-bad', producerId: cam.producer.id, ip: '127.0.0.1' }),
      await api('POST', '/recordings', {
        roomId: 'rec-bad',
        producerId: cam.producer.id,
        ip: 'localhost',
        rtpPort: 5000,
        rtcpPort: 5001,
      }),
      await api('POST', '/recordings', {
        roomId: 'rec-bad',
        producerId: cam.producer.id,
        ip: '127.0.0.1',
        rtpPort: 70000,
        rtcpPort: 5001,
      }),
    ];
    for (const answer of bad) {
      assert.equal(answer.status, 400, JSON.stringify(answer.json));
      assert.match(String(answer.json.error), /invalid request|not JSON/);
    }
    const unknown = await api('POST', '/recordings', {
      roomId: 'rec-bad',
      producerId: '00000000-0000-4000-8000-000000000000',
      ip: '127.0.0.1',
      rtpPort: 5000,
      rtcpPort: 5001,
    });
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.json.error), /producer/);
    assert.equal((await api('POST', '/recordings/nope/keyframe')).status, 404);
    assert.equal((await api('PUT', '/recordings')).status, 405);
    assert.equal((await room.router.dump()).transportIds.length, transportsBefore);
    assert.deepEqual((await api('GET', '/recordings')).json.recordings, []);
  } finally {
    cam.close();
    room.close();
  }
});

test('records a VP8 producer: sources, start paused, resume with anchor, RTP arrives, keyframe request reaches the camera, stop', async () => {
  const room = await node.registry.open('rec-ok');
  const cam = await vp8Camera(room, { clientId: 'cam-1', ssrc: 4242 });
  const rtp = await bindUdp();
  const rtcp = await bindUdp();
  try {
    const sources = await api('GET', '/rooms/rec-ok/sources');
    assert.equal(sources.status, 200);
    const list = sources.json.sources as {
      sourceId: string;
      tracks: { producerId: string; kind: string }[];
    }[];
    assert.deepEqual(
      list.map((s) => [s.sourceId, s.tracks.map((t) => [t.producerId, t.kind])]),
      [['cam-1', [[cam.producer.id, 'video']]]],
    );

    const started = await api('POST', '/recordings', {
      roomId: 'rec-ok',
      producerId: cam.producer.id,
      ip: '127.0.0.1',
      rtpPort: rtp.port,
      rtcpPort: rtcp.port,
    });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    const id = String(started.json.recordingId);
    const info = started.json as { paused: boolean; sourceId: string; rtp: Record<string, unknown> };
    assert.equal(info.paused, true);
    assert.equal(info.sourceId, 'cam-1');
    assert.equal(info.rtp.mimeType, 'video/VP8');
    assert.equal(info.rtp.clockRate, 90000);
    assert.equal(typeof info.rtp.payloadType, 'number');
    assert.equal(typeof info.rtp.ssrc, 'number');
    await sleep(300);
    assert.equal(rtp.packets.length, 0, 'paused: nothing forwarded yet');

    const beforeResume = Date.now();
    const resumed = await api('POST', `/recordings/${id}/resume`);
    assert.equal(resumed.status, 200);
    const anchor = resumed.json.anchor as { rtpTimestamp: number; wallClockMs: number } | null;
    assert.ok(anchor, 'the first packet out gives the show-clock anchor');
    assert.ok(anchor.wallClockMs >= beforeResume - 5 && anchor.wallClockMs <= Date.now());
    await sleep(500);
    assert.ok(rtp.packets.length > 5, `RTP forwarded (${rtp.packets.length})`);
    const first = rtp.packets[0] as Buffer;
    assert.equal((first[1] ?? 0) & 0x7f, info.rtp.payloadType);
    assert.equal(first.readUInt32BE(8), info.rtp.ssrc);
    assert.equal(first.readUInt32BE(4), anchor.rtpTimestamp);
    // After resume, mediasoup forwards from a keyframe on: ffmpeg's first frame is decodable.
    assert.equal((first[13] ?? 1) & 0x01, 0, 'first forwarded frame is a keyframe');

    const feedbackBefore = cam.feedback.length;
    assert.equal((await api('POST', `/recordings/${id}/keyframe`)).status, 204);
    await sleep(300);
    const requests = cam.feedback
      .slice(feedbackBefore)
      .flatMap(rtcpPackets)
      .filter((p) => isRtcpPli(p) || isRtcpFir(p));
    assert.ok(requests.length >= 1, 'the camera got a PLI/FIR');

    assert.equal((await api('DELETE', `/recordings/${id}`)).status, 204);
    assert.equal((await api('GET', `/recordings/${id}`)).status, 404);
    const count = rtp.packets.length;
    await sleep(200);
    assert.ok(rtp.packets.length <= count + 1, 'stopped: nothing more forwarded');
    assert.equal((await room.router.dump()).transportIds.length, 1, "only the camera's transport is left");
  } finally {
    cam.close();
    rtp.socket.close();
    rtcp.socket.close();
    room.close();
  }
});

test('a recording ends with a reason when its producer closes, and when its room closes', async () => {
  const room = await node.registry.open('rec-cascade');
  const camA = await vp8Camera(room, { clientId: 'cam-a', ssrc: 4242 });
  const camB = await vp8Camera(room, { clientId: 'cam-b', ssrc: 4242 });
  const start = async (producerId: string) => {
    const answer = await api('POST', '/recordings', {
      roomId: 'rec-cascade',
      producerId,
      ip: '127.0.0.1',
      rtpPort: 9,
      rtcpPort: 9,
    });
    assert.equal(answer.status, 201);
    return String(answer.json.recordingId);
  };
  try {
    const a = await start(camA.producer.id);
    const b = await start(camB.producer.id);
    camA.producer.close();
    await sleep(50);
    const endedA = await api('GET', `/recordings/${a}`);
    assert.equal(endedA.json.closedReason, 'producer closed');
    assert.equal((await api('POST', `/recordings/${a}/keyframe`)).status, 409);
    room.close();
    await sleep(50);
    assert.match(String((await api('GET', `/recordings/${b}`)).json.closedReason), /closed/);
    assert.equal((await api('DELETE', `/recordings/${a}`)).status, 204);
    assert.equal((await api('DELETE', `/recordings/${b}`)).status, 204);
  } finally {
    camA.close();
    camB.close();
    room.close();
  }
});
