/**
 * What recording costs: CPU per recorded track (720p and 1080p VP8 sources), the disk write rate
 * against the disk's own sequential rate, and upload throughput to a local S3 server. Prints
 * tables; passes or fails nothing.
 *
 * Real parts: the media node in-process (one mediasoup worker), sources fed over PlainTransports
 * by ffmpeg sending a pre-encoded clip with `-c copy` (no encoder in the measurement), the real
 * TrackRecorder (relay + ffmpeg -c copy into 10 s WebM segments), UploadJournal and Uploader
 * against a moto_server process.
 *
 *   npm run bench:recorder                        (root: provisions, then this package's script)
 *   npm run bench:recorder -w @microstudio/recorder
 *   RECORDER_SOURCES=720p,1080p RECORDER_TRACKS=1,4 RECORDER_WINDOW_S=20 RECORDER_WARMUP_S=4
 *   RECORDER_BASELINE_S=10 RECORDER_DISK_MB=256 RECORDER_UPLOAD_LARGE_MB=100 RECORDER_BENCH_DIR=<parent of the work dir>
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { MediaNode } from '../../../sfu/src/node.ts';
import { createLogger } from '../src/log.ts';
import { NodeClient } from '../src/NodeClient.ts';
import { PortAllocator } from '../src/ports.ts';
import { readRunStates, SEGMENT_FILE } from '../src/runs.ts';
import { TrackRecorder } from '../src/TrackRecorder.ts';
import { PART_SIZE, Uploader } from '../src/Uploader.ts';
import { UploadJournal } from '../src/UploadJournal.ts';
import { type Clip, ensureClip } from '../test/clips.ts';
import { ffmpegCamera, recorderToken, startMediaNode } from '../test/media.ts';
import { startMoto } from '../test/moto.ts';
import {
  cpuSeconds,
  mean,
  percentile,
  type Trace,
  traceCpu,
  udpDrops,
  udpDropsByProcess,
  writes,
} from './proc.ts';

const TRACKS = (process.env.RECORDER_TRACKS ?? '1,4').split(',').map(Number);
const SOURCES = (process.env.RECORDER_SOURCES ?? '720p,1080p').split(',');
const WINDOW_S = Number(process.env.RECORDER_WINDOW_S ?? 20);
const WARMUP_S = Number(process.env.RECORDER_WARMUP_S ?? 4);
const BASELINE_S = Number(process.env.RECORDER_BASELINE_S ?? 10);
const DISK_MB = Number(process.env.RECORDER_DISK_MB ?? 256);
const LARGE_MB = Number(process.env.RECORDER_UPLOAD_LARGE_MB ?? 100);
const SEGMENT_SECONDS = 10;
/**
 * The producers' receive buffer in the media node: the clip senders burst each frame's packets
 * (a real camera paces them and can NACK), and with the default 208 kB a busy box drops some at
 * ingress; one lost packet costs the recording the rest of its GOP. Not the recorder's cost.
 */
const INGRESS_BUFFER = 4 * 1024 * 1024;
/** The recorder's `recorder` token (minted once the node is up). */
let SECRET: string;
const BUCKET = 'microstudio-bench';
const GOAL = 0.02;
const MB = 1e6;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (share: number): string => (Number.isFinite(share) ? `${(share * 100).toFixed(2)} %` : 'n/a');
const mbps = (bytesPerSecond: number): string => `${(bytesPerSecond / MB).toFixed(2)} MB/s`;

/** Every child process this bench started, ended with SIGKILL if it is interrupted. */
const children = new Set<number>();
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(130);
  });

/** Sequential write of `mb` MB in 4 MiB blocks, then fsync: the disk's raw rate, bytes/s. */
async function diskWriteRate(dir: string, mb: number): Promise<number> {
  const path = join(dir, 'disk-rate.bin');
  const block = randomBytes(4 * 1024 * 1024);
  const total = mb * 1024 * 1024;
  const file = await open(path, 'w');
  const start = performance.now();
  try {
    for (let written = 0; written < total; written += block.length)
      await file.write(block, 0, Math.min(block.length, total - written));
    await file.sync();
  } finally {
    await file.close();
  }
  const seconds = (performance.now() - start) / 1000;
  await rm(path, { force: true });
  return total / seconds;
}

/** Bytes of segment files (closed and open) in a track directory. */
function segmentBytes(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) if (SEGMENT_FILE.test(name)) bytes += statSync(join(dir, name)).size;
  return bytes;
}

