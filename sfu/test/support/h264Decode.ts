/**
 * What a receiver got, checked by a real decoder: H.264 RTP payloads (RFC 6184 packetization
 * mode 1: single NAL units, STAP-A, FU-A) are depacketized into an Annex B stream and ffprobe
 * decodes it, counting the frames it could decode and reading the profile from the SPS.
 */
import { spawn } from 'node:child_process';

const START = Buffer.from([0, 0, 0, 1]);

/** RTP payloads in sequence order → Annex B. A lost FU-A fragment drops its NAL unit. */
export function depacketizeH264(payloads: Buffer[]): Buffer {
  const out: Buffer[] = [];
  let fu: Buffer[] | undefined;
  for (const payload of payloads) {
    const type = (payload[0] ?? 0) & 0x1f;
    if (type >= 1 && type <= 23) {
      out.push(START, payload);
    } else if (type === 24) {
      // STAP-A: [16-bit size][NAL]…
      for (let at = 1; at + 2 <= payload.length; ) {
        const size = payload.readUInt16BE(at);
        out.push(START, payload.subarray(at + 2, at + 2 + size));
        at += 2 + size;
      }
    } else if (type === 28 && payload.length > 2) {
      const header = payload[1] ?? 0;
      if (header & 0x80) {
        // Start: the NAL header is F|NRI of the indicator and the type of the FU header.
        fu = [Buffer.from([((payload[0] ?? 0) & 0xe0) | (header & 0x1f)]), payload.subarray(2)];
      } else if (fu) {
        fu.push(payload.subarray(2));
      }
      if (header & 0x40 && fu) {
        out.push(START, ...fu);
        fu = undefined;
      }
    }
  }
  return Buffer.concat(out);
}

export interface Decoded {
  /** Frames ffmpeg's H.264 decoder decoded. */
  frames: number;
  profile: string;
  width: number;
  height: number;
}

/** Decodes an Annex B H.264 stream with ffprobe (-count_frames). */
export async function decodeH264(annexB: Buffer): Promise<Decoded> {
  const child = spawn(
    'ffprobe',
    [
      ...['-v', 'error', '-f', 'h264', '-count_frames', '-select_streams', 'v:0'],
      ...['-show_entries', 'stream=nb_read_frames,profile,width,height', '-of', 'json', '-i', 'pipe:0'],
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  child.stdin.on('error', () => undefined);
  child.stdin.end(annexB);
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`ffprobe exited ${code}: ${stderr.slice(-500)}`);
  const stream = (JSON.parse(stdout) as { streams?: Record<string, string | number>[] }).streams?.[0];
  return {
    frames: Number(stream?.nb_read_frames ?? 0),
    profile: String(stream?.profile ?? ''),
    width: Number(stream?.width ?? 0),
    height: Number(stream?.height ?? 0),
  };
}
