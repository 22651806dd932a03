import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { type DecodeOptions, decodePiece } from './decode.ts';
import { RenderError } from './errors.ts';
import { audioFormat, type RawFormat, videoFormat } from './frames.ts';
import type { Clip, Layer, Piece, Span, Timeline } from './timeline.ts';

export interface RenderOptions {
  /**
   * The program file to write (MP4). Made in a hidden directory beside it (`.<name>-XXXXXX`,
   * removed at the end) and renamed into place only when complete: a failed render never leaves
   * a half file under the program's name.
   */
  out: string;
  width?: number;
  height?: number;
  /** Render the program's sound from the program sources' audio ISOs (default: when there are any). */
  audio?: boolean;
  ffmpegPath?: string;
  /** After each span of each pass: frames done of the timeline's total. */
  onProgress?: (pass: 'audio' | 'video', done: number, total: number) => void;
}

export interface RenderResult {
  out: string;
  frames: number;
  seconds: number;
  audio: boolean;
  /** Pieces whose file gave fewer frames than planned (held / silent to keep the timing). */
  short: string[];
}

const SAMPLE_RATE = 48_000;

/**
 * Renders a timeline into one program file: H.264 (libx264 veryfast, CRF 20) at the timeline's
 * fixed rate and size, AAC sound when a program source has audio ISOs. Two passes, each a chain
 * of short-lived decoders (one per piece, two during a fade) feeding one encoder raw frames
 * through this process, which counts them (frames.ts): the sound first into a temporary file,
 * then the picture, muxed with it.
 */
