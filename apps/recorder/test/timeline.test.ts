import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { CutEntry } from '@microstudio/protocol';
import { parseCutList } from '../src/render/cutList.ts';
import { RenderError } from '../src/render/errors.ts';
import { indexShow } from '../src/render/segmentIndex.ts';
import {
  type Clip,
  type IndexedSegment,
  type Piece,
  planTimeline,
  type Span,
  type Timeline,
} from '../src/render/timeline.ts';

const T0 = 1_700_000_000_000;

/** Contiguous segments of `seconds` each from `startMs`: files <source>/000000.webm, … */
function segments(source: string, startMs: number, lengths: number[]): IndexedSegment[] {
  let at = startMs;
  return lengths.map((seconds, i) => {
    const segment = {
      file: `${source}/${String(i).padStart(6, '0')}.webm`,
      startMs: at,
      endMs: at + seconds * 1000,
    };
    at += seconds * 1000;
    return segment;
  });
}

let seq = 0;
function cut(atMs: number, sourceId: string | null, fadeMs = 0): CutEntry {
  return { seq: seq++, atMs, sourceId, kind: fadeMs > 0 ? 'fade' : 'cut', durationMs: fadeMs };
}

/** Spans and their clips tile the program exactly: no frame twice, none missing. */
function assertTiles(timeline: Timeline): void {
  let frame = 0;
  for (const span of timeline.spans) {
    assert.equal(span.startFrame, frame, 'spans are contiguous');
    assert.ok(span.frames > 0, 'no empty span');
    const layers = [span.layer, ...(span.fade ? [span.fade.from] : [])];
    for (const layer of layers)
      for (const clips of [layer.video, layer.audio]) {
        let at = span.startFrame;
        for (const clip of clips) {
          assert.equal(clip.startFrame, at, 'clips are contiguous');
          assert.ok(clip.frames > 0);
          at += clip.frames;
        }
        assert.equal(at, span.startFrame + span.frames, 'clips fill their span');
      }
    frame += span.frames;
  }
  assert.equal(frame, timeline.frames);
}

const pieces = (clips: Clip[]): Piece[] => clips.filter((c): c is Piece => c.type === 'piece');
const summary = (span: Span): string =>
  `${span.fade ? `${span.fade.from.sourceId}>` : ''}${span.layer.sourceId}@${span.startFrame}+${span.frames}`;

describe('cut list', () => {
  test('parses valid lines (blank ones allowed) into show-clock order, ties in file order', () => {
    const text = [
      '{"seq":0,"atMs":2000,"sourceId":"a","kind":"cut","durationMs":0}',
      '',
      // After a node restart seq starts again: the file order is not the time order.
      '{"seq":0,"atMs":1000,"sourceId":"b","kind":"fade","durationMs":500}',
      '{"seq":1,"atMs":2000,"sourceId":null,"kind":"cut","durationMs":0}',
      '',
    ].join('\n');
    const cuts = parseCutList(text);
    assert.deepEqual(
      cuts.map((c) => [c.atMs, c.sourceId]),
      [
        [1000, 'b'],
        [2000, 'a'],
        [2000, null],
      ],
    );
  });

  test('a line that is not JSON names its line number', () => {
    const text = '{"seq":0,"atMs":1,"sourceId":"a","kind":"cut","durationMs":0}\n\n{"seq":1,"atMs":2,\n';
    assert.throws(
      () => parseCutList(text, 'show/cuts.jsonl'),
      (error: unknown) =>
        error instanceof RenderError && /^show\/cuts\.jsonl:3: not JSON/.test(error.message),
    );
  });

  test('a line that is not a cut entry names its line number and the field', () => {
    const bad = [
      ['{"seq":0,"atMs":1,"sourceId":"a","kind":"wipe","durationMs":0}', /cuts\.jsonl:2: .*kind/],
      ['{"seq":0,"atMs":-5,"sourceId":"a","kind":"cut","durationMs":0}', /cuts\.jsonl:2: .*atMs/],
      ['{"seq":0,"atMs":1,"kind":"cut","durationMs":0}', /cuts\.jsonl:2: .*sourceId/],
      ['{"seq":0,"atMs":1,"sourceId":"a","kind":"cut","durationMs":0,"extra":1}', /cuts\.jsonl:2: /],
      ['[1,2]', /cuts\.jsonl:2: not a cut entry/],
    ] as const;
    for (const [line, message] of bad) {
      const text = `{"seq":0,"atMs":1,"sourceId":"a","kind":"cut","durationMs":0}\n${line}\n`;
      assert.throws(
        () => parseCutList(text),
        (error: unknown) => error instanceof RenderError && message.test(error.message),
        line,
      );
    }
  });
});

