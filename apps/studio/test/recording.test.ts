import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ErrorCode,
  RECORDER_STALE_MS,
  type RecorderStatus,
  type RecorderTrack,
  type RecordingPlan,
} from '@microstudio/protocol';
import {
  diskCell,
  formatBytes,
  formatDuration,
  RECORDER_THRESHOLDS,
  recordErrorText,
  recorderErrorLines,
  recorderStale,
  recorderSummary,
  recordRows,
  sourceRecording,
  uploadCell,
} from '../lib/recording.ts';

const plan = (p: Partial<RecordingPlan> = {}): RecordingPlan => ({
  all: false,
  include: [],
  exclude: [],
  ...p,
});

const track = (t: Partial<RecorderTrack> = {}): RecorderTrack => ({
  sourceId: 'cam-1',
  kind: 'video',
  state: 'recording',
  seconds: 0,
  bytes: 0,
  segments: 0,
  ...t,
});

const status = (s: Partial<RecorderStatus> = {}): RecorderStatus => ({
  recorderId: 'box:1',
  at: 1_000,
  disk: { path: '/rec', freeBytes: 42e9, totalBytes: 100e9, warnBytes: 2e9, state: 'ok' },
  uploads: { state: 'off', bucket: null, pending: 0, pendingBytes: 0, confirmed: 0, lastError: null },
  tracks: [],
  errors: [],
  ...s,
});

describe('formatDuration', () => {
  it('is mm:ss, h:mm:ss from an hour, and 00:00 for nonsense', () => {
    assert.equal(formatDuration(0), '00:00');
    assert.equal(formatDuration(5.9), '00:05');
    assert.equal(formatDuration(83), '01:23');
    assert.equal(formatDuration(3599), '59:59');
    assert.equal(formatDuration(3600 + 125), '1:02:05');
    assert.equal(formatDuration(-3), '00:00');
    assert.equal(formatDuration(Number.NaN), '00:00');
  });
});

describe('formatBytes', () => {
  it('uses decimal units with one decimal below 100', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(950), '950 B');
    assert.equal(formatBytes(1000), '1.0 kB');
    assert.equal(formatBytes(4_100_000), '4.1 MB');
    assert.equal(formatBytes(1.2e9), '1.2 GB');
    assert.equal(formatBytes(99.96e6), '100 MB');
    assert.equal(formatBytes(120e9), '120 GB');
    assert.equal(formatBytes(3e12), '3.0 TB');
    assert.equal(formatBytes(-5), '0 B');
  });
});

describe('recorderStale', () => {
  it('is stale without a status and past RECORDER_STALE_MS, on the node clock', () => {
    const s = status();
    assert.equal(recorderStale(null, null, 0), true);
    assert.equal(recorderStale(1_000, null, 1_000), true);
    assert.equal(recorderStale(null, s, 1_000), true);
    assert.equal(recorderStale(1_000, s, 1_000 + RECORDER_STALE_MS), false);
    assert.equal(recorderStale(1_000, s, 1_001 + RECORDER_STALE_MS), true);
  });
});

describe('sourceRecording', () => {
  it('sums bytes, takes the longest track, and says recording when every track records', () => {
    const r = sourceRecording(
      [track({ seconds: 83.4, bytes: 4e6 }), track({ kind: 'audio', seconds: 82, bytes: 1e5 })],
      true,
      true,
      false,
    );
    assert.deepEqual(r.state, { text: 'recording', level: 'good' });
    assert.equal(r.duration, '01:23');
    assert.equal(r.size, '4.1 MB');
  });

  it('grades failed, starting, waiting and stale', () => {
    assert.deepEqual(
      sourceRecording([track({ state: 'failed', error: 'ffmpeg exited' })], true, true, false).state,
      {
        text: 'failed: ffmpeg exited',
        level: 'bad',
      },
    );
    assert.equal(
      sourceRecording([track(), track({ kind: 'audio', state: 'failed' })], true, true, false).state.text,
      'audio failed',
    );
    assert.equal(sourceRecording([track({ state: 'starting' })], true, true, false).state.level, 'warn');
    assert.deepEqual(sourceRecording([], true, true, false).state, {
      text: 'waiting for the recorder',
      level: 'warn',
    });
    assert.deepEqual(sourceRecording([], false, true, false).state, {
      text: 'not recording',
      level: 'unknown',
    });
    assert.equal(sourceRecording([], false, true, false).duration, '—');
    assert.equal(sourceRecording([track()], true, true, true).state.level, 'bad');
    assert.equal(
      sourceRecording([], true, false, false).state.text,
      'not in the room · records when it returns',
    );
  });
});

describe('recordRows', () => {
  it("lists the room's sources in order, then planned or reported sources that left", () => {
    const rows = recordRows({
      names: { 'cam-2': 'Cam B', 'cam-1': 'Cam A' },
      seenNames: { 'cam-1': 'Cam A', 'cam-2': 'Cam B', 'cam-9': 'Cam Z' },
      plan: plan({ include: ['cam-1', 'cam-9'] }),
      recorder: status({ tracks: [track({ sourceId: 'cam-1', seconds: 5, bytes: 2000 })] }),
      stale: false,
    });
    assert.deepEqual(
      rows.map((r) => [r.sourceId, r.name, r.present, r.planned, r.state.text, r.duration, r.size]),
      [
        ['cam-2', 'Cam B', true, false, 'not recording', '—', '—'],
        ['cam-1', 'Cam A', true, true, 'recording', '00:05', '2.0 kB'],
        ['cam-9', 'Cam Z', false, true, 'not in the room · records when it returns', '—', '—'],
      ],
    );
  });

  it('follows Record all with exclusions', () => {
    const rows = recordRows({
      names: { 'cam-1': 'Cam A', 'cam-2': 'Cam B' },
      seenNames: {},
      plan: plan({ all: true, exclude: ['cam-2', 'gone'] }),
      recorder: null,
      stale: true,
    });
    assert.deepEqual(
      rows.map((r) => [r.sourceId, r.name, r.planned]),
      [
        ['cam-1', 'Cam A', true],
        ['cam-2', 'Cam B', false],
        ['gone', 'gone', false],
      ],
    );
  });
});

