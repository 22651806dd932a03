import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { HealthSources } from '@microstudio/protocol';
import { clientTelemetry } from '../src/http/metrics.ts';
import { silentLogger } from '../src/log.ts';
import type { MediaNode } from '../src/node.ts';
import { HealthReporter } from '../src/rooms/HealthReporter.ts';
import type { Room } from '../src/rooms/Room.ts';
import { type Client, joinAs, must, nextEvent, record, sleep, startTestNode } from './helpers.ts';
import { recordingSink, vp8Camera } from './rtp.ts';

const ROOM = 'health';
/** The reporter's interval is 2 s: a report within two intervals and some slack. */
const REPORT_WITHIN_MS = 5000;

let node: MediaNode;
let room: Room;
let director: Client;
let viewer: Client;
let camera: Client;
let viewerSeen: { name: string; payload: unknown }[];
let vp8: Awaited<ReturnType<typeof vp8Camera>> | undefined;

before(async () => {
  node = await startTestNode();
  director = (await joinAs(node, ROOM, 'director', 'dir-h')).socket;
  viewer = (await joinAs(node, ROOM, 'viewer', 'viewer-h')).socket;
  viewerSeen = record(viewer);
  camera = (await joinAs(node, ROOM, 'camera', 'cam-h')).socket;
  const opened = node.registry.get(ROOM);
  assert.ok(opened);
  room = opened;
  const peer = room.peers().find((p) => p.clientId === 'cam-h');
  assert.ok(peer, 'the camera peer is in the room');
  vp8 = await vp8Camera(room, { peer, ssrc: 5555, keyframeEvery: 0 });
});

after(async () => {
  vp8?.close();
  for (const socket of [director, viewer, camera]) socket?.disconnect();
  await node?.close();
});

const withCamera = (p: HealthSources): boolean => p.sources.some((s) => s.sourceId === 'cam-h');

test('a director receives health:sources with the publishing camera and a non-zero bitrate', async () => {
  const health = await nextEvent(
    director,
    'health:sources',
    (p) => p.sources.some((s) => s.sourceId === 'cam-h' && s.bitrateKbps > 0),
    REPORT_WITHIN_MS * 2,
  );
  assert.equal(health.roomId, ROOM);
  const source = health.sources.find((s) => s.sourceId === 'cam-h');
  assert.ok(source);
  assert.equal(source.displayName, 'cam-h');
  assert.ok(source.bitrateKbps > 0, `bitrate ${source.bitrateKbps}`);
  assert.ok(source.lossPct >= 0 && source.lossPct <= 100);
  assert.ok(['good', 'fair', 'poor', 'lost'].includes(source.quality));
  assert.equal(source.battery, undefined, 'no battery before the camera reports one');
});

test('a viewer never receives health:sources', async () => {
  // At least one report went to the director meanwhile (previous test); wait for one more.
  await nextEvent(director, 'health:sources', withCamera, REPORT_WITHIN_MS);
  assert.equal(
    viewerSeen.some((n) => n.name === 'health:sources'),
    false,
  );
});

test("a camera's telemetry:report battery and network type show up in the next health:sources", async () => {
  await must(camera, 'telemetry:report', {
    hop: 'site',
    battery: { level: 0.12, charging: false },
    networkType: 'cellular',
  });
  const health = await nextEvent(
    director,
    'health:sources',
    (p) => p.sources.some((s) => s.sourceId === 'cam-h' && s.battery !== undefined),
    REPORT_WITHIN_MS,
  );
  const source = health.sources.find((s) => s.sourceId === 'cam-h');
  assert.deepEqual(source?.battery, { level: 0.12, charging: false });
  assert.equal(source?.networkType, 'cellular');
});

test("a source's device figures are dropped when it leaves", async () => {
  assert.ok(clientTelemetry(node.registry).deviceFigures(ROOM, 'cam-h'));
  const left = nextEvent(director, 'room:state', (s) => !s.sources.some((x) => x.sourceId === 'cam-h'));
  camera.disconnect();
  await left;
  assert.equal(clientTelemetry(node.registry).deviceFigures(ROOM, 'cam-h'), undefined);
  const health = await nextEvent(director, 'health:sources', () => true, REPORT_WITHIN_MS);
  assert.equal(withCamera(health), false);
});

test('a reporter skips rooms without directors, survives failing getStats and stops on room close', async () => {
  const other = await node.registry.open('health-b');
  const reporter = new HealthReporter(other, { intervalMs: 60_000, logger: silentLogger });
  const directorSink = recordingSink();
  const cam = other.join({
    role: 'camera',
    displayName: 'broken',
    clientId: 'broken',
    sink: recordingSink(),
  });
  const transport = await other.createPlainTransport(cam, 'send', {
    listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
    rtcpMux: true,
    comedia: true,
  });
  const producer = await other.produce(cam, {
    transportId: transport.id,
    kind: 'audio',
    rtpParameters: {
      codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
      encodings: [{ ssrc: 777 }],
    },
    purpose: 'mic',
  });
  await reporter.report();
  other.join({ role: 'director', displayName: 'd', clientId: 'd-b', sink: directorSink });
  assert.equal(directorSink.notes.includes('health:sources'), false, 'nothing without a director');
  producer.getStats = () => Promise.reject(new Error('worker gone'));
  await reporter.report();
  const sent = directorSink.notes.filter((n) => n === 'health:sources').length;
  assert.ok(sent >= 1, 'a report despite getStats failing');
  other.close();
  assert.equal(reporter.closed, true);
  await reporter.report();
  await sleep(2500); // the registry's own reporter of this room stopped too
  assert.equal(directorSink.notes.filter((n) => n === 'health:sources').length, sent);
});
