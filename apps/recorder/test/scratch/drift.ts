import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/log.ts';
import { NodeClient } from '../../src/NodeClient.ts';
import { PortAllocator } from '../../src/ports.ts';
import { type SegmentSidecar, TrackRecorder } from '../../src/TrackRecorder.ts';
import { ffmpegCamera, run, startMediaNode } from '../media.ts';

const SECRET = 'recorder-test-secret-0123';
const node = await startMediaNode(SECRET);
const dir = await mkdtemp(join(tmpdir(), 'microstudio-drift-'));
const room = await node.registry.open('show');
const t0 = Date.now();
const camA = await ffmpegCamera(room, 'cam-a');
const camB = await ffmpegCamera(room, 'cam-b');
const client = new NodeClient(node.url, SECRET);
const ports = new PortAllocator('127.0.0.1', 47000 + Math.floor(Math.random() * 4000) * 2);
const finished: { path: string; sidecar: SegmentSidecar; at: number }[] = [];
const sources = await client.sources('show');
const tracks = await Promise.all(
  sources.map(async (source) => {
    const track = source.tracks[0]!;
    const { rtpPort, rtcpPort } = await ports.allocate();
    return new TrackRecorder({
      node: client, roomId: 'show', producerId: track.producerId, dir: join(dir, source.sourceId),
      ip: '127.0.0.1', rtpPort, rtcpPort, segmentSeconds: 10, logger: silentLogger,
      onSegment: (path, sidecar) => finished.push({ path, sidecar, at: Date.now() }),
    });
  }),
);
await new Promise((r) => setTimeout(r, 1500));
const tStart = Date.now();
await Promise.all(tracks.map((t) => t.start()));
const tStarted = Date.now();
await new Promise((r) => setTimeout(r, Number(process.env.SECS ?? 25) * 1000));
const tStop = Date.now();
await Promise.all(tracks.map((t) => t.stop()));
camA.close(); camB.close();
console.log({ t0, tStart: tStart - t0, tStarted: tStarted - t0, tStop: tStop - t0 });
for (const t of tracks) console.log(t.info?.sourceId, 'anchor', (t.info ? await client.get(t.info.recordingId).catch(() => null) : null)?.anchor);
for (const f of finished.sort((a, b) => a.sidecar.sourceId.localeCompare(b.sidecar.sourceId) || a.sidecar.index - b.sidecar.index)) {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time,flags', '-of', 'csv', f.path]);
  const pk = stdout.trim().split('\n');
  console.log(f.sidecar.sourceId, f.sidecar.index, 'start', f.sidecar.startWallClockMs - t0, 'dur', f.sidecar.durationSeconds, 'reported at', f.at - t0, 'pkts', pk.length, 'first', pk[0], 'last', pk[pk.length - 1]);
}
for (const t of tracks) console.log(t.stderr.slice(-1000));
console.log(dir);
await node.close();
process.exit(0);
