import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { journalFile } from './journalFile.ts';
import type { Logger } from './log.ts';
import type { NodeClient } from './NodeClient.ts';
import { firstSegmentStart, type Probe, probeSegment, remux } from './probe.ts';
import { sendBye } from './RtpRelay.ts';
import { type RunState, readRunStates, runFiles, SEGMENT_FILE, writeRunState } from './runs.ts';
import { type FinishedSegment, parseSegmentLine } from './segments.ts';
import {
  isoOrUnknown,
  type LostSegmentSidecar,
  type SegmentSidecar,
  segmentSidecar,
  writeSidecar,
} from './sidecar.ts';
import type { UploadJournal } from './UploadJournal.ts';

export interface RecoveryOptions {
  /** The recordings directory (MICROSTUDIO_RECORDINGS_DIR). */
  dir: string;
  journal: UploadJournal;
  /** To end the node-side recordings of crashed runs (they would keep sending RTP). */
  node?: NodeClient;
  logger: Logger;
  ffmpegPath?: string;
  ffprobePath?: string;
  /** How long an orphaned ffmpeg gets to close its segment after the BYE. */
  orphanWaitMs?: number;
}

export interface RecoveryReport {
  runs: number;
  /** Runs that did not stop cleanly (the recorder or its ffmpeg was killed). */
  crashedRuns: number;
  /** ffmpeg processes of a killed recorder that were still running: ended with a BYE (or killed). */
  orphansEnded: number;
  /** Closed segments (or sidecars) that were on disk but not journaled: journaled now. */
  rejournaled: string[];
  /** Open segments remuxed to playable files. */
  recovered: string[];
  /** Open segments that could not be recovered: their show-clock ranges. */
  lost: { file: string; startIso: string; endIso: string; reason: string }[];
}

/**
 * Startup scan after a crash (kill -9, power loss, OOM): for every run of every track under the
 * recordings directory that did not stop cleanly,
 *
 *  - an ffmpeg that outlived its recorder (it does: it is not killed with its parent) is ended
 *    with an RTCP BYE on its RTP port, so it closes and lists its open segment normally — nothing
 *    is lost; if it does not go, it is killed (only a process whose command line names this run);
 *  - the node-side recording is stopped;
 *  - every closed segment (listed by ffmpeg) gets its sidecar and is journaled if it was not;
 *  - the open segment (on disk, never listed) is probed: if anything in it can be read it is
 *    remuxed with `-c copy` into a playable file (sidecar `recovered: true`, start = the previous
 *    segment's end on the run's show clock); if not, it is renamed `.lost` and a `lost: true`
 *    sidecar with its show-clock range is written, journaled (uploaded) and logged.
 *
 * Runs that stopped cleanly are only checked for segments missing from the journal. Nothing here
 * overwrites a closed segment: a restarted recorder numbers its segments after every existing one.
 */
export async function recover(o: RecoveryOptions): Promise<RecoveryReport> {
  const report: RecoveryReport = {
    runs: 0,
    crashedRuns: 0,
    orphansEnded: 0,
    rejournaled: [],
    recovered: [],
    lost: [],
  };
  for (const trackDir of await trackDirs(o.dir)) {
    const prefix = relative(o.dir, trackDir).split(sep).join('/');
    const runs = await readRunStates(trackDir);
    const names = await readdir(trackDir);
    for (const [i, run] of runs.entries()) {
      report.runs += 1;
      const endIndex = runs[i + 1]?.firstIndex ?? Number.POSITIVE_INFINITY;
      await recoverRun(o, report, { trackDir, prefix, run, endIndex, names });
    }
  }
  const { crashedRuns, orphansEnded, rejournaled, recovered, lost } = report;
  if (crashedRuns > 0 || rejournaled.length > 0)
    o.logger.info('recovery done', {
      runs: report.runs,
      crashedRuns,
      orphansEnded,
      rejournaled: rejournaled.length,
      recovered: recovered.length,
      lost: lost.length,
    });
  return report;
}

