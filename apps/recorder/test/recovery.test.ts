import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { silentLogger } from '../src/log.ts';
import { probeSegment } from '../src/probe.ts';
import { recover } from '../src/Recovery.ts';
import { type RunState, runFiles, writeRunState } from '../src/runs.ts';
import type { LostSegmentSidecar, SegmentSidecar } from '../src/sidecar.ts';
import { UploadJournal } from '../src/UploadJournal.ts';
import { run } from './media.ts';

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'microstudio-recovery-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * A track directory as a killed recorder leaves it: ffmpeg's segments 0–2 (2 s each) written, but
 * its list only names 0 and 1 — 2 was open. `open` says how much of segment 2 reached the disk.
 */
async function crashedTrack(
  name: string,
  open: 'partial' | 'header',
): Promise<{ trackDir: string; run: RunState }> {
  const trackDir = join(dir, 'recordings', 'show', name, 'video-0123abcd');
  await mkdir(trackDir, { recursive: true });
  const runId = '20260101T000000000Z';
  const files = runFiles(trackDir, runId);
  await run('ffmpeg', [
    ...['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=30', '-t', '6'],
    ...[
      '-c:v',
      'libvpx',
      '-deadline',
      'realtime',
      '-cpu-used',
      '8',
      '-g',
      '30',
      '-b:v',
      '400k',
      '-f',
      'segment',
    ],
    ...['-segment_time', '2', '-segment_format', 'webm', '-reset_timestamps', '1'],
    ...['-segment_list', files.list, '-segment_list_type', 'csv', join(trackDir, '%06d.webm')],
  ]);
  const lines = (await readFile(files.list, 'utf8')).split('\n');
  await writeFile(files.list, `${lines.slice(0, 2).join('\n')}\n`);
  const openPath = join(trackDir, '000002.webm');
  await truncate(openPath, open === 'header' ? 40 : Math.floor((await readFile(openPath)).length * 0.6));
  const state: RunState = {
    version: 1,
    runId,
    roomId: 'show',
    sourceId: name,
    kind: 'video',
    producerId: '0123abcd-0000-4000-8000-000000000000',
    recordingId: 'rec-1',
    codec: 'video/VP8',
    extension: 'webm',
    format: 'webm',
    firstIndex: 0,
    ffmpegPid: null,
    ffmpegRtpPort: 9,
    ssrc: 1234,
    startedAtMs: 1_767_225_600_000,
    originMs: 1_767_225_600_500,
    // The recorder had relayed up to 5.9 s when it died (the file has less: ffmpeg's buffers).
    mediaSeconds: 5.9,
    closed: false,
  };
  await writeRunState(files.state, state);
  return { trackDir, run: state };
}

test('recovery: closed segments get sidecars and are journaled; a readable open segment is remuxed playable; an unreadable one is reported lost with its time range; a second start changes nothing', async () => {
  const a = await crashedTrack('cam-a', 'partial');
  const b = await crashedTrack('cam-b', 'header');
  const recordings = join(dir, 'recordings');
  const journal = new UploadJournal(join(recordings, 'uploads.jsonl'));
  // Segment 0's sidecar reached the disk before the kill; nothing reached the journal.
  await writeFile(
    join(a.trackDir, '000000.webm.json'),
    JSON.stringify({ startWallClockMs: a.run.originMs, note: 'written before the kill' }),
  );
  const report = await recover({ dir: recordings, journal, logger: silentLogger });
  assert.equal(report.crashedRuns, 2);
  assert.deepEqual(report.recovered, ['show/cam-a/video-0123abcd/000002.webm']);
  assert.equal(report.lost.length, 1);
  assert.equal(report.lost[0]?.file, 'show/cam-b/video-0123abcd/000002.webm');

  // cam-a: the open segment is now a playable file that starts where segment 1 ended.
  const recovered = JSON.parse(
    await readFile(join(a.trackDir, '000002.webm.json'), 'utf8'),
  ) as SegmentSidecar;
  assert.equal(recovered.recovered, true);
  assert.equal(recovered.mediaStartSeconds, 4);
  assert.equal(recovered.startWallClockMs, 1_767_225_604_500);
  assert.ok(recovered.durationSeconds > 0 && recovered.durationSeconds < 2);
  // What ffmpeg had not written yet is reported: from the recovered end to where the media got.
  assert.deepEqual(
    recovered.lostTail && [recovered.lostTail.startWallClockMs, recovered.lostTail.endWallClockMs],
    [Math.round(recovered.startWallClockMs + recovered.durationSeconds * 1000), 1_767_225_606_400],
  );
  const probe = await probeSegment(join(a.trackDir, '000002.webm'));
  assert.ok(probe && probe.packets > 0 && Math.abs(probe.durationSeconds - recovered.durationSeconds) < 1e-6);
  const { stderr } = await run('ffmpeg', [
    '-v',
    'error',
    '-i',
    join(a.trackDir, '000002.webm'),
    '-f',
    'null',
    '-',
  ]);
  assert.equal(stderr.trim(), '', 'the recovered segment decodes without errors');
  // A sidecar already on disk is kept; missing ones are written from the segment list.
  assert.equal(
    JSON.parse(await readFile(join(a.trackDir, '000000.webm.json'), 'utf8')).note,
    'written before the kill',
  );
  const second = JSON.parse(await readFile(join(a.trackDir, '000001.webm.json'), 'utf8')) as SegmentSidecar;
  assert.equal(second.startWallClockMs, 1_767_225_602_500);
  assert.equal(second.durationSeconds, 2);

  // cam-b: nothing readable: renamed .lost, a lost sidecar with its show-clock range.
  const lost = JSON.parse(await readFile(join(b.trackDir, '000002.webm.json'), 'utf8')) as LostSegmentSidecar;
  assert.equal(lost.lost, true);
  assert.equal(lost.startWallClockMs, 1_767_225_604_500);
  assert.ok(lost.endWallClockMs >= lost.startWallClockMs);
  assert.ok(existsSync(join(b.trackDir, '000002.webm.lost')) && !existsSync(join(b.trackDir, '000002.webm')));

  // Journaled: every segment and sidecar, plus the lost sidecar (not the lost file).
  const keys = journal
    .all()
    .map((e) => e.key)
    .sort();
  const expected = ['000000.webm', '000000.webm.json', '000001.webm', '000001.webm.json'];
  assert.deepEqual(keys, [
    ...[...expected, '000002.webm', '000002.webm.json'].map((f) => `show/cam-a/video-0123abcd/${f}`),
    ...[...expected, '000002.webm.json'].map((f) => `show/cam-b/video-0123abcd/${f}`),
  ]);
  const state = JSON.parse(await readFile(runFiles(a.trackDir, a.run.runId).state, 'utf8')) as RunState;
  assert.equal(state.closed, true);

  // Restarting again finds nothing to do.
  const again = await recover({ dir: recordings, journal, logger: silentLogger });
  assert.deepEqual(
    {
      crashed: again.crashedRuns,
      rejournaled: again.rejournaled,
      recovered: again.recovered,
      lost: again.lost,
    },
    { crashed: 0, rejournaled: [], recovered: [], lost: [] },
  );
  journal.close();
});
