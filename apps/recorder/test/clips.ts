import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ClipSpec {
  label: string;
  width: number;
  height: number;
  kbps: number;
  /** A lavfi colour instead of the noisy test pattern (e.g. `red`): a picture told apart by colour. */
  colour?: string;
}

export interface Clip extends ClipSpec {
  path: string;
  /** What the file really carries (ffprobe), bits per second. */
  bitsPerSecond: number;
}

/** Kept between runs: encoding 1080p VP8 costs seconds of both cores. */
export const CLIP_DIR = process.env.RECORDER_BENCH_CLIPS ?? join(tmpdir(), 'microstudio-bench-clips');
const SECONDS = 10;
const FPS = 30;

/**
 * A 10 s VP8 WebM clip at 30 fps with a keyframe every second, encoded once and cached: a test
 * pattern with temporal noise (as a camera sensor has), so the encoder really spends the bitrate
 * (a clean test pattern compresses far below it). Sent later with `-c copy`, so no encoder runs
 * while the recorder is measured.
 */
export async function ensureClip(spec: ClipSpec): Promise<Clip> {
  await mkdir(CLIP_DIR, { recursive: true });
  const path = join(
    CLIP_DIR,
    `vp8-${spec.colour ?? 'pattern'}-${spec.width}x${spec.height}p${FPS}-${spec.kbps}k-g${FPS}-${SECONDS}s.webm`,
  );
  if (!existsSync(path)) {
    const partial = `${path}.${process.pid}.partial.webm`;
    const rate = `${spec.kbps}k`;
    try {
      await run(
        'ffmpeg',
        [
          ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
          ...[
            '-f',
            'lavfi',
            '-i',
            spec.colour
              ? `color=c=${spec.colour}:size=${spec.width}x${spec.height}:rate=${FPS}`
              : `testsrc2=size=${spec.width}x${spec.height}:rate=${FPS},noise=alls=8:allf=t`,
          ],
          ...['-t', String(SECONDS), '-an', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8'],
          ...['-b:v', rate, '-minrate', rate, '-maxrate', rate, '-bufsize', rate],
          ...['-g', String(FPS), '-keyint_min', String(FPS), '-f', 'webm', partial],
        ],
        { timeout: 300_000 },
      );
      await rename(partial, path);
    } finally {
      await rm(partial, { force: true });
    }
  }
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-show_entries', 'format=bit_rate', '-of', 'csv=p=0', path],
  ]);
  return { ...spec, path, bitsPerSecond: Number(stdout.trim()) };
}