async function recoverRun(
  o: RecoveryOptions,
  report: RecoveryReport,
  t: { trackDir: string; prefix: string; run: RunState; endIndex: number; names: string[] },
): Promise<void> {
  const { trackDir, prefix, run } = t;
  const files = runFiles(trackDir, run.runId);
  const crashed = !run.closed;
  let anchorMs: number | undefined;
  if (crashed) {
    report.crashedRuns += 1;
    // Killed before its origin reached disk: the node's anchor (first packet sent) is the next best.
    if (run.originMs === null)
      anchorMs = await o.node
        ?.get(run.recordingId)
        .then((info) => info.anchor?.wallClockMs)
        .catch(() => undefined);
    if (await endOrphan(o, run, files.list)) report.orphansEnded += 1;
    await o.node?.stop(run.recordingId).catch(() => {}); // already gone after a node restart: fine
  }
  const rows = await readSegmentList(files.list);
  let origin = run.originMs ?? Number.NaN;
  if (!Number.isFinite(origin)) origin = await originFromSidecars(trackDir, rows);
  if (!Number.isFinite(origin) && anchorMs !== undefined) origin = anchorMs;
  const listed = new Set<string>();
  let mediaEnd = 0;
  const journal = async (key: string, path: string): Promise<void> => {
    if (o.journal.has(key)) return;
    await journalFile(o.journal, key, path);
    report.rejournaled.push(key);
  };
  for (const [i, row] of rows.entries()) {
    const path = join(trackDir, row.file);
    if (!existsSync(path)) continue;
    const key = `${prefix}/${row.file}`;
    // ffmpeg lists a segment just before it closes the file: the last one of a crashed run that
    // never reached the journal is checked before it is trusted.
    if (crashed && i === rows.length - 1 && !o.journal.has(key)) {
      const probe = await probeSegment(path, o.ffprobePath);
      if (!probe || probe.packets === 0) break; // handled below as the open segment
    }
    listed.add(row.file);
    mediaEnd = row.endSeconds;
    if (!(await readableJson(`${path}.json`))) {
      const start = i === 0 ? await firstSegmentStart(path, row, o.ffprobePath) : row.startSeconds;
      const sidecar = segmentSidecar(
        run,
        { file: row.file, mediaStartSeconds: start, durationSeconds: row.endSeconds - start },
        origin,
      );
      await writeSidecar(path, sidecar);
    }
    await journal(key, path);
    await journal(`${key}.json`, `${path}.json`);
  }
  if (crashed) {
    const open = t.names
      .map((name) => ({ name, match: SEGMENT_FILE.exec(name) }))
      .filter(({ name, match }) => {
        if (!match || listed.has(name) || match[2] !== run.extension) return false;
        const index = Number(match[1]);
        return index >= run.firstIndex && index < t.endIndex;
      })
      .map(({ name }) => name)
      .sort();
    for (const file of open) {
      const duration = await recoverOpenSegment(o, report, { trackDir, prefix, run, file, mediaEnd, origin });
      mediaEnd += Number.isFinite(duration) ? duration : 0;
    }
    await writeRunState(files.state, { ...run, closed: true });
  }
}

/** Remuxes an open segment into a playable file, or records it as lost. Returns its duration. */
async function recoverOpenSegment(
  o: RecoveryOptions,
  report: RecoveryReport,
  s: { trackDir: string; prefix: string; run: RunState; file: string; mediaEnd: number; origin: number },
): Promise<number> {
  const path = join(s.trackDir, s.file);
  const key = `${s.prefix}/${s.file}`;
  if (o.journal.has(key)) {
    // Recovered by an earlier start that died before marking the run closed: remuxing it again
    // could change its bytes under the journaled ETag.
    const done = JSON.parse(
      await readFile(`${path}.json`, 'utf8').catch(() => '{}'),
    ) as Partial<SegmentSidecar>;
    return done.durationSeconds ?? Number.NaN;
  }
  const { size, mtimeMs } = await stat(path);
  const startWallClockMs = Math.round(s.origin + s.mediaEnd * 1000);
  const tmp = `${path}.remux`;
  let reason = 'empty file';
  let probe: Probe | null = null;
  if (size > 0) {
    const readable = await probeSegment(path, o.ffprobePath);
    if (readable && readable.packets > 0) {
      try {
        await remux(path, tmp, s.run.format, o.ffmpegPath);
        probe = await probeSegment(tmp, o.ffprobePath);
        reason = 'nothing readable after remuxing';
      } catch (error) {
        reason = `remux failed: ${String(error).slice(0, 200)}`;
      }
    } else reason = readable ? 'no complete frame' : 'not readable';
  }
  // The newest media the recorder had passed on before it died (within a second).
  const reachedMs = Math.round(s.origin + (s.run.mediaSeconds ?? 0) * 1000);
  if (probe && probe.packets > 0 && Number.isFinite(probe.durationSeconds)) {
    await rename(tmp, path);
    const sidecar: SegmentSidecar = {
      ...segmentSidecar(
        s.run,
        { file: s.file, mediaStartSeconds: s.mediaEnd, durationSeconds: probe.durationSeconds },
        s.origin,
      ),
      recovered: true,
    };
    const endMs = Math.round(sidecar.startWallClockMs + probe.durationSeconds * 1000);
    if (Number.isFinite(reachedMs) && reachedMs > endMs)
      sidecar.lostTail = {
        startWallClockMs: endMs,
        startIso: isoOrUnknown(endMs),
        endWallClockMs: reachedMs,
        endIso: isoOrUnknown(reachedMs),
      };
    await writeSidecar(path, sidecar);
    await journalFile(o.journal, key, path);
    await journalFile(o.journal, `${key}.json`, `${path}.json`);
    report.recovered.push(key);
    o.logger.warn('recovered the open segment of an interrupted recording', {
      file: key,
      start: sidecar.startIso,
      durationSeconds: sidecar.durationSeconds,
      lostFrom: sidecar.lostTail?.startIso,
      lostTo: sidecar.lostTail?.endIso,
    });
    return probe.durationSeconds;
  }
  await rm(tmp, { force: true });
  await rename(path, `${path}.lost`);
  const lost: LostSegmentSidecar = {
    roomId: s.run.roomId,
    sourceId: s.run.sourceId,
    kind: s.run.kind,
    producerId: s.run.producerId,
    recordingId: s.run.recordingId,
    runId: s.run.runId,
    index: Number.parseInt(s.file, 10),
    file: s.file,
    lost: true,
    reason,
    startWallClockMs,
    startIso: isoOrUnknown(startWallClockMs),
    // Never before the start (the state is up to a second old, mtime has a coarse clock).
    endWallClockMs: Math.round(
      Number.isFinite(startWallClockMs)
        ? Math.max(mtimeMs, startWallClockMs, Number.isFinite(reachedMs) ? reachedMs : 0)
        : mtimeMs,
    ),
    endIso: '',
  };
  lost.endIso = isoOrUnknown(lost.endWallClockMs);
  await writeSidecar(path, lost);
  await journalFile(o.journal, `${key}.json`, `${path}.json`);
  report.lost.push({ file: key, startIso: lost.startIso, endIso: lost.endIso, reason });
  o.logger.error('lost the open segment of an interrupted recording', {
    file: key,
    from: lost.startIso,
    to: lost.endIso,
    reason,
  });
  return Number.NaN;
}