export async function renderProgram(timeline: Timeline, o: RenderOptions): Promise<RenderResult> {
  const width = o.width ?? 1280;
  const height = o.height ?? 720;
  const ffmpegPath = o.ffmpegPath ?? 'ffmpeg';
  const short: string[] = [];
  const decode = (format: RawFormat): DecodeOptions => ({
    format,
    fps: timeline.fps,
    width,
    height,
    sampleRate: SAMPLE_RATE,
    ffmpegPath,
    onShort: (piece: Piece, got: number, why: string) =>
      short.push(
        `${format.kind} ${piece.file} [${piece.inSeconds}, ${piece.outSeconds}): ${got}/${piece.frames} frames (${why})`,
      ),
  });
  const withAudio = (o.audio ?? true) && hasPieces(timeline, 'audio');
  // Temporary files beside the program (same disk; /tmp may be small), removed in every case.
  await mkdir(dirname(o.out), { recursive: true });
  const work = await mkdtemp(join(dirname(o.out), `.${basename(o.out)}-`));
  const part = join(work, 'program.mp4');
  try {
    const audioFile = join(work, 'audio.m4a');
    if (withAudio) {
      const format = audioFormat(SAMPLE_RATE, timeline.fps);
      await encode(timeline, 'audio', decode(format), o, [
        ...format.inputArgs,
        ...['-i', 'pipe:0', '-c:a', 'aac', '-b:a', '192k', '-f', 'mp4', audioFile],
      ]);
    }
    const format = videoFormat(width, height, timeline.fps);
    await encode(timeline, 'video', decode(format), o, [
      ...format.inputArgs,
      ...['-i', 'pipe:0'],
      ...(withAudio ? ['-i', audioFile, '-map', '0:v:0', '-map', '1:a:0', '-c:a', 'copy'] : []),
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p'],
      ...['-movflags', '+faststart', '-f', 'mp4', part],
    ]);
    await rename(part, o.out);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return {
    out: o.out,
    frames: timeline.frames,
    seconds: timeline.frames / timeline.fps,
    audio: withAudio,
    short,
  };
}

function hasPieces(timeline: Timeline, kind: 'audio' | 'video'): boolean {
  return timeline.spans.some((span) =>
    [span.layer, span.fade?.from].some((layer) => layer?.[kind].some((clip) => clip.type === 'piece')),
  );
}

/** One pass: every span's frames of one kind into one ffmpeg encoder. */
async function encode(
  timeline: Timeline,
  kind: 'audio' | 'video',
  decode: DecodeOptions,
  o: RenderOptions,
  outputArgs: string[],
): Promise<void> {
  const encoder = new Encoder(decode.ffmpegPath ?? 'ffmpeg', [
    ...['-hide_banner', '-nostdin', '-v', 'error', '-y'],
    ...outputArgs,
  ]);
  try {
    let done = 0;
    for (const span of timeline.spans) {
      for await (const frame of spanFrames(span, kind, decode)) await encoder.write(frame);
      done += span.frames;
      o.onProgress?.(kind, done, timeline.frames);
    }
    await encoder.finish();
  } finally {
    encoder.kill();
  }
}

/** A span's frames of one kind: its layer's, or during a fade both layers' mixed frame by frame. */
async function* spanFrames(span: Span, kind: 'audio' | 'video', o: DecodeOptions): AsyncGenerator<Buffer> {
  const clips = (layer: Layer): Clip[] => (kind === 'video' ? layer.video : layer.audio);
  if (!span.fade) {
    yield* clipFrames(clips(span.layer), o);
    return;
  }
  const fade = span.fade;
  const outgoing = clipFrames(clips(fade.from), o);
  const incoming = clipFrames(clips(span.layer), o);
  try {
    for (let f = span.startFrame; f < span.startFrame + span.frames; f++) {
      const [a, b] = await Promise.all([outgoing.next(), incoming.next()]);
      if (a.done || b.done) throw new Error(`a layer of the fade at frame ${span.startFrame} ended early`);
      // Linear in time, as the control room's and viewers' cross-fade (a CSS opacity transition).
      const t = Math.min(1, Math.max(0, (f - fade.startFrame) / fade.frames));
      yield o.format.mix(a.value, b.value, t);
    }
  } finally {
    await Promise.all([outgoing.return(undefined), incoming.return(undefined)]);
  }
}

async function* clipFrames(clips: readonly Clip[], o: DecodeOptions): AsyncGenerator<Buffer> {
  for (const clip of clips) {
    if (clip.type === 'piece') {
      yield* decodePiece(clip, o);
      continue;
    }
    const blank = o.format.blank();
    for (let i = 0; i < clip.frames; i++) yield blank;
  }
}

/** An ffmpeg reading raw frames on stdin, written with backpressure. */
class Encoder {
  readonly #ffmpeg: ChildProcessByStdio<Writable, null, Readable>;
  readonly #exited: Promise<number | null>;
  #stderr = '';
  #closed = false;

  constructor(ffmpegPath: string, args: string[]) {
    this.#ffmpeg = spawn(ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.#ffmpeg.stderr.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000);
    });
    // EPIPE when ffmpeg died: reported by write()/finish() with its stderr instead.
    this.#ffmpeg.stdin.on('error', () => {});
    this.#exited = new Promise((resolve) => {
      this.#ffmpeg.once('error', (error) => {
        this.#stderr += String(error);
        this.#closed = true;
        resolve(null);
      });
      this.#ffmpeg.once('close', (code) => {
        this.#closed = true;
        resolve(code);
      });
    });
  }

  async write(frame: Buffer): Promise<void> {
    if (this.#closed) throw this.#failed();
    if (this.#ffmpeg.stdin.write(frame)) return;
    const drained = once(this.#ffmpeg.stdin, 'drain').then(() => true);
    if (!(await Promise.race([drained, this.#exited.then(() => false)]))) throw this.#failed();
  }

  async finish(): Promise<void> {
    this.#ffmpeg.stdin.end();
    if ((await this.#exited) !== 0) throw this.#failed();
  }

  kill(): void {
    if (!this.#closed) this.#ffmpeg.kill('SIGKILL');
  }

  #failed(): RenderError {
    return new RenderError(`the ffmpeg encoder failed: ${this.#stderr.trim().slice(-500) || 'no message'}`);
  }
}
