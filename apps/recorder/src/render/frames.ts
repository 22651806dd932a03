/**
 * The raw program: decoded pictures and sound are passed between the decoders and the encoder
 * as fixed-size frames, one per program frame (audio: the samples lasting one video frame). The
 * renderer counts them itself, so every piece is exactly as long as planned whatever a decoder
 * gives back, and a fade is a per-sample mix of two such streams.
 */
export interface RawFormat {
  kind: 'video' | 'audio';
  frameBytes: number;
  /** Black / silence, one frame. */
  blank(): Buffer;
  /** `a` weighted 1 − t plus `b` weighted t (0 ≤ t ≤ 1), a new frame. */
  mix(a: Buffer, b: Buffer, t: number): Buffer;
  /** ffmpeg options reading this raw stream (the encoder's input). */
  inputArgs: string[];
  /** ffmpeg options writing it (a decoder's output). */
  outputArgs: string[];
}

/** Planar YUV 4:2:0, limited range (what libx264 takes and VP8/H.264 decode to). */
export function videoFormat(width: number, height: number, fps: number): RawFormat {
  const luma = width * height;
  const frameBytes = luma + 2 * (luma / 4);
  return {
    kind: 'video',
    frameBytes,
    blank() {
      const frame = Buffer.alloc(frameBytes, 128);
      frame.fill(16, 0, luma);
      return frame;
    },
    mix(a, b, t) {
      const out = Buffer.allocUnsafe(frameBytes);
      const wa = 1 - t;
      for (let i = 0; i < frameBytes; i++) out[i] = ((a[i] ?? 0) * wa + (b[i] ?? 0) * t + 0.5) | 0;
      return out;
    },
    inputArgs: [
      ...['-f', 'rawvideo', '-pix_fmt', 'yuv420p'],
      ...['-video_size', `${width}x${height}`, '-framerate', String(fps)],
    ],
    outputArgs: ['-f', 'rawvideo', '-pix_fmt', 'yuv420p'],
  };
}

/** Signed 16-bit little-endian stereo PCM, `sampleRate / fps` samples per video frame. */
export function audioFormat(sampleRate: number, fps: number): RawFormat {
  const samples = sampleRate / fps;
  if (!Number.isInteger(samples))
    throw new Error(`${sampleRate} Hz is not a whole number of samples per frame`);
  const frameBytes = samples * 2 * 2;
  return {
    kind: 'audio',
    frameBytes,
    blank: () => Buffer.alloc(frameBytes),
    mix(a, b, t) {
      const out = Buffer.allocUnsafe(frameBytes);
      for (let i = 0; i < frameBytes; i += 2) {
        const v = Math.round(a.readInt16LE(i) * (1 - t) + b.readInt16LE(i) * t);
        out.writeInt16LE(Math.max(-32768, Math.min(32767, v)), i);
      }
      return out;
    },
    inputArgs: ['-f', 's16le', '-ar', String(sampleRate), '-ac', '2'],
    outputArgs: ['-f', 's16le', '-ar', String(sampleRate), '-ac', '2'],
  };
}

/** Re-cuts a byte stream into frames of `size` bytes (a short tail is dropped). */
export async function* fixedFrames(chunks: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of chunks) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes < size) continue;
    let all = pending.length === 1 ? chunk : Buffer.concat(pending, pendingBytes);
    while (all.length >= size) {
      // A copy: the chunk's memory is the stream's, and frames outlive it (a fade holds one).
      yield Buffer.from(all.subarray(0, size));
      all = all.subarray(size);
    }
    pending = all.length > 0 ? [all] : [];
    pendingBytes = all.length;
  }
}
