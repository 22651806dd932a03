import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { MediaNode } from '../../../sfu/src/node.ts';
import { silentLogger } from '../src/log.ts';
import { NodeClient } from '../src/NodeClient.ts';
import { PortAllocator } from '../src/ports.ts';
import { ArrivalClock } from '../src/showClock.ts';
import type { SegmentSidecar } from '../src/sidecar.ts';
import { TrackRecorder } from '../src/TrackRecorder.ts';
import { recorderToken, startMediaNode } from './media.ts';
import { encodeClip, FRAME_MS, locateSegment, type Vp8Clip, vp8Camera } from './vp8.ts';

/** The recorder's `recorder` token (minted once the node is up). */
let SECRET: string;
const SEGMENT_SECONDS = 5;
let node: MediaNode;
let dir: string;
let clip: Vp8Clip;

before(async () => {
  node = await startMediaNode();
  SECRET = await recorderToken(node);
  dir = await mkdtemp(join(tmpdir(), 'microstudio-clock-'));
  clip = await encodeClip(join(dir, 'clip.ivf'), { frames: 300, bitrate: '800k' });
});

after(async () => {
  await node.close();
  await rm(dir, { recursive: true, force: true });
});

test('ArrivalClock: the origin is the least-delayed packet, not the first; late bursts do not move it', () => {
  const clock = new ArrivalClock(90_000);
  const t0 = 1_000_000;
  // Frame i captured at t0 + i*100 ms. The first 10 frames leave 800 ms late (the sender lagged),
  // then come in a burst; from then on 5 ms after capture, with a 2 s stall in the middle.
  for (let i = 0; i < 400; i++) {
    const capture = t0 + i * 100;
    let arrival = capture + 5;
    if (i < 10) arrival = t0 + 1000 + 5;
    if (i >= 200 && i < 220) arrival = t0 + 220 * 100 + 5;
    clock.observe((4_294_000_000 + i * 9000) >>> 0, arrival); // wraps past 2^32
  }
  // Media time 0 is frame 0 (captured at t0); the first packet arrived 1 s after it.
  assert.equal(clock.firstArrivalMs, t0 + 1005);
  assert.equal(clock.originMs(), t0 + 5);
  assert.equal(clock.mediaMs, 399 * 100);
});

