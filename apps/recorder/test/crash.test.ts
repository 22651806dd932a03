import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { MediaNode } from '../../../sfu/src/node.ts';
import { expectedEtag } from '../src/etag.ts';
import { PART_SIZE } from '../src/journalFile.ts';
import { readRunStates, SEGMENT_FILE } from '../src/runs.ts';
import type { LostSegmentSidecar, SegmentSidecar } from '../src/sidecar.ts';
import { UploadJournal } from '../src/UploadJournal.ts';
import { recorderEnv, recorderToken, run, startMediaNode } from './media.ts';
import { startMoto } from './moto.ts';
import { encodeClip, FRAME_MS, locateSegment, type Vp8Clip, vp8Camera } from './vp8.ts';

/**
 * kill -9 of a real recorder process (src/main.ts, as `npm start` runs it) mid-recording, twice:
 * first the recorder alone while a segment is being uploaded in parts (its ffmpegs live on, the
 * multipart upload is left dangling), then the recorder with its ffmpegs (open segments cut off
 * mid-write). Each restart must recover, and recording must go on.
 */

/** The recorder's `recorder` token (minted once the node is up). */
let SECRET: string;
const BUCKET = 'microstudio-crash';
const ROOM = 'show';
const SEGMENT_SECONDS = 6;
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let node: MediaNode;
let moto: Awaited<ReturnType<typeof startMoto>>;
let dir: string;
let recordings: string;
const clips: Record<string, Vp8Clip> = {};
const children: ChildProcess[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'microstudio-crash-'));
  recordings = join(dir, 'recordings');
  node = await startMediaNode();
  SECRET = await recorderToken(node);
  moto = await startMoto(BUCKET);
  // cam-a: ~8.6 Mbit/s, so its 6 s segments (~6.5 MB) go up in two parts; cam-b: 0.8 Mbit/s.
  clips['cam-a'] = await encodeClip(join(dir, 'high.ivf'), { frames: 180, bitrate: '9M', noise: true });
  clips['cam-b'] = await encodeClip(join(dir, 'low.ivf'), { frames: 300, bitrate: '800k' });
});

after(async () => {
  for (const child of children) if (child.exitCode === null && child.pid) killGroup(child.pid);
  // ffmpegs a failed test may have orphaned (only ours: their command line names our directory).
  for (const pid of await ffmpegPids()) process.kill(pid, 'SIGKILL');
  await node?.close();
  moto?.stop();
  await rm(dir, { recursive: true, force: true });
});

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone
  }
}