/**
 * An ffmpeg whose recorder was killed keeps running (and holds its open segment). A BYE on its RTP
 * port makes it close the segment and list it; a process that does not go is killed — only if its
 * command line names this run's segment list, so a reused pid is never touched.
 */
async function endOrphan(o: RecoveryOptions, run: RunState, listPath: string): Promise<boolean> {
  const pid = run.ffmpegPid;
  if (!pid || !(await isOurFfmpeg(pid, listPath))) return false;
  await sendBye(run.ffmpegRtpPort, run.ssrc);
  const waitMs = o.orphanWaitMs ?? 5000;
  if (await exitsWithin(pid, listPath, waitMs)) {
    o.logger.info('ended the ffmpeg of an interrupted recording; it closed its open segment', {
      pid,
      run: run.runId,
    });
    return true;
  }
  o.logger.warn('ffmpeg of an interrupted recording ignored BYE; killing it', { pid, run: run.runId });
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
  await exitsWithin(pid, listPath, 2000);
  return true;
}

async function isOurFfmpeg(pid: number, listPath: string): Promise<boolean> {
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.split('\0').includes(listPath)) return false;
    const status = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (after the parenthesised command): Z is a zombie, already done.
    return !/\)\s+[ZX]\s/.test(status);
  } catch {
    return false; // no such process (or no /proc: then it is left alone)
  }
}

async function exitsWithin(pid: number, listPath: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!(await isOurFfmpeg(pid, listPath))) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !(await isOurFfmpeg(pid, listPath));
}

async function readSegmentList(path: string): Promise<FinishedSegment[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const lines = text.split('\n');
  lines.pop(); // a line is complete only with its newline
  return lines.map(parseSegmentLine).filter((s): s is FinishedSegment => s !== undefined);
}

async function readableJson(path: string): Promise<boolean> {
  try {
    JSON.parse(await readFile(path, 'utf8'));
    return true;
  } catch {
    return false;
  }
}

/** A run killed before its origin reached the state file: a sidecar written meanwhile has it. */
async function originFromSidecars(trackDir: string, rows: FinishedSegment[]): Promise<number> {
  for (const row of rows) {
    try {
      const sidecar = JSON.parse(
        await readFile(join(trackDir, `${row.file}.json`), 'utf8'),
      ) as SegmentSidecar;
      if (Number.isFinite(sidecar.startWallClockMs))
        return sidecar.startWallClockMs - row.startSeconds * 1000;
    } catch {
      // next
    }
  }
  return Number.NaN;
}

/** Directories holding run state files, up to <room>/<source>/<track>. */
async function trackDirs(root: string, depth = 0): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  if (entries.some((e) => e.isFile() && /^run-.+\.json$/.test(e.name))) found.push(root);
  if (depth >= 3) return found;
  for (const entry of entries)
    if (entry.isDirectory()) found.push(...(await trackDirs(join(root, entry.name), depth + 1)));
  return found.sort();
}
