import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { CutEntry } from '@microstudio/protocol';
import type { MediaNode } from '../../../sfu/src/node.ts';
import { createLogger } from '../src/log.ts';
import { NodeClient } from '../src/NodeClient.ts';
import { PortAllocator } from '../src/ports.ts';
import type { Timeline } from '../src/render/timeline.ts';
import { type SegmentSidecar, TrackRecorder } from '../src/TrackRecorder.ts';
import { ensureClip } from './clips.ts';
import { ffmpegCamera, recorderToken, startMediaNode } from './media.ts';

async function colourClip(colour: string): Promise<{ clip: string; recvBufferSize: number }> {
  const clip = await ensureClip({ label: colour, width: 640, height: 360, kbps: 300, colour });
  return { clip: clip.path, recvBufferSize: 4 * 1024 * 1024 };
}

/** The recorder's `recorder` token (minted once the node is up). */
let SECRET: string;
/** Short segments: a 13 s recording has boundaries inside the program's pieces. */
const SEGMENT_SECONDS = 4;
const FPS = 30;
const RECORD_MS = 13_000;
const FADE_MS = 600;
const recorderDir = fileURLToPath(new URL('..', import.meta.url));
const execFileAsync = promisify(execFile);
let node: MediaNode;
let dir: string;

before(async () => {
  node = await startMediaNode();
  SECRET = await recorderToken(node);
  dir = await mkdtemp(join(tmpdir(), 'microstudio-render-'));
});

after(async () => {
  await node.close();
  await rm(dir, { recursive: true, force: true });
});

type Colour = 'red' | 'blue' | 'mixed';

/** The program decoded frame by frame, each frame's mean colour (scaled to one pixel). */
async function programColours(file: string): Promise<{ rgb: [number, number, number]; colour: Colour }[]> {
  const { stdout } = await execFileAsync(
    'ffmpeg',
    ['-v', 'error', '-i', file, '-vf', 'scale=1:1,format=rgb24', '-f', 'rawvideo', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 1 << 20 },
  );
  const frames: { rgb: [number, number, number]; colour: Colour }[] = [];
  for (let i = 0; i + 3 <= stdout.length; i += 3) {
    const rgb: [number, number, number] = [stdout[i] ?? 0, stdout[i + 1] ?? 0, stdout[i + 2] ?? 0];
    const [r, g, b] = rgb;
    const colour = r > 200 && g < 50 && b < 50 ? 'red' : b > 200 && r < 50 && g < 50 ? 'blue' : 'mixed';
    frames.push({ rgb, colour });
  }
  return frames;
}

