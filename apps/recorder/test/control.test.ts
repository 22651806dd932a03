import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RecorderStatus } from '@microstudio/protocol';
import type { MediaNode } from '../../../sfu/src/node.ts';
import type { RecordingDesk } from '../../../sfu/src/recording/RecordingDesk.ts';
import { recordingSink } from '../../../sfu/test/rtp.ts';
import { DiskGuard } from '../src/DiskGuard.ts';
import { createLogger } from '../src/log.ts';
import { NodeClient } from '../src/NodeClient.ts';
import { PortAllocator } from '../src/ports.ts';
import { Recorder } from '../src/Recorder.ts';
import { UploadJournal } from '../src/UploadJournal.ts';
import { ffmpegCamera, recorderEnv, recorderToken, run, startMediaNode } from './media.ts';

/** The recorder's `recorder` token (minted once the node is up). */
let SECRET: string;
const MB = 1024 * 1024;
let node: MediaNode;
let scratch: string;
const mounts: string[] = [];

before(async () => {
  node = await startMediaNode();
  SECRET = await recorderToken(node);
  scratch = await mkdtemp(join(tmpdir(), 'microstudio-control-'));
});

after(async () => {
  for (const dir of mounts) {
    try {
      execFileSync('umount', ['-l', dir]);
    } catch {
      // already gone
    }
  }
  await node.close();
  await rm(scratch, { recursive: true, force: true });
});