interface RecorderProcess {
  child: ChildProcess;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startRecorder(rtpPort: number): RecorderProcess {
  const env = recorderEnv({
    MICROSTUDIO_SFU_URL: node.url,
    MICROSTUDIO_RECORDER_TOKEN: SECRET,
    MICROSTUDIO_ROOM: ROOM,
    MICROSTUDIO_RECORD_ALL: 'true',
    MICROSTUDIO_RECORDINGS_DIR: recordings,
    MICROSTUDIO_SEGMENT_SECONDS: String(SEGMENT_SECONDS),
    MICROSTUDIO_RECORDER_RTP_PORT: String(rtpPort),
    MICROSTUDIO_S3_ENDPOINT: moto.endpoint,
    MICROSTUDIO_S3_BUCKET: BUCKET,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  // Its own process group: "kill -9 the recorder and everything it started" is one kill(-pgid).
  const child = spawn(process.execPath, ['--no-warnings', '--import', 'tsx', MAIN], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output, exited };
}

async function until<T>(
  what: string,
  ms: number,
  probe: () => Promise<T | undefined | false>,
  context?: RecorderProcess,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) {
      // What is on disk and in the bucket, and what the recorder said: enough to see why.
      const listing: string[] = [];
      for (const d of await trackDirs())
        for (const n of await readdir(d)) listing.push(`${n}:${(await stat(join(d, n))).size}`);
      const objects = await moto.client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
      listing.push(...(objects.Contents ?? []).map((o) => `s3:${o.Key}:${o.Size}`));
      throw new Error(
        `timed out waiting for ${what}\n${listing.join(' ')}\n${context?.output.join('').slice(-3000) ?? ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function trackDirs(): Promise<string[]> {
  const found: string[] = [];
  const room = join(recordings, ROOM);
  for (const source of await readdir(room).catch(() => [] as string[]))
    for (const track of await readdir(join(room, source)).catch(() => [] as string[]))
      found.push(join(room, source, track));
  return found.sort();
}

/** Segments ffmpeg listed as closed, per run, in every track directory. */
async function closedSegments(): Promise<Map<string, { size: number; md5: string }>> {
  const closed = new Map<string, { size: number; md5: string }>();
  for (const trackDir of await trackDirs())
    for (const name of await readdir(trackDir)) {
      if (!name.endsWith('.csv')) continue;
      const lines = (await readFile(join(trackDir, name), 'utf8')).split('\n').slice(0, -1);
      for (const line of lines) {
        const path = join(trackDir, line.split(',')[0] ?? '');
        const bytes = await readFile(path);
        closed.set(path, { size: bytes.length, md5: createHash('md5').update(bytes).digest('hex') });
      }
    }
  return closed;
}

async function segmentFiles(): Promise<string[]> {
  const files: string[] = [];
  for (const trackDir of await trackDirs())
    for (const name of await readdir(trackDir)) if (SEGMENT_FILE.test(name)) files.push(join(trackDir, name));
  return files.sort();
}

async function runIds(): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const trackDir of await trackDirs()) for (const r of await readRunStates(trackDir)) ids.add(r.runId);
  return ids;
}

/** Every track has a closed segment from a run that is not in `before`. */
async function newRunsHaveClosedSegment(before: Set<string>): Promise<boolean> {
  const dirs = await trackDirs();
  if (dirs.length < 2) return false;
  for (const trackDir of dirs) {
    const fresh = (await readRunStates(trackDir)).filter((r) => !before.has(r.runId));
    let any = false;
    for (const r of fresh) {
      const list = await readFile(join(trackDir, `run-${r.runId}.csv`), 'utf8').catch(() => '');
      if (list.includes('\n')) any = true;
    }
    if (!any) return false;
  }
  return true;
}

async function ffmpegPids(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (cmdline.startsWith('ffmpeg\0') && dir && cmdline.includes(dir) && !/\)\s+Z\s/.test(stat))
      pids.push(Number(entry));
  }
  return pids;
}

async function dangling(client: S3Client): Promise<string[]> {
  const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: `${ROOM}/` }));
  return (listed.Uploads ?? []).map((u) => u.Key ?? '');
}

async function probeVideo(path: string): Promise<{ frames: number; errors: string }> {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-select_streams', 'v:0', '-count_frames'],
    ...['-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', path],
  ]);
  const stream = (JSON.parse(stdout) as { streams: { codec_name: string; nb_read_frames: string }[] })
    .streams[0];
  assert.equal(stream?.codec_name, 'vp8', `${path} has a VP8 stream`);
  const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-']);
  return { frames: Number(stream?.nb_read_frames), errors: stderr.trim() };
}

test('kill -9 mid-recording, twice: closed segments intact and uploaded once, open segments recovered or reported lost, no dangling multipart upload, recording resumes', async (t) => {
  const room = await node.registry.open(ROOM);
  const t0 = Date.now() + 200;
  const cams = {
    'cam-a': await vp8Camera(room, 'cam-a', clips['cam-a'] as Vp8Clip, t0),
    'cam-b': await vp8Camera(room, 'cam-b', clips['cam-b'] as Vp8Clip, t0),
  };
  const rtpPort = 47000 + Math.floor(Math.random() * 4000) * 2;
  const log: string[] = [];
  try {
    // 1. kill -9 the recorder alone, while it uploads a segment in parts.
    const r1 = startRecorder(rtpPort);
    await until(
      'a multipart upload in progress',
      60_000,
      async () => (await dangling(moto.client)).length > 0,
      r1,
    );
    moto.process.kill('SIGSTOP'); // hold the upload where it is
    r1.child.kill('SIGKILL');
    const killed1 = Date.now();
    await r1.exited;
    moto.process.kill('SIGCONT');
    log.push(...r1.output);
    const closedAtKill1 = await closedSegments();
    const openAtKill1 = (await segmentFiles()).filter((f) => !closedAtKill1.has(f));
    const orphans = await ffmpegPids();
    const danglingAtKill = await dangling(moto.client);
    assert.ok(danglingAtKill.length > 0, 'the kill left a multipart upload unfinished');
    assert.equal(orphans.length, 2, 'both ffmpegs outlived their recorder');
    assert.ok(openAtKill1.length >= 1, 'a segment was open at the kill');
    const runs1 = await runIds();

    // 2. Restart: recovery, then recording goes on. Then kill -9 recorder and ffmpegs together.
    const r2 = startRecorder(rtpPort);
    await until('recorder 2 ready', 30_000, async () => r2.output.join('').includes('recorder ready'), r2);
    assert.deepEqual(await ffmpegPids().then((p) => p.filter((pid) => orphans.includes(pid))), []);
    await until('recorder 2 closed a segment per track', 40_000, () => newRunsHaveClosedSegment(runs1), r2);
    // Halfway into the next segment: some of it is on disk (ffmpeg writes a cluster per
    // keyframe, i.e. every second, and on a busy box runs a second or so behind).
    await new Promise((resolve) => setTimeout(resolve, 3500));
    killGroup(r2.child.pid as number);
    const killed2 = Date.now();
    t.diagnostic(`kill 2 at ${new Date(killed2).toISOString()}`);
    await r2.exited;
    log.push(...r2.output);
    const closedAtKill2 = await closedSegments();
    const openAtKill2 = (await segmentFiles()).filter((f) => !closedAtKill2.has(f));
    assert.ok(openAtKill2.length >= 1, 'a segment was open at the second kill');
    const runs2 = await runIds();

    // 3. Restart again, record a segment, stop cleanly (SIGTERM).
    const r3 = startRecorder(rtpPort);
    await until('recorder 3 ready', 30_000, async () => r3.output.join('').includes('recorder ready'), r3);
    // A second recorder on the same directory would take the first one's ffmpegs for orphans.
    const intruder = startRecorder(rtpPort + 1000);
    assert.equal((await intruder.exited).code, 1);
    assert.match(intruder.output.join(''), /another recorder \(pid \d+\) is using/);
    await until('recorder 3 closed a segment per track', 40_000, () => newRunsHaveClosedSegment(runs2), r3);
    r3.child.kill('SIGTERM');
    const exit = await r3.exited;
    log.push(...r3.output);
    const fullLog = log.join('');
    const context = fullLog.slice(-4000);
    assert.deepEqual(exit, { code: 0, signal: null }, context);

    // Closed segments are byte for byte what they were at each kill.
    for (const [path, before] of [...closedAtKill1, ...closedAtKill2]) {
      const bytes = await readFile(path);
      assert.equal(bytes.length, before.size, `${path} unchanged`);
      assert.equal(createHash('md5').update(bytes).digest('hex'), before.md5, `${path} unchanged`);
    }
    assert.match(fullLog, /ended the ffmpeg of an interrupted recording; it closed its open segment/);
    // The segment open at the first kill was closed by its own ffmpeg (BYE): a normal segment.
    for (const path of openAtKill1) {
      const sidecar = JSON.parse(await readFile(`${path}.json`, 'utf8')) as SegmentSidecar;
      assert.equal(sidecar.recovered, undefined, `${path} was closed by its ffmpeg`);
      assert.ok(sidecar.durationSeconds > 0);
    }
    // The ones open at the second kill were cut off: recovered playable, or reported lost.
    let recovered = 0;
    for (const path of openAtKill2) {
      const sidecar = JSON.parse(await readFile(`${path}.json`, 'utf8')) as SegmentSidecar &
        Partial<LostSegmentSidecar>;
      if (sidecar.lost) {
        assert.ok(existsSync(`${path}.lost`) && !existsSync(path));
        assert.ok(
          sidecar.startWallClockMs <= (sidecar.endWallClockMs ?? 0) && sidecar.endIso,
          JSON.stringify(sidecar),
        );
        assert.match(fullLog, /lost the open segment/);
      } else {
        assert.equal(sidecar.recovered, true, `${path}: recovered`);
        recovered += 1;
      }
      t.diagnostic(
        `open at kill 2: ${relative(recordings, path)} ${sidecar.lost ? `lost ${sidecar.startIso}–${sidecar.endIso} (${sidecar.reason}, ${(await stat(`${path}.lost`)).size} bytes)` : `recovered, ${sidecar.durationSeconds} s${sidecar.lostTail ? `, lost after: ${sidecar.lostTail.startIso}–${sidecar.lostTail.endIso}` : ''}`}`,
      );
    }
    t.diagnostic(
      `kill 1: ${closedAtKill1.size} closed, ${openAtKill1.length} open segments, ${orphans.length} orphaned ffmpegs, dangling multipart: ${danglingAtKill.join(', ')}`,
    );
    assert.ok(recovered >= 1, 'at least one cut-off segment was recoverable');
    assert.match(fullLog, /recovered the open segment of an interrupted recording/);

    // Every segment plays, starts where its first frame was captured, and recording resumed.
    const segments = await segmentFiles();
    const byTrack = new Map<string, SegmentSidecar[]>();
    for (const path of segments) {
      const sidecar = JSON.parse(await readFile(`${path}.json`, 'utf8')) as SegmentSidecar;
      const { frames, errors } = await probeVideo(path);
      assert.ok(frames > 0, `${path} has frames`);
      assert.equal(errors, '', `${path} decodes without errors`);
      const cam = cams[sidecar.sourceId as keyof typeof cams];
      const where = await locateSegment(
        path,
        clips[sidecar.sourceId] as Vp8Clip,
        cam.sender,
        sidecar.startWallClockMs,
      );
      if (!where.consecutive) {
        // Frames can only go missing where the recorder has no say: packets the node lost on
        // the way in (a CPU-starved node on a 2-core box drops bursts at its socket).
        const [stats] = await cam.producer.getStats();
        assert.ok((stats?.packetsLost ?? 0) > 0, `${path}: frames missing, yet the node lost no packet`);
      }
      const lost = async () => (await cam.producer.getStats())[0]?.packetsLost ?? 0;
      assert.ok(
        Math.abs(sidecar.startWallClockMs - where.captureMs) <= FRAME_MS,
        `${path}: starts ${sidecar.startWallClockMs - where.captureMs} ms from its first frame (recovered: ${sidecar.recovered}; packets the node lost from this camera: ${await lost()})`,
      );
      const list = byTrack.get(sidecar.producerId) ?? [];
      list.push(sidecar);
      byTrack.set(sidecar.producerId, list);
    }
    assert.equal(byTrack.size, 2);
    for (const list of byTrack.values()) {
      const runsOf = new Set(list.map((s) => s.runId));
      assert.equal(runsOf.size, 3, 'three runs: before, between and after the kills');
      assert.ok(list.some((s) => s.startWallClockMs > killed1 && s.runId !== list[0]?.runId));
      assert.ok(list.some((s) => s.startWallClockMs > killed2));
      for (let i = 1; i < list.length; i++)
        assert.ok((list[i]?.startWallClockMs ?? 0) > (list[i - 1]?.startWallClockMs ?? 0), 'in order');
    }

    // The journal is drained; the bucket has every segment and sidecar exactly once, as on disk.
    const journal = new UploadJournal(join(recordings, 'uploads.jsonl'));
    assert.deepEqual(
      journal.pending().map((e) => e.key),
      [],
    );
    journal.close();
    const expected = new Map<string, string>();
    for (const trackDir of await trackDirs())
      for (const name of await readdir(trackDir))
        if (SEGMENT_FILE.test(name) || /^\d{6,}\.(webm|mkv)\.json$/.test(name))
          expected.set(relative(recordings, join(trackDir, name)).split(sep).join('/'), join(trackDir, name));
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await moto.client.send(
        new ListObjectsV2Command({ Bucket: BUCKET, ...(token ? { ContinuationToken: token } : {}) }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
      token = page.NextContinuationToken;
    } while (token);
    assert.deepEqual(keys.sort(), [...expected.keys()].sort(), 'every segment and sidecar, once');
    let multipart = 0;
    for (const [key, path] of expected) {
      const { size } = await stat(path);
      const head = await moto.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      assert.equal(head.ContentLength, size, key);
      assert.equal(head.ETag, await expectedEtag(path, size, PART_SIZE), key);
      if (size > PART_SIZE) multipart += 1;
    }
    assert.ok(multipart >= 2, 'segments went up in parts');
    assert.deepEqual(await dangling(moto.client), [], 'no multipart upload left dangling');
    assert.match(fullLog, /aborted an unfinished multipart upload left by an earlier run/);
    // Nothing left running: no ffmpeg, no recording consumer on the node.
    assert.deepEqual(await ffmpegPids(), []);
    assert.deepEqual(node.recordings.list(), []);
  } finally {
    for (const cam of Object.values(cams)) cam.close();
  }
});
