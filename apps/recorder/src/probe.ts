import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Probe {
  /** Packets ffprobe could read, all streams. */
  packets: number;
  /** The container's duration (seconds), NaN when it does not say (e.g. a file cut off mid-write). */
  durationSeconds: number;
}

/** What ffprobe reads from a segment; null when it cannot open it at all. */
export async function probeSegment(path: string, ffprobePath = 'ffprobe'): Promise<Probe | null> {
  try {
    const { stdout } = await run(
      ffprobePath,
      [
        ...['-v', 'error', '-count_packets'],
        ...['-show_entries', 'stream=nb_read_packets:format=duration', '-of', 'json', path],
      ],
      { timeout: 60_000, maxBuffer: 1 << 20 },
    );
    const parsed = JSON.parse(stdout) as {
      streams?: { nb_read_packets?: string }[];
      format?: { duration?: string };
    };
    const packets = (parsed.streams ?? []).reduce((n, s) => n + (Number(s.nb_read_packets) || 0), 0);
    return { packets, durationSeconds: Number(parsed.format?.duration ?? Number.NaN) };
  } catch {
    return null;
  }
}

/**
 * Copies what can be read of `input` into a new, properly closed file (`-c copy`: no re-encode).
 * A segment cut off by a crash has no cues, no duration and maybe half a block at its end;
 * the copy has all its complete frames and plays anywhere.
 */
export async function remux(
  input: string,
  output: string,
  format: 'webm' | 'matroska',
  ffmpegPath = 'ffmpeg',
): Promise<void> {
  await run(
    ffmpegPath,
    [
      ...['-hide_banner', '-nostdin', '-v', 'error', '-y', '-i', input],
      ...['-map', '0', '-c', 'copy'],
      '-f',
      format,
      output,
    ],
    { timeout: 120_000, maxBuffer: 1 << 20 },
  );
}

/**
 * Where a run's first segment really starts in the run's media timeline. ffmpeg runs with
 * -copyts, so its timeline is the RTP timestamps since the first packet it received — the origin
 * the show clock is measured from (showClock.ts) — even when the first frames could not be used
 * (a packet of the first keyframe lost: ffmpeg starts at the next keyframe). Without -copyts
 * ffmpeg would move that next keyframe to 0 and the whole run would be placed a GOP early. Its
 * segment list still says 0 for the first segment, whose file is shifted to start at 0: its real
 * start is its end minus its duration.
 */
export async function firstSegmentStart(
  path: string,
  listed: { startSeconds: number; endSeconds: number },
  ffprobePath?: string,
): Promise<number> {
  const probe = await probeSegment(path, ffprobePath);
  if (!probe || !Number.isFinite(probe.durationSeconds)) return listed.startSeconds;
  const start = listed.endSeconds - probe.durationSeconds;
  return start - listed.startSeconds > 0.0015 ? Number(start.toFixed(6)) : listed.startSeconds;
}