describe('planTimeline', () => {
  test('cuts between two sources; a piece across a segment boundary is two pieces; ends with the last source', () => {
    const video = new Map([
      ['a', segments('a', T0 - 1000, [10, 10, 5.5])],
      ['b', segments('b', T0 - 500, [10, 10, 10])],
    ]);
    const cuts = [cut(T0, 'a'), cut(T0 + 3500, 'b'), cut(T0 + 12_210, 'a')];
    const timeline = planTimeline({ cuts, video });
    assertTiles(timeline);
    assert.equal(timeline.startMs, T0);
    // a's media ends at T0 − 1 s + 25.5 s.
    assert.equal(timeline.frames, Math.round(24.5 * 30));
    assert.equal(timeline.endMs, T0 + 24_500);
    assert.deepEqual(timeline.spans.map(summary), ['a@0+105', 'b@105+261', 'a@366+369']);
    const [first, second, third] = timeline.spans.map((s) => s.layer.video);
    assert.deepEqual(first, [
      {
        type: 'piece',
        sourceId: 'a',
        file: 'a/000000.webm',
        inSeconds: 1,
        outSeconds: 4.5,
        programStartSeconds: 0,
        startFrame: 0,
        frames: 105,
      },
    ]);
    // b's first segment ends at T0 + 9.5 s = program frame 285: b's span is two pieces.
    assert.deepEqual(
      second?.map((c) => [
        c.type === 'piece' && c.file,
        c.startFrame,
        c.frames,
        c.type === 'piece' && c.inSeconds,
      ]),
      [
        ['b/000000.webm', 105, 180, 4],
        ['b/000001.webm', 285, 81, 0],
      ],
    );
    const last = pieces(third ?? []);
    assert.deepEqual(
      last.map((p) => [p.file, p.inSeconds, p.outSeconds, p.programStartSeconds]),
      [
        // Frame 366 is T0 + 12.2 s (the cut at 12.21 s rounds to it): 3.2 s into a's second segment.
        ['a/000001.webm', 3.2, 10, 12.2],
        ['a/000002.webm', 0, 5.5, 19],
      ],
    );
    assert.deepEqual(timeline.warnings, []);
  });

  test('every cut lands on the frame nearest its time', () => {
    const video = new Map([
      ['a', segments('a', T0, [60])],
      ['b', segments('b', T0, [60])],
    ]);
    const times = [0, 1234, 2345.6, 7016.7, 7050, 33_333];
    const cuts = times.map((ms, i) => cut(T0 + ms, i % 2 ? 'b' : 'a'));
    const timeline = planTimeline({ cuts, video });
    assertTiles(timeline);
    for (const [i, ms] of times.entries()) {
      const span = timeline.spans[i];
      assert.ok(span);
      assert.ok(
        Math.abs(span.startFrame / 30 - ms / 1000) <= 1 / 60 + 1e-9,
        `cut ${i} at frame ${span.startFrame}`,
      );
    }
    // Two cuts within one frame: the later one is what that frame shows.
    const quick = planTimeline({ cuts: [cut(T0, 'a'), cut(T0 + 1000, 'b'), cut(T0 + 1010, 'a')], video });
    assert.deepEqual(quick.spans.map(summary).slice(0, 2), ['a@0+30', 'a@30+1770']);
  });

  test('gaps: nothing on program, a source not recorded, before the first cut', () => {
    const video = new Map([
      // a has a hole from T0 + 4 s to T0 + 6 s.
      ['a', [...segments('a', T0, [4]), ...segments('a2', T0 + 6000, [6])]],
      ['b', segments('b', T0, [12])],
    ]);
    const cuts = [cut(T0 + 1000, 'a'), cut(T0 + 8000, null), cut(T0 + 9000, 'b'), cut(T0 + 10_000, 'c')];
    const timeline = planTimeline({ cuts, video, fromMs: T0, toMs: T0 + 11_000 });
    assertTiles(timeline);
    const clips = timeline.spans.flatMap((s) => s.layer.video);
    assert.deepEqual(
      clips.map((c) => [c.type, c.sourceId, c.type === 'gap' ? c.reason : c.file, c.startFrame, c.frames]),
      [
        ['gap', null, 'no source', 0, 30],
        ['piece', 'a', 'a/000000.webm', 30, 90],
        ['gap', 'a', 'not recorded', 120, 60],
        ['piece', 'a', 'a2/000000.webm', 180, 60],
        ['gap', null, 'no source', 240, 30],
        ['piece', 'b', 'b/000000.webm', 270, 30],
        // c was cut to but never recorded.
        ['gap', 'c', 'not recorded', 300, 30],
      ],
    );
    assert.equal(timeline.warnings.length, 2);
    assert.match(timeline.warnings[0] ?? '', /^a not recorded at program 0:00:04\.000–0:00:06\.000/);
    assert.match(timeline.warnings[1] ?? '', /^c not recorded/);
  });

  test('a lost segment is black, named as lost', () => {
    const a = segments('a', T0, [10, 10, 10]);
    const [s0, s1, s2] = a;
    assert.ok(s0 && s1 && s2);
    const video = new Map([['a', [s0, { ...s1, lost: 'remux failed' }, s2]]]);
    const timeline = planTimeline({ cuts: [cut(T0, 'a')], video });
    assertTiles(timeline);
    assert.deepEqual(
      timeline.spans[0]?.layer.video.map((c) => [
        c.type === 'piece' ? c.file : c.reason,
        c.startFrame,
        c.frames,
      ]),
      [
        ['a/000000.webm', 0, 300],
        ['lost', 300, 300],
        ['a/000002.webm', 600, 300],
      ],
    );
    assert.match(timeline.warnings[0] ?? '', /lost in a crash at program 0:00:10\.000–0:00:20\.000/);
  });

  test('segments a few ms apart are joined; overlapping ones: the later wins', () => {
    const video = new Map([
      [
        'a',
        [
          { file: 'a0', startMs: T0, endMs: T0 + 4000 },
          // 40 ms hole (one frame): bridged by a0 (its last frame held).
          { file: 'a1', startMs: T0 + 4040, endMs: T0 + 8000 },
          // Overlaps a1 by a second (a restarted run): a1 ends where it starts.
          { file: 'a2', startMs: T0 + 7000, endMs: T0 + 9000 },
        ],
      ],
    ]);
    const timeline = planTimeline({ cuts: [cut(T0, 'a')], video });
    assertTiles(timeline);
    assert.deepEqual(
      timeline.spans[0]?.layer.video.map((c) => [c.type === 'piece' && c.file, c.startFrame, c.frames]),
      [
        ['a0', 0, 121],
        ['a1', 121, 89],
        ['a2', 210, 60],
      ],
    );
  });

  test('a fade cross-fades from the previous source for its duration, then the new source', () => {
    const video = new Map([
      ['a', segments('a', T0, [20])],
      ['b', segments('b', T0, [20])],
    ]);
    const cuts = [cut(T0, 'a'), cut(T0 + 5000, 'b', 500), cut(T0 + 10_000, 'a')];
    const timeline = planTimeline({ cuts, video, toMs: T0 + 12_000 });
    assertTiles(timeline);
    assert.deepEqual(timeline.spans.map(summary), ['a@0+150', 'a>b@150+15', 'b@165+135', 'a@300+60']);
    const fade = timeline.spans[1];
    assert.deepEqual(fade?.fade && { startFrame: fade.fade.startFrame, frames: fade.fade.frames }, {
      startFrame: 150,
      frames: 15,
    });
    assert.deepEqual(
      pieces(fade?.fade?.from.video ?? []).map((p) => [p.file, p.inSeconds, p.outSeconds]),
      [['a/000000.webm', 5, 5.5]],
    );
    assert.deepEqual(
      pieces(fade?.layer.video ?? []).map((p) => [p.file, p.inSeconds, p.outSeconds]),
      [['b/000000.webm', 5, 5.5]],
    );
  });

  test('a fade interrupted by the next cut ends there; a fade from nothing fades up from black', () => {
    const video = new Map([
      ['a', segments('a', T0, [20])],
      ['b', segments('b', T0, [20])],
    ]);
    const cuts = [cut(T0, 'a', 1000), cut(T0 + 5000, 'b', 2000), cut(T0 + 6000, 'a')];
    const timeline = planTimeline({ cuts, video, toMs: T0 + 7000 });
    assertTiles(timeline);
    assert.deepEqual(timeline.spans.map(summary), ['null>a@0+30', 'a@30+120', 'a>b@150+30', 'a@180+30']);
    assert.equal(timeline.spans[0]?.fade?.from.video[0]?.type, 'gap');
    // Cut off at the next cut, halfway: its weights still run over the whole 2 s.
    assert.equal(timeline.spans[2]?.fade?.frames, 60);
  });

  test('--from inside a fade starts it part-way; --to before the media ends', () => {
    const video = new Map([
      ['a', segments('a', T0, [20])],
      ['b', segments('b', T0, [20])],
    ]);
    const cuts = [cut(T0, 'a'), cut(T0 + 5000, 'b', 1000)];
    const timeline = planTimeline({ cuts, video, fromMs: T0 + 5500, toMs: T0 + 8000 });
    assertTiles(timeline);
    assert.deepEqual(timeline.spans.map(summary), ['a>b@0+15', 'b@15+60']);
    assert.equal(timeline.spans[0]?.fade?.startFrame, -15);
    assert.equal(pieces(timeline.spans[0]?.layer.video ?? [])[0]?.inSeconds, 5.5);
  });

  test('audio follows the program source; a source without audio is silent', () => {
    const video = new Map([
      ['a', segments('a', T0, [10])],
      ['b', segments('b', T0, [10])],
    ]);
    const audio = new Map([['a', segments('a-audio', T0 + 20, [10])]]);
    const timeline = planTimeline({ cuts: [cut(T0, 'a'), cut(T0 + 4000, 'b')], video, audio });
    assertTiles(timeline);
    const [a, b] = timeline.spans;
    assert.deepEqual(
      a?.layer.audio.map((c) => [
        c.type === 'piece' ? [c.file, c.inSeconds] : c.reason,
        c.startFrame,
        c.frames,
      ]),
      [
        // Its first 20 ms round to the frame grid: audio starts at frame 1, 13.3 ms into the file.
        ['not recorded', 0, 1],
        [['a-audio/000000.webm', 0.013333], 1, 119],
      ],
    );
    assert.deepEqual(
      b?.layer.audio.map((c) => [c.type, c.sourceId]),
      [['gap', 'b']],
    );
  });

  test('the last source has no media after its cut: the program ends at that cut', () => {
    const video = new Map([
      ['a', segments('a', T0, [10])],
      ['b', segments('b', T0, [3])],
    ]);
    const timeline = planTimeline({ cuts: [cut(T0, 'a'), cut(T0 + 5000, 'b')], video });
    assert.equal(timeline.frames, 150);
    assert.deepEqual(timeline.spans.map(summary), ['a@0+150']);
    assert.match(timeline.warnings[0] ?? '', /last program source b has no video after its cut/);
  });

  test('refuses an empty cut list and an end before the start', () => {
    const video = new Map([['a', segments('a', T0, [10])]]);
    assert.throws(() => planTimeline({ cuts: [], video }), RenderError);
    assert.throws(
      () => planTimeline({ cuts: [cut(T0, 'a')], video, fromMs: T0 + 5000, toMs: T0 + 1000 }),
      /nothing to render/,
    );
  });
});

