import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ErrorCode,
  MAX_MESSAGE_BYTES,
  TELEMETRY_MIN_INTERVAL_MS,
  type TelemetryReport,
} from '@microstudio/protocol';
import type { MediaNode } from '../src/node.ts';
import { type Client, connect, joinAs, rawRequest, request, sleep, startTestNode } from './helpers.ts';

let node: MediaNode;
const sockets: Client[] = [];

before(async () => {
  node = await startTestNode({ MICROSTUDIO_WORKERS: '1' });
});

after(async () => {
  for (const socket of sockets) socket.disconnect();
  await node.close();
});

async function join(room: string, role: 'camera' | 'director' | 'viewer', clientId: string): Promise<Client> {
  const { socket } = await joinAs(node, room, role, clientId);
  sockets.push(socket);
  return socket;
}

async function scrape(): Promise<string> {
  const res = await fetch(`${node.url}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

/** Every sample of `name` whose labels include `labels`. */
function samples(text: string, name: string, labels: Record<string, string>): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-z_:][a-z0-9_:]*)(\{[^}]*\})? (\S+)$/i.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`)))
      out.push(Number(match[3]));
  }
  return out;
}

/** The one sample of `name` with `labels`, or 0 when there is none (a series not observed yet). */
function value(text: string, name: string, labels: Record<string, string>): number {
  const found = samples(text, name, labels);
  assert.ok(found.length <= 1, `at most one ${name} ${JSON.stringify(labels)} sample`);
  return found[0] ?? 0;
}

const histograms = [
  'microstudio_client_startup_ms',
  'microstudio_client_cut_to_frame_ms',
  'microstudio_client_glass_to_glass_ms',
  'microstudio_client_rtt_ms',
  'microstudio_client_jitter_ms',
  'microstudio_client_packet_loss_pct',
];

/** Every client telemetry sample, for "nothing changed" checks. */
const telemetryLines = (text: string): string =>
  text
    .split('\n')
    .filter((line) => line.startsWith('microstudio_client_'))
    .join('\n');

