import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MediaNode } from '../src/node.ts';
import { dtlsParameters, joinAs, must, publishCamera, sleep, startTestNode } from './helpers.ts';
import { rtpLoop } from './rtp.ts';

let node: MediaNode;

before(async () => {
  node = await startTestNode({ MICROSTUDIO_WORKERS: '2' });
});

after(async () => {
  await node.close();
});

async function scrape(): Promise<string> {
  const res = await fetch(`${node.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return res.text();
}

/** Every sample of `name` whose labels include `labels`, as [labels text, value]. */
function samples(text: string, name: string, labels: Record<string, string> = {}): [string, number][] {
  const out: [string, number][] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-z_:][a-z0-9_:]*)(\{[^}]*\})? (\S+)$/i.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`)))
      out.push([labelText, Number(match[3])]);
  }
  return out;
}

function value(text: string, name: string, labels: Record<string, string> = {}): number {
  const found = samples(text, name, labels);
  assert.equal(found.length, 1, `one ${name} ${JSON.stringify(labels)} sample (got ${found.length})`);
  return found[0]?.[1] ?? Number.NaN;
}

/** Scrapes until `check` holds (the close cascade and the worker run asynchronously). */
async function until(check: (text: string) => boolean, timeoutMs = 3000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await scrape();
    if (check(text) || Date.now() > deadline) return text;
    await sleep(50);
  }
}

