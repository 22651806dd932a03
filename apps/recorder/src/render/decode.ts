import { spawn } from 'node:child_process';
import type { RawFormat } from './frames.ts';
import { fixedFrames } from './frames.ts';
import type { Piece } from './timeline.ts';

export interface DecodeOptions {
  format: RawFormat;
  fps: number;
  width: number;
  height: number;
  sampleRate: number;
  ffmpegPath?: string;
  /** A piece gave fewer frames than planned (a short or damaged segment): what was made up. */
  onShort?: (piece: Piece, got: number, why: string) => void;
}

/**
 * ffmpeg's filters for one piece, all on the decoded frames (decode-side trimming: frames before
 * the in-point are decoded and dropped, never a seek to a keyframe). The segment's first frame is
 * its 0 (setpts − STARTPTS: the sidecar's start is that frame), moved back by the in-point so the
 * piece's first program frame is at 0; then resampled onto the program's frame grid (fps,
 * duplicating the first frame if the segment starts up to half a frame late) or, for sound,
 * onto a continuous 48 kHz timeline (gaps in the packets, e.g. Opus DTX, become silence).
 */
export function decodeArgs(piece: Piece, o: DecodeOptions): string[] {
  const input = ['-hide_banner', '-nostdin', '-v', 'error', '-i', piece.file];
  const shift = `-${piece.inSeconds}/TB`;
  if (o.format.kind === 'video') {
    const { width: w, height: h } = o;
    const filters = [
      `setpts=PTS-STARTPTS${shift}`,
      `fps=${o.fps}:start_time=0`,
      // Any source size and shape into the program's frame, letterboxed, never stretched.
      `scale=${w}:${h}:force_original_aspect_ratio=decrease`,
      `pad=${w}:${h}:(ow-iw)/2:(oh-ih)/2:color=black`,
      'setsar=1',
      'format=yuv420p',
    ];
    return [
      ...input,
      ...['-map', '0:v:0', '-vf', filters.join(','), '-frames:v', String(piece.frames)],
      ...o.format.outputArgs,
      'pipe:1',
    ];
  }
  const filters = [`asetpts=PTS-STARTPTS${shift}`, `aresample=${o.sampleRate}:async=1:first_pts=0`];
  return [...input, ...['-map', '0:a:0', '-af', filters.join(',')], ...o.format.outputArgs, 'pipe:1'];
}

/**
 * Exactly `piece.frames` raw frames of one piece. Should the decoder give fewer (a segment
 * shorter than its sidecar says, or damaged), its last frame is held (video) or silence follows
 * (audio), and onShort says so: the program keeps its timing whatever one file holds.
 */
export async function* decodePiece(piece: Piece, o: DecodeOptions): AsyncGenerator<Buffer> {
  const ffmpeg = spawn(o.ffmpegPath ?? 'ffmpeg', decodeArgs(piece, o), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  ffmpeg.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const exited = new Promise<number | null>((resolve) => {
    ffmpeg.once('error', (error) => {
      stderr += String(error);
      resolve(null);
    });
    ffmpeg.once('close', resolve);
  });
  let got = 0;
  let lastFrame: Buffer | undefined;
  try {
    for await (const frame of fixedFrames(ffmpeg.stdout, o.format.frameBytes)) {
      yield frame;
      lastFrame = frame;
      got += 1;
      if (got === piece.frames) return;
    }
    const code = await exited;
    const why =
      code === 0 ? 'the segment ends early' : `ffmpeg: ${stderr.trim().slice(-300) || `exit ${code}`}`;
    o.onShort?.(piece, got, why);
    const filler = o.format.kind === 'video' && lastFrame ? lastFrame : o.format.blank();
    for (; got < piece.frames; got++) yield filler;
  } finally {
    // Done with it (or the render was abandoned): audio decoders run to their segment's end
    // otherwise, and nothing reads their output any more.
    if (ffmpeg.exitCode === null) ffmpeg.kill('SIGKILL');
    await exited;
  }
}
