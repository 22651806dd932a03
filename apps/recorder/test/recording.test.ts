import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { MediaNode } from '../../../sfu/src/node.ts';
import { createLogger } from '../src/log.ts';
import { NodeClient } from '../src/NodeClient.ts';
import { PortAllocator } from '../src/ports.ts';
import { type SegmentSidecar, TrackRecorder } from '../src/TrackRecorder.ts';
import { recorderToken, run, startMediaNode } from './media.ts';
import { encodeClip, type Vp8Clip, vp8Camera } from './vp8.ts';

/** The recorder's `recorder` token (minted once the node is up). */
let SECRET: string;
const SEGMENT_SECONDS = 10;
const FRAME = 1 / 30;
let node: MediaNode;
let dir: string;
let clip: Vp8Clip;

before(async () => {
  node = await startMediaNode();
  SECRET = await recorderToken(node);
  dir = await mkdtemp(join(tmpdir(), 'microstudio-rec-'));
  clip = await encodeClip(join(dir, 'clip.ivf'), { frames: 300, bitrate: '800k' });
});

after(async () => {
  await node.close();
  await rm(dir, { recursive: true, force: true });
});

async function probe(file: string): Promise<{ codec: string; duration: number }> {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-count_frames'],
    ...['-show_entries', 'stream=codec_name,nb_read_frames:format=duration', '-of', 'json', file],
  ]);
  const parsed = JSON.parse(stdout) as {
    streams: { codec_name: string; nb_read_frames: string }[];
    format: { duration: string };
  };
  const stream = parsed.streams[0];
  assert.ok(stream, `${file} has a video stream`);
  return { codec: stream.codec_name, duration: Number(stream.nb_read_frames) * FRAME };
}

test('records two VP8 sources for ~25 s into 10 s WebM segments that play alone, with show-clock sidecars', async () => {
  const room = await node.registry.open('show');
  // Senders paced by the show clock (a pre-encoded clip looped with continuous RTP timestamps, as
  // the clock and crash tests use): media keeps wall time on a busy box. Live libvpx encoders fell
  // behind real time in CI (10 s of media in 25 s); an ffmpeg `-stream_loop -c copy` sender once
  // broke the sidecars' exact contiguity.
  const t0 = Date.now() + 300;
  const camA = await vp8Camera(room, 'cam-a', clip, t0);
  const camB = await vp8Camera(room, 'cam-b', clip, t0);
  const client = new NodeClient(node.url, SECRET);
  const ports = new PortAllocator('127.0.0.1', 47000 + Math.floor(Math.random() * 4000) * 2);
  const finished: { path: string; sidecar: SegmentSidecar }[] = [];
  const sources = await client.sources('show');
  assert.deepEqual(sources.map((s) => s.sourceId).sort(), ['cam-a', 'cam-b']);
  const tracks = await Promise.all(
    sources.map(async (source) => {
      const track = source.tracks[0];
      assert.ok(track);
      return new TrackRecorder({
        node: client,
        roomId: 'show',
        producerId: track.producerId,
        dir: join(dir, source.sourceId),
        ip: '127.0.0.1',
        ports,
        segmentSeconds: SEGMENT_SECONDS,
        // Errors (a segment that could not be finished) in the test's output.
        logger: createLogger('warn'),
        onSegment: (path, sidecar) => {
          finished.push({ path, sidecar });
        },
      });
    }),
  );
  let stopAt = 0;
  try {
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the senders are running
    await Promise.all(tracks.map((t) => t.start()));
    await new Promise((resolve) => setTimeout(resolve, 25_000));
    stopAt = Date.now();
    await Promise.all(tracks.map((t) => t.stop()));
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    camA.close();
    camB.close();
  }
  // ffmpeg's receive-side warnings (a late packet on a loaded box) are context, not failures: the
  // segments themselves must decode cleanly (below).
  const context = tracks.map((t) => t.stderr.trim()).join(' | ');
  for (const source of ['cam-a', 'cam-b']) {
    const mine = finished
      .filter((f) => f.sidecar.sourceId === source)
      .sort((x, y) => x.sidecar.index - y.sidecar.index);
    const files = (await readdir(join(dir, source))).filter((f) => f.endsWith('.webm'));
    assert.equal(
      mine.length,
      3,
      `${source}: 2 full segments and the last (${JSON.stringify(mine.map((m) => [m.sidecar.file, m.sidecar.durationSeconds]))}; on disk ${files.join(' ')}) ${context}`,
    );
    assert.equal(files.length, mine.length, 'every segment on disk is reported');
    for (const [i, { path, sidecar }] of mine.entries()) {
      const { codec, duration } = await probe(path);
      assert.equal(codec, 'vp8');
      const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-']);
      assert.equal(stderr.trim(), '', `${path} decodes without errors`);
      const onDisk = JSON.parse(await readFile(`${path}.json`, 'utf8')) as SegmentSidecar;
      assert.deepEqual(onDisk, sidecar);
      if (i < mine.length - 1) {
        assert.ok(Math.abs(duration - SEGMENT_SECONDS) <= FRAME + 1e-6, `${path}: ${duration} s`);
        assert.ok(Math.abs(sidecar.durationSeconds - SEGMENT_SECONDS) <= FRAME + 1e-6);
        const next = mine[i + 1]?.sidecar;
        assert.ok(next);
        // Contiguous on the show clock: the next segment starts where this one ends.
        const gap = next.startWallClockMs - (sidecar.startWallClockMs + sidecar.durationSeconds * 1000);
        assert.ok(Math.abs(gap) <= 1, `${source}: segment ${sidecar.index} → ${next.index} gap ${gap} ms`);
      } else {
        // The remainder when the recording stopped (may be a single frame).
        assert.ok(duration > 0 && duration <= SEGMENT_SECONDS + FRAME, `last segment ${duration} s`);
        // Nothing recorded after stop(): ffmpeg ends at the BYE behind the last packet (an 8-byte
        // BYE used to be ignored, and 3 s more were recorded until ffmpeg was interrupted).
        const end = sidecar.startWallClockMs + sidecar.durationSeconds * 1000;
        assert.ok(end <= stopAt + 150, `${source} ends ${end - stopAt} ms after stop()`);
      }
    }
  }
  // Both sources started within a second of each other on the show clock.
  const firstA = finished.find((f) => f.sidecar.sourceId === 'cam-a' && f.sidecar.index === 0)?.sidecar;
  const firstB = finished.find((f) => f.sidecar.sourceId === 'cam-b' && f.sidecar.index === 0)?.sidecar;
  assert.ok(firstA && firstB);
  assert.ok(Math.abs(firstA.startWallClockMs - firstB.startWallClockMs) < 1500);
});