interface Scenario {
  clip: Clip;
  tracks: number;
  baseline: Trace;
  window: Trace;
  /** The mediasoup worker's share of a core, producers only and while recording. */
  workerShare: { baseline: number; recording: number };
  senderShare: number;
  /** Per recorded track: ffmpeg's share of a core (window), and its per-second samples. */
  recorders: { share: number; perSecond: number[] }[];
  relayPerTrack: number;
  /** Recorder total (ffmpeg + relay) per track, one sample per second. */
  totalPerSecond: number[];
  bytesPerSecondPerTrack: number;
  ffmpegWritesPerSecondPerTrack: number;
  packetsPerSecondPerTrack: number;
  /** Machine-wide UDP datagrams dropped at full receive buffers during the window. */
  udpRcvbufDrops: number;
  /** Of them, at the worker's sockets (producers' ingress), the relays', the recorders' ffmpegs'. */
  drops: { worker: number; relay: number; ffmpeg: number };
  ffmpegWarnings: number;
  /** The last of them (one track's), for context. */
  ffmpegLastWarning: string;
  reapedSeconds: number;
  segments: string[];
}

async function scenario(node: MediaNode, workDir: string, clip: Clip, count: number): Promise<Scenario> {
  const roomId = `bench-${clip.label}-${count}`;
  const room = await node.registry.open(roomId);
  const client = new NodeClient(node.url, SECRET);
  const ports = new PortAllocator('127.0.0.1', 47000 + Math.floor(Math.random() * 4000) * 2);
  const cameras: Awaited<ReturnType<typeof ffmpegCamera>>[] = [];
  const tracks: TrackRecorder[] = [];
  const segments: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const camera = await ffmpegCamera(room, `cam-${i}`, {
        clip: clip.path,
        recvBufferSize: INGRESS_BUFFER,
      });
      if (camera.pid !== undefined) children.add(camera.pid);
      cameras.push(camera);
    }
    const senderPids = cameras.map((c) => c.pid ?? -1);
    const workerPid = room.workerPid;
    await sleep(2000); // the senders are running and the producers receive

    // Without recording: what the worker (receiving the producers) and this process cost anyway.
    const baseline = await traceCpu([workerPid, ...senderPids], BASELINE_S);

    const sources = await client.sources(roomId);
    const dirs: string[] = [];
    for (const source of sources) {
      const track = source.tracks[0];
      if (!track) continue;
      const dir = join(workDir, roomId, source.sourceId);
      dirs.push(dir);
      tracks.push(
        new TrackRecorder({
          node: client,
          roomId,
          producerId: track.producerId,
          dir,
          ip: '127.0.0.1',
          ports,
          segmentSeconds: SEGMENT_SECONDS,
          logger: createLogger('warn'),
          onSegment: (path) => {
            segments.push(path);
          },
        }),
      );
    }
    await Promise.all(tracks.map((t) => t.start()));
    const recorderPids: number[] = [];
    for (const dir of dirs) {
      const pid = (await readRunStates(dir)).at(-1)?.ffmpegPid;
      if (typeof pid !== 'number') throw new Error(`no ffmpeg pid in ${dir}`);
      children.add(pid);
      recorderPids.push(pid);
    }
    await sleep(WARMUP_S * 1000);

    const bytes0 = dirs.map(segmentBytes);
    const writes0 = recorderPids.map(writes);
    const packets0 = tracks.map((t) => t.packets.received);
    const udp0 = udpDrops();
    const dropPids = [workerPid, process.pid, ...recorderPids];
    const drops0 = udpDropsByProcess(dropPids);
    const window = await traceCpu([workerPid, ...senderPids, ...recorderPids], WINDOW_S);
    const bytes1 = dirs.map(segmentBytes);
    const writes1 = recorderPids.map(writes);
    const packets1 = tracks.map((t) => t.packets.received);
    const udp1 = udpDrops();
    const drops1 = udpDropsByProcess(dropPids);
    const dropped = drops1.map((d, i) => d - (drops0[i] ?? 0));

    await Promise.all(tracks.map((t) => t.stop()));
    for (const pid of recorderPids) children.delete(pid);

    const n = tracks.length;
    const seconds = window.wallSeconds;
    const recorders = window.pids.slice(1 + count).map((p) => ({ share: p.share, perSecond: p.perSecond }));
    const relayPerTrack = (window.self.share - baseline.self.share) / n;
    const baselineSelf = baseline.self.share;
    const totalPerSecond: number[] = [];
    for (let i = 0; i < window.self.perSecond.length; i++) {
      const ffmpeg = mean(recorders.map((r) => r.perSecond[i] ?? Number.NaN));
      const relay = ((window.self.perSecond[i] ?? Number.NaN) - baselineSelf) / n;
      if (Number.isFinite(ffmpeg + relay)) totalPerSecond.push(ffmpeg + relay);
    }
    const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
    const writeCalls = sum(writes1.map((w, i) => (w?.calls ?? 0) - (writes0[i]?.calls ?? 0)));
    return {
      clip,
      tracks: n,
      baseline,
      window,
      workerShare: {
        baseline: baseline.pids[0]?.share ?? Number.NaN,
        recording: window.pids[0]?.share ?? Number.NaN,
      },
      senderShare: mean(window.pids.slice(1, 1 + count).map((p) => p.share)),
      recorders,
      relayPerTrack,
      totalPerSecond,
      bytesPerSecondPerTrack: sum(bytes1.map((b, i) => b - (bytes0[i] ?? 0))) / seconds / n,
      ffmpegWritesPerSecondPerTrack: writeCalls / seconds / n,
      packetsPerSecondPerTrack: sum(packets1.map((p, i) => p - (packets0[i] ?? 0))) / seconds / n,
      udpRcvbufDrops: udp1.rcvbuf - udp0.rcvbuf,
      drops: { worker: dropped[0] ?? 0, relay: dropped[1] ?? 0, ffmpeg: sum(dropped.slice(2)) },
      ffmpegWarnings: tracks.reduce(
        (k, t) => k + t.stderr.split('\n').filter((line) => line.trim() !== '').length,
        0,
      ),
      ffmpegLastWarning:
        tracks
          .map((t) => t.stderr.trim().split('\n').at(-1) ?? '')
          .filter((line) => line !== '')
          .at(-1) ?? '',
      reapedSeconds: window.reapedSeconds,
      segments,
    };
  } finally {
    await Promise.all(tracks.map((t) => t.stop()));
    for (const camera of cameras) {
      camera.close();
      if (camera.pid !== undefined) children.delete(camera.pid);
    }
    room.close();
  }
}