test('show clock: each segment starts (on the show clock) within a frame of its first frame, durations match the wall-clock span, and two sources line up — through a sender that lags when recording starts', async (t) => {
  const room = await node.registry.open('clock');
  // Both cameras capture on one grid: frame i of either was taken at t0 + i/30 s.
  const t0 = Date.now() + 300;
  const camA = await vp8Camera(room, 'cam-a', clip, t0);
  const camB = await vp8Camera(room, 'cam-b', clip, t0);
  const cams = { 'cam-a': camA, 'cam-b': camB };
  const client = new NodeClient(node.url, SECRET);
  const ports = new PortAllocator('127.0.0.1', 47000 + Math.floor(Math.random() * 4000) * 2);
  const finished: { path: string; sidecar: SegmentSidecar }[] = [];
  const sources = await client.sources('clock');
  const tracks = sources.map((source) => {
    const track = source.tracks[0];
    assert.ok(track);
    return new TrackRecorder({
      node: client,
      roomId: 'clock',
      producerId: track.producerId,
      dir: join(dir, source.sourceId),
      ip: '127.0.0.1',
      ports,
      segmentSeconds: SEGMENT_SECONDS,
      logger: silentLogger,
      onSegment: (path, sidecar) => {
        finished.push({ path, sidecar });
      },
    });
  });
  let stopAt = 0;
  try {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // cam-a's encoder falls behind just as recording starts: its first frames reach the recorder
    // up to 2.5 s after they were captured, then in a burst. cam-b stalls later, mid-segment.
    camA.sender.stall(2500);
    // cam-b loses a packet of its first keyframes: ffmpeg's first frame is a GOP (or more) after
    // the first packet it received, the origin of the show clock.
    camB.sender.breakKeyframes = true;
    await Promise.all(tracks.map((t) => t.start()));
    await new Promise((resolve) => setTimeout(resolve, 300));
    camB.sender.breakKeyframes = false;
    await new Promise((resolve) => setTimeout(resolve, 6700));
    camB.sender.stall(1500);
    await new Promise((resolve) => setTimeout(resolve, 9000));
    stopAt = Date.now();
    await Promise.all(tracks.map((t) => t.stop()));
  } finally {
    camA.close();
    camB.close();
  }
  const located = new Map<string, { firstFrame: number; captureMs: number; sidecar: SegmentSidecar }[]>();
  const notes: string[] = [];
  for (const [sourceId, cam] of Object.entries(cams)) {
    const track = tracks.find((t) => t.info?.sourceId === sourceId);
    assert.ok(track?.info);
    const mine = finished
      .filter((f) => f.sidecar.sourceId === sourceId)
      .sort((x, y) => x.sidecar.index - y.sidecar.index);
    assert.ok(mine.length >= 3, `${sourceId}: ${mine.length} segments`);
    const list: { firstFrame: number; captureMs: number; sidecar: SegmentSidecar }[] = [];
    for (const { path, sidecar } of mine) {
      const where = await locateSegment(path, clip, cam.sender, sidecar.startWallClockMs);
      assert.ok(where.consecutive, `${path}: frames are consecutive (nothing lost or repeated)`);
      // The segment's duration is its frames', and starts where its first frame was captured.
      assert.ok(Math.abs(sidecar.durationSeconds * 1000 - where.frames * FRAME_MS) <= FRAME_MS / 2);
      const error = sidecar.startWallClockMs - where.captureMs;
      assert.ok(
        Math.abs(error) <= FRAME_MS,
        `${sourceId} ${sidecar.file}: starts ${error.toFixed(1)} ms from its first frame's capture`,
      );
      list.push({ firstFrame: where.firstFrame, captureMs: where.captureMs, sidecar });
    }
    for (const [i, seg] of list.entries()) {
      const next = list[i + 1];
      if (!next) continue;
      // Duration = wall-clock span: from this segment's first frame to the next one's.
      const span = next.captureMs - seg.captureMs;
      assert.ok(
        Math.abs(seg.sidecar.durationSeconds * 1000 - span) <= FRAME_MS,
        `${sourceId} ${seg.sidecar.file}: ${seg.sidecar.durationSeconds} s for ${span} ms of capture`,
      );
      // Contiguous on the show clock.
      assert.ok(
        Math.abs(
          next.sidecar.startWallClockMs - (seg.sidecar.startWallClockMs + seg.sidecar.durationSeconds * 1000),
        ) <= 1,
      );
    }
    // The recording ends with the frames captured before stop().
    const last = list.at(-1);
    assert.ok(last);
    const end = last.sidecar.startWallClockMs + last.sidecar.durationSeconds * 1000;
    assert.ok(Math.abs(end - stopAt) <= 150, `${sourceId}: ends ${end - stopAt} ms from stop()`);
    // What the node's anchor (the first packet's send time) would have given: the old start times.
    const anchor = track.anchor?.wallClockMs;
    const first = list[0];
    if (anchor !== undefined && first)
      notes.push(
        `${sourceId}: first packet sent ${(anchor - (first.captureMs - first.sidecar.mediaStartSeconds * 1000)).toFixed(0)} ms after its capture (start times from it would be off by that); arrival-based start off by ${(first.sidecar.startWallClockMs - first.captureMs).toFixed(1)} ms`,
      );
    notes.push(
      `${sourceId}: first frame ${list[0]?.sidecar.mediaStartSeconds} s after the first packet; sent ${cam.sender.packets} packets, relayed ${JSON.stringify(track.packets)}`,
    );
    if (sourceId === 'cam-b')
      assert.ok((list[0]?.sidecar.mediaStartSeconds ?? 0) >= 1, 'cam-b recording starts at a later keyframe');
    located.set(sourceId, list);
  }
  // Sources line up: any two segments are as far apart on the show clock as their first frames
  // were in capture — and segments that start on the same frame start at the same time.
  const a = located.get('cam-a') ?? [];
  const b = located.get('cam-b') ?? [];
  for (const x of a)
    for (const y of b) {
      const recorded = x.sidecar.startWallClockMs - y.sidecar.startWallClockMs;
      const captured = x.captureMs - y.captureMs;
      assert.ok(
        Math.abs(recorded - captured) <= FRAME_MS,
        `cam-a ${x.sidecar.file} vs cam-b ${y.sidecar.file}: ${recorded} ms apart on the show clock, ${captured.toFixed(1)} ms in capture`,
      );
    }
  for (const note of notes) t.diagnostic(note);
});