describe('indexShow', () => {
  test('reads sidecars of every source and track, with lost segments and unusable sidecars', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'microstudio-index-'));
    try {
      const track = async (path: string, files: Record<string, object | string>): Promise<void> => {
        await mkdir(join(dir, path), { recursive: true });
        for (const [name, content] of Object.entries(files))
          await writeFile(
            join(dir, path, name),
            typeof content === 'string' ? content : JSON.stringify(content),
          );
      };
      const sidecar = (sourceId: string, kind: string, file: string, start: number | null) => ({
        roomId: 'show',
        sourceId,
        kind,
        file,
        index: Number.parseInt(file, 10),
        startWallClockMs: start,
        durationSeconds: 10,
        codec: 'video/VP8',
      });
      await track('cam-a/video-11111111', {
        '000000.webm': 'x',
        '000000.webm.json': sidecar('cam-a', 'video', '000000.webm', T0),
        '000001.webm.lost': 'x',
        '000001.webm.json': {
          sourceId: 'cam-a',
          kind: 'video',
          file: '000001.webm',
          lost: true,
          reason: 'empty file',
          startWallClockMs: T0 + 10_000,
          endWallClockMs: T0 + 13_000,
        },
        'run-x.json': { version: 1 },
      });
      // A reconnected camera: a second producer's track, merged into the source.
      await track('cam-a/video-22222222', {
        '000000.webm': 'x',
        '000000.webm.json': sidecar('cam-a', 'video', '000000.webm', T0 + 20_000),
        // Its segment is gone (deleted after upload).
        '000001.webm.json': sidecar('cam-a', 'video', '000001.webm', T0 + 30_000),
        '000002.webm': 'x',
        '000002.webm.json': sidecar('cam-a', 'video', '000002.webm', null),
        '000003.webm.json': '{"half": ',
      });
      await track('cam-a/audio-33333333', {
        '000000.webm': 'x',
        '000000.webm.json': sidecar('cam-a', 'audio', '000000.webm', T0 + 5),
      });
      const index = await indexShow(dir);
      assert.deepEqual(
        index.video
          .get('cam-a')
          ?.map((s) => [s.file.slice(dir.length + 1), s.startMs - T0, s.endMs - T0, s.lost]),
        [
          ['cam-a/video-11111111/000000.webm', 0, 10_000, undefined],
          ['cam-a/video-11111111/000001.webm', 10_000, 13_000, 'empty file'],
          ['cam-a/video-22222222/000000.webm', 20_000, 30_000, undefined],
        ],
      );
      assert.deepEqual(
        index.audio.get('cam-a')?.map((s) => s.startMs - T0),
        [5],
      );
      assert.equal(index.problems.length, 3, index.problems.join('\n'));
      assert.match(index.problems.join('\n'), /000001\.webm: listed by its sidecar but not on disk/);
      assert.match(index.problems.join('\n'), /000002\.webm: no show-clock start/);
      assert.match(index.problems.join('\n'), /000003\.webm\.json: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