/** A small tmpfs of its own: a disk that really fills up, or really is read-only. */
function mountTmpfs(dir: string, sizeBytes: number, readOnly = false): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}${readOnly ? ',ro' : ''}`, 'tmpfs', dir]);
    mounts.push(dir);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, read: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function deskOf(roomId: string): RecordingDesk {
  const desk = node.desks.get(roomId);
  assert.ok(desk, `room ${roomId} has a desk`);
  return desk;
}

const tracksOf = (status: RecorderStatus | null, state = 'recording'): string[] =>
  (status?.tracks ?? [])
    .filter((t) => t.state === state)
    .map((t) => t.sourceId)
    .sort();

async function segmentsDecode(dir: string): Promise<number> {
  let count = 0;
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.webm')) {
        const { stderr } = await run('ffmpeg', ['-v', 'error', '-i', path, '-f', 'null', '-']);
        assert.equal(stderr.trim(), '', `${path} decodes without errors`);
        count += 1;
      }
    }
  };
  await walk(dir);
  return count;
}

function recorderFor(
  roomId: string,
  dir: string,
  disk: DiskGuard,
): { recorder: Recorder; journal: UploadJournal } {
  mkdirSync(dir, { recursive: true });
  const journal = new UploadJournal(join(dir, 'uploads.jsonl'));
  const recorder = new Recorder({
    node: new NodeClient(node.url, SECRET),
    roomId,
    dir,
    ports: new PortAllocator('127.0.0.1', 41000 + Math.floor(Math.random() * 2000) * 2),
    ip: '127.0.0.1',
    segmentSeconds: 4,
    journal,
    uploader: undefined,
    disk,
    logger: createLogger('error'),
  });
  return { recorder, journal };
}

test("the recorder follows the control room's plan: nothing, then all, then all but one; its status reaches the node", async () => {
  const room = await node.registry.open('plan');
  const camA = await ffmpegCamera(room, 'cam-a');
  const camB = await ffmpegCamera(room, 'cam-b');
  const dir = join(scratch, 'plan');
  const disk = new DiskGuard({ dir: scratch, warnBytes: 0, minBytes: 0 });
  const { recorder, journal } = recorderFor('plan', dir, disk);
  const desk = deskOf('plan');
  try {
    recorder.follow(300);
    const idle = await until('a first status', () => desk.status ?? undefined);
    assert.deepEqual(idle.tracks, [], 'nothing planned, nothing recorded');
    assert.equal(idle.uploads.state, 'off');
    assert.equal(idle.disk.state, 'ok');

    desk.set(undefined, true);
    await until('both recording', () => (tracksOf(desk.status).join() === 'cam-a,cam-b' ? true : undefined));
    const growing = await until('duration and bytes', () =>
      desk.status?.tracks.every((t) => t.seconds > 1 && t.bytes > 10_000) ? desk.status : undefined,
    );
    assert.ok(growing.tracks.every((t) => t.kind === 'video'));

    desk.set('cam-b', false);
    await until('cam-b stopped', () => (tracksOf(desk.status).join() === 'cam-a' ? true : undefined));
    assert.ok(
      (await readdir(join(dir, 'plan', 'cam-b'), { recursive: true })).some((f) => f.endsWith('.webm')),
      "cam-b's segment is closed and on disk",
    );
    assert.ok(
      journal.all().some((e) => e.key.startsWith('plan/cam-b/')),
      "cam-b's closed segment is journaled for upload",
    );
  } finally {
    await recorder.stop();
    journal.close();
    camA.close();
    camB.close();
  }
  assert.ok((await segmentsDecode(dir)) >= 2);
});

test('a disk that fills up: warned, then recording stops cleanly with a clear error, nothing written is lost; freeing space resumes', async (t) => {
  const dir = join(scratch, 'small-disk');
  await rm(dir, { recursive: true, force: true });
  await run('mkdir', ['-p', dir]);
  if (!mountTmpfs(dir, 8 * MB)) {
    t.skip('cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)');
    return;
  }
  // Leave ~0.6 MB above a 1 MB floor: an 800 kbit/s camera crosses it in a few seconds.
  const filler = join(dir, 'filler.bin');
  await writeFile(filler, Buffer.alloc(8 * MB - Math.round(1.6 * MB)));
  const room = await node.registry.open('disk');
  const cam = await ffmpegCamera(room, 'cam-a');
  const disk = new DiskGuard({ dir, warnBytes: 2 * MB, minBytes: 1 * MB });
  const { recorder, journal } = recorderFor('disk', dir, disk);
  const desk = deskOf('disk');
  try {
    recorder.follow(300);
    desk.set(undefined, true);
    await until('recording', () => (tracksOf(desk.status).join() === 'cam-a' ? true : undefined));
    const full = await until(
      'disk full',
      () => (desk.status?.disk.state === 'full' ? desk.status : undefined),
      40_000,
    );
    assert.ok(full.disk.freeBytes < 1 * MB);
    const error = full.errors.find((e) => e.message.startsWith('disk full'));
    assert.ok(error, JSON.stringify(full.errors));
    assert.match(error.message, /below the 1 MB floor/);
    assert.match(error.message, new RegExp(dir.replaceAll('/', '\\/')));
    await until('tracks stopped', () => (desk.status?.tracks.length === 0 ? true : undefined));
    const beforeFree = await segmentsDecode(dir);
    assert.ok(beforeFree >= 1, 'the segments written before the disk filled are closed and play');
    assert.equal(
      journal.all().filter((e) => e.key.endsWith('.webm')).length,
      beforeFree,
      'every closed segment is journaled',
    );

    await rm(filler);
    await until('recording again', () => (tracksOf(desk.status).join() === 'cam-a' ? true : undefined));
    assert.ok(['ok', 'low'].includes(desk.status?.disk.state ?? ''));
  } finally {
    await recorder.stop();
    journal.close();
    cam.close();
  }
});

test('an unwritable recordings path: the recorder service says why in the control room and its log, and starts once it is writable', async (t) => {
  const dir = join(scratch, 'read-only');
  await run('mkdir', ['-p', dir]);
  if (!mountTmpfs(dir, 8 * MB, true)) {
    t.skip('cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)');
    return;
  }
  // Someone in the room, so it stays open while the recorder waits.
  const room = await node.registry.open('ro');
  room.join({ role: 'viewer', displayName: 'viewer', clientId: 'viewer-ro', sink: recordingSink() });
  const desk = deskOf('ro');
  const env = recorderEnv({
    MICROSTUDIO_SFU_URL: node.url,
    MICROSTUDIO_RECORDER_TOKEN: SECRET,
    MICROSTUDIO_ROOM: 'ro',
    MICROSTUDIO_RECORDINGS_DIR: join(dir, 'recordings'),
    MICROSTUDIO_RECORDER_DISK_WARN_BYTES: '0',
    MICROSTUDIO_RECORDER_DISK_MIN_BYTES: '0',
    MICROSTUDIO_LOG_LEVEL: 'info',
  });
  const child: ChildProcess = spawn(
    process.execPath,
    ['--no-warnings', '--import', 'tsx', join(import.meta.dirname, '..', 'src', 'main.ts')],
    { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: join(import.meta.dirname, '..') },
  );
  let log = '';
  child.stdout?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  try {
    const refused = await until('an error status', () =>
      desk.status?.disk.state === 'error' ? desk.status : undefined,
    );
    assert.match(refused.errors[0]?.message ?? '', /cannot write recordings to .*read-only/);
    await until('the log line', () => (/recordings directory unusable/.test(log) ? true : undefined));
    assert.equal(child.exitCode, null, 'the service waits instead of exiting');

    execFileSync('mount', ['-o', 'remount,rw', dir]);
    await until('ready', () => (/recorder ready/.test(log) ? true : undefined), 20_000);
    await until('a healthy status', () => (desk.status?.disk.state === 'ok' ? true : undefined), 10_000);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
});