interface UploadPhase {
  what: string;
  files: number;
  multipart: number;
  bytes: number;
  journalSeconds: number;
  /** CPU seconds this process spent journaling (MD5 pass, fsync) and uploading. */
  journalCpu: number;
  uploadCpu: number;
  seconds: number;
  motoShare: number;
}

async function uploadBench(workDir: string, segments: string[]): Promise<UploadPhase[]> {
  const moto = await startMoto(BUCKET);
  const motoPid = moto.process.pid ?? -1;
  children.add(motoPid);
  const journal = new UploadJournal(join(workDir, 'uploads.jsonl'));
  const uploader = new Uploader({
    client: moto.client,
    bucket: BUCKET,
    journal,
    logger: createLogger('warn'),
  });
  const phases: UploadPhase[] = [];
  try {
    const phase = async (what: string, files: string[]): Promise<void> => {
      const sizes = files.map((f) => statSync(f).size);
      const j0 = performance.now();
      const jcpu0 = process.cpuUsage();
      // Journaling (size, expected ETag: an MD5 pass over the file, fsynced line) before uploading.
      for (const file of files) await uploader.enqueue(`bench/${relative(workDir, file)}`, file);
      const journalSeconds = (performance.now() - j0) / 1000;
      const jcpu = process.cpuUsage(jcpu0);
      const moto0 = cpuSeconds(motoPid) ?? Number.NaN;
      const self0 = process.cpuUsage();
      const start = performance.now();
      uploader.start();
      // Uploader.drained() looks every 100 ms: too coarse for uploads of a second or two.
      while (uploader.pending > 0) {
        if (performance.now() - start > 600_000)
          throw new Error(`upload did not drain: ${uploader.lastError}`);
        await sleep(10);
      }
      const seconds = (performance.now() - start) / 1000;
      await uploader.stop();
      const self = process.cpuUsage(self0);
      phases.push({
        what,
        files: files.length,
        multipart: sizes.filter((s) => s > PART_SIZE).length,
        bytes: sizes.reduce((a, b) => a + b, 0),
        journalSeconds,
        journalCpu: (jcpu.user + jcpu.system) / 1e6,
        uploadCpu: (self.user + self.system) / 1e6,
        seconds,
        motoShare: ((cpuSeconds(motoPid) ?? Number.NaN) - moto0) / seconds,
      });
    };
    await phase('recorded segments', segments);
    const large = join(workDir, 'large.bin');
    const file = await open(large, 'w');
    try {
      for (let written = 0; written < LARGE_MB * MB; written += 4 * MB)
        await file.write(randomBytes(Math.min(4 * MB, LARGE_MB * MB - written)));
    } finally {
      await file.close();
    }
    await phase(`one ${LARGE_MB} MB file (multipart)`, [large]);
    if (uploader.failures > 0) console.log(`upload retries: ${uploader.failures} (${uploader.lastError})`);
  } finally {
    await uploader.stop();
    journal.close();
    moto.stop();
    children.delete(motoPid);
  }
  return phases;
}