test('renders the program of two recorded cameras from a cut list: every cut within a frame of its time', async () => {
  const room = await node.registry.open('show');
  // Solid colours survive VP8 (decoded within a few levels of 255/0) and tell the sources apart.
  const cameras = {
    // Pre-encoded, sent with -c copy: a live encoder on a busy box falls behind real time.
    'cam-a': await ffmpegCamera(room, 'cam-a', await colourClip('red')),
    'cam-b': await ffmpegCamera(room, 'cam-b', await colourClip('blue')),
  };
  const colourOf: Record<string, Colour> = { 'cam-a': 'red', 'cam-b': 'blue' };
  const client = new NodeClient(node.url, SECRET);
  const ports = new PortAllocator('127.0.0.1', 47000 + Math.floor(Math.random() * 4000) * 2);
  const sidecars: SegmentSidecar[] = [];
  const sources = await client.sources('show');
  assert.deepEqual(sources.map((s) => s.sourceId).sort(), ['cam-a', 'cam-b']);
  const tracks = sources.map((source) => {
    const track = source.tracks[0];
    assert.ok(track);
    return new TrackRecorder({
      node: client,
      roomId: 'show',
      producerId: track.producerId,
      // Where the recorder puts a track (Recorder.ts): <room>/<source>/<kind>-<producer8>.
      dir: join(dir, 'show', source.sourceId, `video-${track.producerId.slice(0, 8)}`),
      ip: '127.0.0.1',
      ports,
      segmentSeconds: SEGMENT_SECONDS,
      logger: createLogger('warn'),
      onSegment: (_path, sidecar) => {
        sidecars.push(sidecar);
      },
    });
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the senders are running
    await Promise.all(tracks.map((t) => t.start()));
    await new Promise((resolve) => setTimeout(resolve, RECORD_MS));
    await Promise.all(tracks.map((t) => t.stop()));
  } finally {
    for (const camera of Object.values(cameras)) camera.close();
  }

  // The cut list, on the recording's show clock: cuts seconds apart inside the recorded span,
  // none within 300 ms of a segment boundary, b's first shot across one of its boundaries.
  const of = (source: string): SegmentSidecar[] =>
    sidecars.filter((s) => s.sourceId === source).sort((x, y) => x.index - y.index);
  const endOf = (s: SegmentSidecar): number => s.startWallClockMs + s.durationSeconds * 1000;
  const a = of('cam-a');
  const b = of('cam-b');
  assert.ok(a.length >= 3 && b.length >= 3, `segments: ${JSON.stringify(sidecars.map((s) => s.file))}`);
  const boundaries = [...a, ...b].map((s) => s.startWallClockMs);
  const clearOfBoundaries = (ms: number): number => {
    let at = ms;
    while (boundaries.some((boundary) => Math.abs(boundary - at) < 300)) at += 137;
    return at;
  };
  const origin = Math.max(a[0]?.startWallClockMs ?? 0, b[0]?.startWallClockMs ?? 0) + 300;
  const plan: [number, string, number][] = [
    [0, 'cam-a', 0],
    // Not on the program's frame grid: each cut rounds to its nearest frame.
    [2317, 'cam-b', 0],
    [6911, 'cam-a', 0],
    [8223, 'cam-b', FADE_MS],
    [10_139, 'cam-a', 0],
  ];
  const cuts: CutEntry[] = plan.map(([offset, sourceId, fadeMs], seq) => ({
    seq,
    atMs: clearOfBoundaries(origin + offset),
    sourceId,
    kind: fadeMs > 0 ? 'fade' : 'cut',
    durationMs: fadeMs,
  }));
  const lastEnd = Math.min(...[a, b].map((s) => endOf(s[s.length - 1] as SegmentSidecar)));
  assert.ok((cuts[cuts.length - 1]?.atMs ?? 0) < lastEnd - 1000, 'the last cut is inside the recording');
  await writeFile(join(dir, 'show', 'cuts.jsonl'), cuts.map((c) => `${JSON.stringify(c)}\n`).join(''));

  const started = Date.now();
  const cli = await execFileAsync(
    process.execPath,
    ['--import', 'tsx', 'src/render/cli.ts', 'show', '--dir', dir],
    { cwd: recorderDir, maxBuffer: 1 << 20 },
  ).catch((error: { stdout?: string; stderr?: string }) => {
    assert.fail(`program:render failed: ${error.stderr ?? ''}\n${error.stdout ?? ''}`);
  });
  const renderMs = Date.now() - started;
  const out = join(dir, 'show', 'program.mp4');
  assert.match(cli.stdout, new RegExp(`wrote ${out.replace(/[.]/g, '\\.')} `));
  const { timeline } = JSON.parse(await readFile(`${out}.json`, 'utf8')) as { timeline: Timeline };
  // From the first cut to the end of the last program source's (a's) recording.
  assert.equal(timeline.startMs, cuts[0]?.atMs);
  const aEnd = endOf(a[a.length - 1] as SegmentSidecar);
  assert.ok(Math.abs(timeline.endMs - aEnd) <= 1000 / FPS, `ends ${timeline.endMs - aEnd} ms from a's end`);
  // b's first shot crosses b's segment boundaries: one piece per file, nothing black.
  const bShot = timeline.spans[1]?.layer.video ?? [];
  assert.ok(
    bShot.length >= 2 && bShot.every((c) => c.type === 'piece'),
    `b's shot: ${JSON.stringify(bShot)}`,
  );

  const frames = await programColours(out);
  assert.equal(frames.length, timeline.frames, 'the program has every planned frame');
  // Program time of a show-clock time, in frames (not rounded: the error is measured from it).
  const frameOf = (ms: number): number => ((ms - timeline.startMs) * FPS) / 1000;
  const errors: number[] = [];
  for (const [i, cut] of cuts.entries()) {
    const expected = frameOf(cut.atMs);
    const colour = colourOf[cut.sourceId ?? ''];
    const from = Math.floor(frameOf(cuts[i - 1]?.atMs ?? cut.atMs));
    if (cut.kind === 'fade') {
      // Linear cross-fade: the first frame is still the old source, the middle one half and half,
      // the new source alone from the fade's end.
      const start = Math.round(expected);
      const fadeFrames = (FADE_MS * FPS) / 1000;
      assert.equal(frames[start - 1]?.colour, 'red', 'before the fade');
      assert.equal(frames[start + fadeFrames]?.colour, 'blue', 'after the fade');
      const [r, , bl] = frames[start + fadeFrames / 2]?.rgb ?? [0, 0, 0];
      assert.ok(Math.abs(r - 128) < 30 && Math.abs(bl - 128) < 30, `mid-fade ${r},${bl}`);
      // Where the fade starts, from its weights: frame k at weight w started k − w·length frames ago.
      const starts = frames
        .map((f, k) => ({ k, w: f.rgb[2] / (f.rgb[0] + f.rgb[2]) }))
        .filter(({ k, w }) => k > start - 5 && k < start + fadeFrames + 5 && w > 0.1 && w < 0.9)
        .map(({ k, w }) => k - w * fadeFrames);
      errors.push(starts.reduce((sum, x) => sum + x, 0) / starts.length - expected);
      continue;
    }
    // The first frame of the new colour after the previous cut (and after a fade, once it is over).
    const measured = frames.findIndex(
      (f, k) => k >= from && f.colour === colour && frames[k - 1]?.colour !== colour,
    );
    errors.push(measured - expected);
  }
  const worst = Math.max(...errors.map(Math.abs));
  assert.ok(
    worst <= 1,
    `cuts land ${errors.map((e) => `${((e * 1000) / FPS).toFixed(1)} ms`).join(', ')} from their times`,
  );
  // Nothing but the program sources' colours outside the fade.
  const fadeStart = Math.round(frameOf(cuts[3]?.atMs ?? 0));
  const stray = frames.findIndex((f, k) => f.colour === 'mixed' && (k < fadeStart || k > fadeStart + 18));
  assert.equal(stray, -1, `frame ${stray} is ${JSON.stringify(frames[stray]?.rgb)}`);
  process.stdout.write(
    `# cut errors (ms): ${errors.map((e) => ((e * 1000) / FPS).toFixed(1)).join(' ')}; worst ${((worst * 1000) / FPS).toFixed(1)} ms; render of ${(timeline.frames / FPS).toFixed(1)} s took ${renderMs} ms\n`,
  );
});