test('GET /metrics exposes worker, room and media metrics with bounded labels, and process metrics', async () => {
  const text = await scrape();
  for (const name of [
    'microstudio_worker_cpu_seconds_total',
    'microstudio_worker_up',
    'microstudio_worker_rooms',
    'microstudio_worker_deaths_total',
    'microstudio_worker_restarts_total',
    'microstudio_rooms',
    'microstudio_rooms_recovering',
    'microstudio_peers',
    'microstudio_transports',
    'microstudio_producers',
    'microstudio_consumers',
    'microstudio_sources',
    'microstudio_producer_bitrate_bps',
    'process_cpu_seconds_total',
    'nodejs_eventloop_lag_p99_seconds',
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exposed`);
  }
  for (const slot of ['0', '1']) {
    assert.equal(value(text, 'microstudio_worker_up', { slot }), 1);
    const pid = String(node.pool.worker(Number(slot))?.worker.pid);
    assert.ok(value(text, 'microstudio_worker_cpu_seconds_total', { slot, pid }) >= 0);
  }
  for (const role of ['camera', 'director', 'viewer'])
    assert.equal(value(text, 'microstudio_peers', { role }), 0);
  for (const kind of ['audio', 'video']) assert.equal(value(text, 'microstudio_producers', { kind }), 0);
  // No label carries an object id: every label value is a slot, pid, role, kind, type or quality.
  assert.doesNotMatch(text, /="[0-9a-f]{8}-[0-9a-f]{4}-/);
  const head = await fetch(`${node.url}/metrics`, { method: 'POST' });
  assert.equal(head.status, 405);
});

test('peers, transports, producers and consumers follow joins, publish, consume and leave (0 → 2 → 0 producers)', async () => {
  const before = await scrape();
  assert.equal(value(before, 'microstudio_producers', { kind: 'video' }), 0);

  const cam = await publishCamera(node, 'metrics-room', 'cam-m');
  const director = await joinAs(node, 'metrics-room', 'director', 'dir-m');
  const recv = await must(director.socket, 'transport:create', { direction: 'recv' });
  await must(director.socket, 'transport:connect', { transportId: recv.id, dtlsParameters });
  await must(director.socket, 'consumer:create', {
    transportId: recv.id,
    producerId: cam.videoProducerId,
    rtpCapabilities: director.caps,
    spatialLayer: 0,
  });
  await must(director.socket, 'consumer:create', {
    transportId: recv.id,
    producerId: cam.audioProducerId,
    rtpCapabilities: director.caps,
  });
  const live = await scrape();
  assert.equal(value(live, 'microstudio_rooms'), 1);
  assert.equal(value(live, 'microstudio_peers', { role: 'camera' }), 1);
  assert.equal(value(live, 'microstudio_peers', { role: 'director' }), 1);
  assert.equal(value(live, 'microstudio_transports', { type: 'webrtc' }), 2);
  assert.equal(value(live, 'microstudio_producers', { kind: 'video' }), 1);
  assert.equal(value(live, 'microstudio_producers', { kind: 'audio' }), 1);
  assert.equal(value(live, 'microstudio_consumers', { kind: 'video' }), 1);
  assert.equal(value(live, 'microstudio_consumers', { kind: 'audio' }), 1);
  assert.equal(value(live, 'microstudio_sources', { quality: 'good' }), 1);
  const slot = String(node.registry.get('metrics-room')?.workerSlot);
  assert.equal(value(live, 'microstudio_worker_rooms', { slot }), 1);

  cam.socket.disconnect();
  director.socket.disconnect();
  const gone = await until(
    (t) =>
      value(t, 'microstudio_producers', { kind: 'video' }) === 0 &&
      value(t, 'microstudio_consumers', { kind: 'video' }) === 0 &&
      value(t, 'microstudio_peers', { role: 'camera' }) === 0,
  );
  assert.equal(value(gone, 'microstudio_producers', { kind: 'video' }), 0);
  assert.equal(value(gone, 'microstudio_producers', { kind: 'audio' }), 0);
  assert.equal(value(gone, 'microstudio_consumers', { kind: 'video' }), 0);
  assert.equal(value(gone, 'microstudio_consumers', { kind: 'audio' }), 0);
  assert.equal(value(gone, 'microstudio_peers', { role: 'camera' }), 0);
  assert.equal(value(gone, 'microstudio_transports', { type: 'webrtc' }), 0);
});

test('RTP through a worker shows as ingest bitrate and worker CPU time', async () => {
  const room = await node.registry.open('metrics-rtp', { slot: 1 });
  const pid = String(node.pool.worker(1)?.worker.pid);
  const first = await scrape();
  const cpuBefore = value(first, 'microstudio_worker_cpu_seconds_total', { slot: '1', pid });
  const loop = await rtpLoop(room, 4242);
  try {
    // getrusage advances in scheduler ticks: give the worker a few seconds to be billed one.
    const text = await until(
      (t) =>
        value(t, 'microstudio_producer_bitrate_bps', { kind: 'audio' }) > 0 &&
        value(t, 'microstudio_worker_cpu_seconds_total', { slot: '1', pid }) > cpuBefore,
      5000,
    );
    assert.ok(value(text, 'microstudio_producer_bitrate_bps', { kind: 'audio' }) > 0, 'audio bitrate > 0');
    assert.equal(value(text, 'microstudio_transports', { type: 'plain' }), 2);
    assert.ok(
      value(text, 'microstudio_worker_cpu_seconds_total', { slot: '1', pid }) > cpuBefore,
      'worker CPU time grows while it forwards',
    );
  } finally {
    loop.close();
    room.close();
  }
});

test('SIGKILL of a worker counts a death and a restart; the new process gets its own CPU series', async () => {
  const before = await scrape();
  assert.equal(value(before, 'microstudio_worker_restarts_total', { slot: '0' }), 0);
  const oldPid = node.pool.worker(0)?.worker.pid;
  assert.ok(oldPid);
  const replaced = new Promise<number>((resolve) => node.pool.once('replaced', (_slot, pid) => resolve(pid)));
  process.kill(oldPid, 'SIGKILL');
  const newPid = await replaced;
  const after = await until((t) => value(t, 'microstudio_worker_up', { slot: '0' }) === 1);
  assert.equal(value(after, 'microstudio_worker_deaths_total', { slot: '0' }), 1);
  assert.equal(value(after, 'microstudio_worker_restarts_total', { slot: '0' }), 1);
  assert.equal(value(after, 'microstudio_worker_restarts_total', { slot: '1' }), 0);
  assert.equal(value(after, 'microstudio_worker_up', { slot: '0' }), 1);
  assert.equal(samples(after, 'microstudio_worker_cpu_seconds_total', { pid: String(oldPid) }).length, 0);
  assert.equal(
    samples(after, 'microstudio_worker_cpu_seconds_total', { slot: '0', pid: String(newPid) }).length,
    1,
  );
});