const ffmpegShare = (r: Scenario): number => mean(r.recorders.map((x) => x.share));
const recorderShare = (r: Scenario): number => ffmpegShare(r) + r.relayPerTrack;
const workerPerConsumer = (r: Scenario): number =>
  (r.workerShare.recording - r.workerShare.baseline) / r.tracks;
/** This process's CPU to journal and upload one track's bytes, as a share of a core. */
const uploadPerTrack = (p: UploadPhase, trackBytesPerSecond: number): number =>
  ((p.journalCpu + p.uploadCpu) / p.bytes) * trackBytesPerSecond;

function table(header: string[], rows: string[][]): void {
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

const parent = process.env.RECORDER_BENCH_DIR ?? tmpdir();
const workDir = await mkdtemp(join(parent, 'microstudio-bench-rec-'));
let node: MediaNode | undefined;
try {
  const specs = [
    { label: '720p', width: 1280, height: 720, kbps: 2500 },
    { label: '1080p', width: 1920, height: 1080, kbps: 4500 },
  ].filter((spec) => SOURCES.includes(spec.label));
  const clips: Clip[] = [];
  for (const spec of specs) clips.push(await ensureClip(spec));
  const disk = await diskWriteRate(workDir, DISK_MB);
  node = await startMediaNode();
  SECRET = await recorderToken(node);
  console.log(
    `recorder bench: ${clips.map((c) => `${c.label} VP8 ${(c.bitsPerSecond / 1e6).toFixed(2)} Mbit/s`).join(', ')} ` +
      `(30 fps, 1 s GOP, sent -c copy); ${SEGMENT_SECONDS} s segments; baseline ${BASELINE_S} s, ` +
      `warm-up ${WARMUP_S} s, window ${WINDOW_S} s; ${cpus().length} cores; recordings in ${workDir}`,
  );
  const results: Scenario[] = [];
  for (const clip of clips)
    for (const count of TRACKS) {
      const result = await scenario(node, workDir, clip, count);
      results.push(result);
      console.log(`  ${clip.label} × ${count}: recorder ${pct(recorderShare(result))} per track`);
    }
  await node.close();
  node = undefined;

  console.log('\nCPU per recorded track, % of one core (mean over the window; p50/p95 of 1 s samples)');
  table(
    [
      'source',
      'tracks',
      'ffmpeg -c copy',
      'ffmpeg p50 / p95',
      'relay (recorder process)',
      'recorder total',
      'total p50 / p95',
      'worker per plain consumer',
    ],
    results.map((r) => {
      const seconds = r.recorders.flatMap((x) => x.perSecond);
      return [
        r.clip.label,
        String(r.tracks),
        pct(ffmpegShare(r)),
        `${pct(percentile(seconds, 50))} / ${pct(percentile(seconds, 95))}`,
        pct(r.relayPerTrack),
        pct(recorderShare(r)),
        `${pct(percentile(r.totalPerSecond, 50))} / ${pct(percentile(r.totalPerSecond, 95))}`,
        pct(workerPerConsumer(r)),
      ];
    }),
  );
  console.log('\nContext: whole processes, % of one core (baseline = producers only, nothing recorded)');
  table(
    [
      'source',
      'tracks',
      'worker baseline → recording',
      'bench process baseline → recording',
      'sender per source (rig)',
      'RTP pkt/s per track',
      'relay CPU per packet',
      'machine softirq',
      'UDP drops: machine (worker / relay / ffmpeg)',
      'ffmpeg stderr lines',
      'ffprobe (one per run)',
    ],
    results.map((r) => [
      r.clip.label,
      String(r.tracks),
      `${pct(r.workerShare.baseline)} → ${pct(r.workerShare.recording)}`,
      `${pct(r.baseline.self.share)} → ${pct(r.window.self.share)}`,
      pct(r.senderShare),
      r.packetsPerSecondPerTrack.toFixed(0),
      `${((r.relayPerTrack / r.packetsPerSecondPerTrack) * 1e6).toFixed(1)} µs`,
      `${pct(r.baseline.machine.softirq)} → ${pct(r.window.machine.softirq)}`,
      `${r.udpRcvbufDrops} (${r.drops.worker} / ${r.drops.relay} / ${r.drops.ffmpeg})`,
      String(r.ffmpegWarnings),
      `${(r.reapedSeconds * 1000).toFixed(0)} ms CPU`,
    ]),
  );
  for (const r of results)
    if (r.ffmpegLastWarning)
      console.log(`  ${r.clip.label} × ${r.tracks}, ffmpeg said: ${r.ffmpegLastWarning}`);

  console.log(`\nDisk: raw sequential write (${DISK_MB} MiB, 4 MiB blocks, fsync) ${mbps(disk)}`);
  table(
    [
      'source',
      'tracks',
      'segments per track',
      'recorded ÷ sent',
      'total',
      'write calls/s per track',
      'share of raw rate',
      'tracks at raw rate',
    ],
    results.map((r) => {
      const total = r.bytesPerSecondPerTrack * r.tracks;
      return [
        r.clip.label,
        String(r.tracks),
        `${(r.bytesPerSecondPerTrack / 1e3).toFixed(0)} kB/s (${((r.bytesPerSecondPerTrack * 8) / 1e6).toFixed(2)} Mbit/s)`,
        `${((r.bytesPerSecondPerTrack / (r.clip.bitsPerSecond / 8)) * 100).toFixed(0)} %`,
        total >= MB ? mbps(total) : `${(total / 1e3).toFixed(0)} kB/s`,
        r.ffmpegWritesPerSecondPerTrack.toFixed(1),
        `${((total / disk) * 100).toFixed(2)} %`,
        (disk / r.bytesPerSecondPerTrack).toFixed(0),
      ];
    }),
  );

  const phases = await uploadBench(
    workDir,
    results.flatMap((r) => r.segments),
  );
  const hd = results.filter((r) => r.clip.label === '1080p');
  // A 1080p track's rate: what its source sends (the recording writes that, less any frames lost).
  const hdRate = (clips.find((c) => c.label === '1080p')?.bitsPerSecond ?? Number.NaN) / 8;
  console.log(
    '\nUpload to moto_server (loopback), one object at a time (Uploader), HeadObject-confirmed; ' +
      `a 1080p track = ${(hdRate / 1e3).toFixed(0)} kB/s`,
  );
  table(
    [
      'what',
      'files (multipart)',
      'MB',
      'journal',
      'upload',
      'MB/s',
      'files/s',
      'bench process CPU',
      'moto CPU',
      'upload rate ÷ 1080p track',
      'journal + upload CPU per 1080p track',
    ],
    phases.map((p) => [
      p.what,
      `${p.files} (${p.multipart})`,
      (p.bytes / MB).toFixed(1),
      `${p.journalSeconds.toFixed(2)} s`,
      `${p.seconds.toFixed(2)} s`,
      (p.bytes / MB / p.seconds).toFixed(1),
      (p.files / p.seconds).toFixed(1),
      pct(p.uploadCpu / p.seconds),
      pct(p.motoShare),
      (p.bytes / p.seconds / hdRate).toFixed(0),
      pct(uploadPerTrack(p, hdRate)),
    ]),
  );

  const hdTotal = mean(hd.map(recorderShare));
  const segmentsPhase = phases[0];
  const hdUpload = segmentsPhase ? uploadPerTrack(segmentsPhase, hdRate) : Number.NaN;
  if (hd.length > 0)
    console.log(
      `\nGoal ≤ ${GOAL * 100} % of one core per recorded 1080p track (recorder side: ffmpeg + relay): ` +
        `${pct(hdTotal)} (ffmpeg ${pct(mean(hd.map(ffmpegShare)))}, relay ${pct(mean(hd.map((r) => r.relayPerTrack)))}) ` +
        `— ${hdTotal <= GOAL ? 'met' : 'not met'}. With its journaling and upload: ${pct(hdTotal + hdUpload)}. ` +
        `The media node's worker adds ${pct(mean(hd.map(workerPerConsumer)))} per plain consumer.`,
    );
} finally {
  await node?.close();
  await rm(workDir, { recursive: true, force: true });
}
