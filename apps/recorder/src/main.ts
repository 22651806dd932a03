import { readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '@microstudio/config';
import { CutListFollower } from './CutListFollower.ts';
import { DiskGuard } from './DiskGuard.ts';
import { journalFile } from './journalFile.ts';
import { createLogger, type Logger } from './log.ts';
import { NodeClient } from './NodeClient.ts';
import { PortAllocator } from './ports.ts';
import { RECORDER_ID, Recorder } from './Recorder.ts';
import { recover } from './Recovery.ts';
import { Retention } from './Retention.ts';
import { recorderTokenProblem } from './recorderToken.ts';
import { createS3Client } from './s3.ts';
import { Uploader } from './Uploader.ts';
import { UploadJournal } from './UploadJournal.ts';

/** On SIGTERM/SIGINT, queued uploads get this long to finish; the rest stays journaled. */
const STOP_DRAIN_MS = 15_000;
/** While the recordings directory is unusable, it is checked (and the control room told) this often. */
const DIR_RETRY_MS = 5000;
/** How often a changed cut list is snapshotted for upload (and once more at stop). */
const CUTS_SNAPSHOT_MS = 60_000;

/**
 * `npm start -w @microstudio/recorder`: the recorder service. Talks to the media node at
 * MICROSTUDIO_SFU_URL with its MICROSTUDIO_RECORDER_TOKEN (a `recorder` token); records the MICROSTUDIO_ROOM sources the
 * control room's Record plan names (every source with MICROSTUDIO_RECORD_ALL=true), writes the
 * program's cut list beside them, and reports its status to the node for the control room;
 * uploads to MICROSTUDIO_S3_BUCKET when set. At start it waits for a writable recordings
 * directory (telling the control room why it waits), recovers what a killed predecessor left
 * (Recovery.ts), then records.
 */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`recorder: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.MICROSTUDIO_LOG_LEVEL, undefined, config.MICROSTUDIO_LOG_FORMAT);
  const token = config.MICROSTUDIO_RECORDER_TOKEN;
  const problem = token
    ? recorderTokenProblem(token, config.MICROSTUDIO_ROOM)
    : 'MICROSTUDIO_RECORDER_TOKEN is not set';
  if (!token || problem) {
    process.stderr.write(
      `recorder: ${problem} (npm start mints one; elsewhere: node scripts/recorder-token.mjs; see README: Recorder)\n`,
    );
    process.exit(1);
  }
  // Relative paths are from the repository root, as for the studio's data directory.
  const dir = resolve(fileURLToPath(new URL('../../..', import.meta.url)), config.MICROSTUDIO_RECORDINGS_DIR);
  const node = new NodeClient(config.MICROSTUDIO_SFU_URL, token);
  const disk = new DiskGuard({
    dir,
    warnBytes: config.MICROSTUDIO_RECORDER_DISK_WARN_BYTES,
    minBytes: config.MICROSTUDIO_RECORDER_DISK_MIN_BYTES,
  });
  await usableDirectory(dir, disk, node, config.MICROSTUDIO_ROOM, log);
  lockRecordings(dir);
  const journal = new UploadJournal(join(dir, 'uploads.jsonl'));
  const recovery = await recover({ dir, journal, node, logger: log.child('recovery') });
  const bucket = config.MICROSTUDIO_S3_BUCKET;
  // Our keys start with a room: multipart uploads left under these by a killed run are aborted.
  const rooms = new Set([config.MICROSTUDIO_ROOM, ...journal.all().map((e) => e.key.split('/')[0] ?? '')]);
  const retention = new Retention({
    dir,
    journal,
    keepHours: config.MICROSTUDIO_RECORDER_KEEP_UPLOADED_HOURS,
    logger: log.child('retention'),
  });
  const uploader = bucket
    ? new Uploader({
        client: createS3Client({
          region: config.MICROSTUDIO_S3_REGION,
          ...(config.MICROSTUDIO_S3_ENDPOINT ? { endpoint: config.MICROSTUDIO_S3_ENDPOINT } : {}),
        }),
        bucket,
        journal,
        logger: log.child('upload'),
        ownedPrefixes: [...rooms].filter(Boolean).map((room) => `${room}/`),
        retention,
      })
    : undefined;
  uploader?.start();
  retention.start();
  const recorder = new Recorder({
    node,
    roomId: config.MICROSTUDIO_ROOM,
    dir,
    ports: new PortAllocator('127.0.0.1', config.MICROSTUDIO_RECORDER_RTP_PORT),
    ip: '127.0.0.1',
    segmentSeconds: config.MICROSTUDIO_SEGMENT_SECONDS,
    journal,
    uploader,
    disk,
    recordAll: config.MICROSTUDIO_RECORD_ALL,
    logger: log,
  });
  recorder.follow();
  const cuts = new CutListFollower({
    node,
    roomId: config.MICROSTUDIO_ROOM,
    path: join(dir, config.MICROSTUDIO_ROOM, 'cuts.jsonl'),
    logger: log.child('cuts'),
  });
  cuts.start();
  // The cut list goes to the bucket as snapshots (CutListFollower.snapshot), each journaled.
  const uploadCuts = async (): Promise<void> => {
    const copy = await cuts.snapshot().catch((error: unknown) => {
      log.warn('cannot snapshot the cut list', { error: String(error) });
      return undefined;
    });
    if (!copy) return;
    const key = `${config.MICROSTUDIO_ROOM}/cuts/${basename(copy)}`;
    await (uploader ? uploader.enqueue(key, copy) : journalFile(journal, key, copy)).catch((error: unknown) =>
      log.warn('cannot journal the cut list', { error: String(error) }),
    );
  };
  const cutsTimer = setInterval(() => void uploadCuts(), CUTS_SNAPSHOT_MS);
  const recovered =
    recovery.crashedRuns > 0
      ? `, recovered ${recovery.crashedRuns} interrupted run(s): ${recovery.recovered.length} open segment(s) remuxed, ${recovery.lost.length} lost, ${recovery.rejournaled.length} file(s) journaled`
      : '';
  process.stdout.write(
    `recorder ready: ${dir} (room ${config.MICROSTUDIO_ROOM}, ${config.MICROSTUDIO_RECORD_ALL ? 'recording every source' : "recording what the control room's Record asks for"}, uploads ${bucket ? `to ${bucket}` : 'off: no MICROSTUDIO_S3_BUCKET'}, ${journal.pending().length} queued${recovered})\n`,
  );
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    recorder
      .stop()
      .then(() => cuts.stop())
      .then(() => {
        clearInterval(cutsTimer);
        return uploadCuts();
      })
      .then(async () => {
        // The last segments were just journaled: give them a bounded chance to reach the bucket.
        if (uploader && !(await uploader.drained(STOP_DRAIN_MS)))
          log.warn('stopping with uploads still queued; they resume at the next start', {
            pending: uploader.pending,
          });
        await uploader?.stop();
        await retention.stop();
      })
      .then(() => {
        journal.close();
        process.exit(0);
      })
      .catch(() => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // An idle recorder is still a service waiting for work: keep the process up until told to stop.
  const idle = setInterval(() => undefined, 1 << 30);
  process.once('exit', () => clearInterval(idle));
}

/**
 * Returns once `dir` exists and is writable. Until then it says why in the log and to the
 * control room (a status with the disk in 'error'), every DIR_RETRY_MS: a recorder started
 * before its disk is mounted, or pointed at a read-only path, waits visibly instead of exiting.
 */
async function usableDirectory(
  dir: string,
  disk: DiskGuard,
  node: NodeClient,
  roomId: string,
  log: Logger,
): Promise<void> {
  for (;;) {
    const { state, problem } = await disk.check();
    if (state !== 'error') return;
    log.error('recordings directory unusable; retrying', { dir, problem, retryInMs: DIR_RETRY_MS });
    await node
      .report(roomId, {
        recorderId: RECORDER_ID,
        at: Date.now(),
        disk: disk.status,
        uploads: { state: 'off', bucket: null, pending: 0, pendingBytes: 0, confirmed: 0, lastError: null },
        tracks: [],
        errors: [{ at: Date.now(), message: (problem ?? 'recordings directory unusable').slice(0, 500) }],
      })
      .catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, DIR_RETRY_MS));
  }
}

/**
 * One recorder per recordings directory: a second one would end the first one's ffmpegs as
 * "orphans" at its start and abort its multipart uploads. The lock is a pid file; a stale one
 * (its process is gone, or the pid now belongs to something else) is taken over.
 */
function lockRecordings(dir: string): void {
  const path = join(dir, 'recorder.pid');
  let holder = 0;
  try {
    holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
  } catch {
    // no lock yet
  }
  if (holder > 0 && holder !== process.pid && isRecorder(holder)) {
    process.stderr.write(
      `recorder: another recorder (pid ${holder}) is using ${dir}; stop it first (or delete ${path} if it is not one)\n`,
    );
    process.exit(1);
  }
  writeFileSync(path, `${process.pid}\n`);
  process.once('exit', () => rmSync(path, { force: true }));
}

function isRecorder(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Runs this same script (argv as given, relative to that process's working directory)?
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    const me = resolve(process.argv[1] ?? '');
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .some((arg) => arg.endsWith('.ts') && resolve(cwd, arg) === me);
  } catch {
    return true; // alive, and no /proc to tell: assume it is one
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `recorder: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