test('the client telemetry metrics are exposed before any report', async () => {
  const text = await scrape();
  for (const name of [...histograms, 'microstudio_client_freezes_total', 'microstudio_client_battery_level'])
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exposed`);
  assert.equal(value(text, 'microstudio_client_freezes_total', { role: 'viewer', hop: 'edge' }), 0);
});

test('a report updates the histograms and the freeze counter under its role and hop', async () => {
  const viewer = await join('tele-a', 'viewer', 'viewer-a');
  const before = await scrape();
  const labels = { role: 'viewer', hop: 'edge' };
  const report: TelemetryReport = {
    hop: 'edge',
    startupMs: 850,
    cutToFrameMs: 42,
    glassToGlassMs: 180,
    rttMs: 12.5,
    jitterMs: 3,
    packetLossPct: 0.5,
    freezes: 2,
    bitrateKbps: { in: 2500 },
    decodeMsPerFrame: 1.8,
    networkType: 'ethernet',
  };
  const result = await request(viewer, 'telemetry:report', report);
  assert.deepEqual(result, { ok: true, data: {} });
  const text = await scrape();
  const observed: [string, number][] = [
    ['microstudio_client_startup_ms', 850],
    ['microstudio_client_cut_to_frame_ms', 42],
    ['microstudio_client_glass_to_glass_ms', 180],
    ['microstudio_client_rtt_ms', 12.5],
    ['microstudio_client_jitter_ms', 3],
    ['microstudio_client_packet_loss_pct', 0.5],
  ];
  for (const [name, v] of observed) {
    assert.equal(value(text, `${name}_count`, labels) - value(before, `${name}_count`, labels), 1, name);
    assert.equal(value(text, `${name}_sum`, labels) - value(before, `${name}_sum`, labels), v, name);
  }
  // The bucket holding the value counted it: 180 ms is in le="200" and not in le="150".
  assert.equal(value(text, 'microstudio_client_glass_to_glass_ms_bucket', { ...labels, le: '200' }), 1);
  assert.equal(value(text, 'microstudio_client_glass_to_glass_ms_bucket', { ...labels, le: '150' }), 0);
  assert.equal(
    value(text, 'microstudio_client_freezes_total', labels) -
      value(before, 'microstudio_client_freezes_total', labels),
    2,
  );
  // Nothing under another role or hop, and no label value that is not a role, a hop or a bucket.
  assert.equal(value(text, 'microstudio_client_rtt_ms_count', { role: 'viewer', hop: 'site' }), 0);
  for (const line of telemetryLines(text).split('\n')) {
    if (!line.includes('{') || line.startsWith('microstudio_client_battery_level')) continue;
    assert.match(
      line,
      /^\w+\{(le="[^"]+",)?role="(camera|director|viewer|guest|mirror)",hop="(site|edge|p2p)"\} \S+$/,
    );
  }
});

test(`a second report within ${TELEMETRY_MIN_INTERVAL_MS} ms is RATE_LIMITED and changes nothing; later ones pass`, async () => {
  const director = await join('tele-b', 'director', 'director-b');
  const labels = { role: 'director', hop: 'site' };
  assert.equal((await request(director, 'telemetry:report', { hop: 'site', rttMs: 4 })).ok, true);
  const afterFirst = await scrape();
  const second = await request(director, 'telemetry:report', { hop: 'site', rttMs: 5 });
  assert.equal(second.ok, false);
  if (!second.ok) assert.equal(second.error.code, ErrorCode.RateLimited);
  assert.equal(telemetryLines(await scrape()), telemetryLines(afterFirst));
  assert.equal(value(afterFirst, 'microstudio_client_rtt_ms_count', labels), 1);
  // Per connection: another peer reports meanwhile.
  const other = await join('tele-b', 'viewer', 'viewer-b');
  assert.equal((await request(other, 'telemetry:report', { hop: 'site', rttMs: 6 })).ok, true);
  // The refused report did not restart the interval.
  await sleep(TELEMETRY_MIN_INTERVAL_MS + 50);
  assert.equal((await request(director, 'telemetry:report', { hop: 'site', rttMs: 7 })).ok, true);
  assert.equal(value(await scrape(), 'microstudio_client_rtt_ms_count', labels), 2);
});

test('malformed and oversized reports are refused (BAD_REQUEST, MESSAGE_TOO_LARGE) and change nothing', async () => {
  const camera = await join('tele-c', 'camera', 'cam-c');
  const before = telemetryLines(await scrape());
  const refused: [unknown, string][] = [
    [{ rttMs: 10 }, ErrorCode.BadRequest],
    [{ hop: 'moon', rttMs: 10 }, ErrorCode.BadRequest],
    [{ hop: 'site', rttMs: 10, userAgent: 'x' }, ErrorCode.BadRequest],
    [{ hop: 'site', rttMs: -1 }, ErrorCode.BadRequest],
    [{ hop: 'site', packetLossPct: 101 }, ErrorCode.BadRequest],
    [{ hop: 'site', battery: { level: 2, charging: true } }, ErrorCode.BadRequest],
    [{ hop: 'site', freezes: 'many' }, ErrorCode.BadRequest],
    ['site', ErrorCode.BadRequest],
    [{ hop: 'site', rttMs: 10, padding: 'x'.repeat(MAX_MESSAGE_BYTES) }, ErrorCode.MessageTooLarge],
  ];
  for (const [payload, code] of refused) {
    const result = await rawRequest(camera, 'telemetry:report', payload);
    assert.equal(result.ok, false, JSON.stringify(payload).slice(0, 80));
    if (!result.ok) assert.equal(result.error.code, code, JSON.stringify(payload).slice(0, 80));
  }
  assert.equal(telemetryLines(await scrape()), before);
  // Refusals did not use up the connection's interval.
  assert.equal((await request(camera, 'telemetry:report', { hop: 'site', rttMs: 3 })).ok, true);
});

test('a report before joining is NOT_JOINED', async () => {
  const socket = await connect(node);
  sockets.push(socket);
  const result = await request(socket, 'telemetry:report', { hop: 'site', rttMs: 1 });
  assert.equal(result.ok, false);
  if (!result.ok) assert.equal(result.error.code, ErrorCode.NotJoined);
});

test("a camera's battery level is a gauge per source, removed when the camera leaves", async () => {
  const camera = await join('tele-d', 'camera', 'cam-d');
  const viewer = await join('tele-d', 'viewer', 'viewer-d');
  const series = { room: 'tele-d', source: 'cam-d' };
  assert.equal(
    (await request(camera, 'telemetry:report', { hop: 'site', battery: { level: 0.42, charging: false } }))
      .ok,
    true,
  );
  // A viewer's battery is not a source's: no series for it.
  assert.equal(
    (await request(viewer, 'telemetry:report', { hop: 'site', battery: { level: 0.9, charging: true } })).ok,
    true,
  );
  const live = await scrape();
  assert.deepEqual(samples(live, 'microstudio_client_battery_level', series), [0.42]);
  assert.deepEqual(samples(live, 'microstudio_client_battery_level', { room: 'tele-d' }), [0.42]);
  camera.disconnect();
  const deadline = Date.now() + 3000;
  let text = await scrape();
  while (samples(text, 'microstudio_client_battery_level', series).length > 0 && Date.now() < deadline) {
    await sleep(50);
    text = await scrape();
  }
  assert.deepEqual(samples(text, 'microstudio_client_battery_level', series), []);
});