describe('diskCell and uploadCell', () => {
  it('warns when the disk is low and is bad when full or unusable', () => {
    assert.deepEqual(diskCell(status().disk), { text: 'Disk: 42.0 GB free of 100 GB', level: 'good' });
    const low = { ...status().disk, freeBytes: 1.2e9, state: 'low' as const };
    assert.deepEqual(diskCell(low), { text: 'Disk low: 1.2 GB free', level: 'warn' });
    assert.equal(diskCell({ ...low, state: 'full' }).level, 'bad');
    assert.match(diskCell({ ...low, state: 'full' }).text, /^Disk full: 1\.2 GB free/);
    assert.deepEqual(diskCell({ ...low, state: 'error' }), {
      text: 'Disk error: /rec is unusable',
      level: 'bad',
    });
  });

  it('shows the queue and grades backlog and failures', () => {
    const base = status().uploads;
    assert.equal(uploadCell(base).level, 'unknown');
    assert.match(uploadCell(base).text, /no bucket/);
    const b = { ...base, bucket: 'show', confirmed: 12 };
    assert.deepEqual(uploadCell({ ...b, state: 'idle' }), {
      text: 'Uploads to show: up to date · 12 confirmed',
      level: 'good',
    });
    assert.deepEqual(uploadCell({ ...b, state: 'uploading', pending: 3, pendingBytes: 4.2e6 }), {
      text: 'Uploading to show: 3 files queued (4.2 MB) · 12 confirmed',
      level: 'good',
    });
    const behind = uploadCell({
      ...b,
      state: 'uploading',
      pending: RECORDER_THRESHOLDS.uploadBacklogWarnFiles + 1,
    });
    assert.equal(behind.level, 'warn');
    assert.match(behind.text, /falling behind/);
    const failing = uploadCell({ ...b, state: 'failing', pending: 1, pendingBytes: 10 });
    assert.deepEqual(failing, {
      text: 'Uploads to show failing: 1 file queued (10 B) · 12 confirmed',
      level: 'bad',
    });
  });
});

describe('recorderSummary', () => {
  it('is "not reporting": bad when something should record, unknown otherwise', () => {
    const idle = recorderSummary({ recorder: null, stale: true, plan: plan(), plannedPresent: 0 });
    assert.deepEqual(idle, {
      recorder: { text: 'not reporting', level: 'unknown' },
      disk: null,
      uploads: null,
    });
    const planned = recorderSummary({
      recorder: status(),
      stale: true,
      plan: plan({ all: true }),
      plannedPresent: 1,
    });
    assert.deepEqual(planned.recorder, { text: 'not reporting', level: 'bad' });
    assert.equal(planned.disk, null);
  });

  it('counts tracks by state', () => {
    const summary = (tracks: RecorderTrack[], plannedPresent = 0) =>
      recorderSummary({
        recorder: status({ tracks }),
        stale: false,
        plan: plan({ all: true }),
        plannedPresent,
      }).recorder;
    assert.deepEqual(summary([]), { text: 'idle', level: 'good' });
    assert.deepEqual(summary([], 2), { text: 'idle · waiting to record', level: 'warn' });
    assert.deepEqual(summary([track(), track({ kind: 'audio' })]), {
      text: 'recording 2 tracks',
      level: 'good',
    });
    assert.deepEqual(summary([track(), track({ state: 'starting' })]), {
      text: 'starting 1 track · recording 1 track',
      level: 'warn',
    });
    assert.deepEqual(summary([track(), track({ state: 'failed' })]), {
      text: '1 track failed · recording 1 track',
      level: 'bad',
    });
    const full = recorderSummary({
      recorder: status({ disk: { ...status().disk, state: 'full', freeBytes: 1e6 } }),
      stale: false,
      plan: plan(),
      plannedPresent: 0,
    });
    assert.equal(full.disk?.level, 'bad');
    assert.equal(full.uploads?.level, 'unknown');
  });
});

describe('recorderErrorLines and recordErrorText', () => {
  it('names the source of each recorder error, newest first as sent', () => {
    const lines = recorderErrorLines(
      [
        { at: Date.UTC(2026, 0, 1, 14, 3, 27), message: 'disk full', sourceId: 'cam-1' },
        { at: Date.UTC(2026, 0, 1, 14, 0, 0), message: 'upload failed' },
      ],
      { 'cam-1': 'Cam A' },
      'UTC',
    );
    assert.deepEqual(
      lines.map((l) => [l.time, l.text]),
      [
        ['14:03:27', 'Cam A: disk full'],
        ['14:00:00', 'upload failed'],
      ],
    );
  });

  it('says a NOT_FOUND plainly, and passes other failures through', () => {
    const notFound = Object.assign(new Error('record:set failed: NOT_FOUND: source "x" not found'), {
      code: ErrorCode.NotFound,
    });
    assert.equal(
      recordErrorText(notFound, 'Cam A', false),
      'Stop recording Cam A failed: Cam A is not in the room (NOT_FOUND). The plan is unchanged.',
    );
    assert.match(
      recordErrorText({ code: ErrorCode.Timeout }, undefined, true),
      /^Record all failed: .*TIMEOUT/,
    );
    assert.equal(recordErrorText(new Error('boom'), undefined, false), 'Stop recording all failed: boom');
  });
});
