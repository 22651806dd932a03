import { open, stat } from 'node:fs/promises';

/** One line of ffmpeg's CSV segment list: written when a segment is finished and closed. */
export interface FinishedSegment {
  file: string;
  /** Seconds from the track's first packet (the anchor) to the segment's first frame. */
  startSeconds: number;
  endSeconds: number;
}

export function parseSegmentLine(line: string): FinishedSegment | undefined {
  const [file, start, end] = line.trim().split(',');
  const startSeconds = Number(start);
  const endSeconds = Number(end);
  if (!file || !Number.isFinite(startSeconds) || !Number.isFinite(endSeconds)) return undefined;
  return { file, startSeconds, endSeconds };
}

/**
 * Follows ffmpeg's segment list file: each complete line is a finished segment. Polling (not
 * fs.watch) because it is one small file per track and must work on every filesystem.
 */
export class SegmentListFollower {
  readonly #path: string;
  readonly #onSegment: (segment: FinishedSegment) => void;
  #offset = 0;
  #partial = '';
  #timer: NodeJS.Timeout | undefined;
  /** Polls run one at a time: two overlapping reads of one partial line would garble it. */
  #polling: Promise<void> = Promise.resolve();

  constructor(path: string, onSegment: (segment: FinishedSegment) => void) {
    this.#path = path;
    this.#onSegment = onSegment;
  }

  start(intervalMs = 250): void {
    this.#timer = setInterval(() => void this.poll().catch(() => {}), intervalMs);
  }

  /** Reads what was appended since the last poll (after any poll still running). */
  poll(): Promise<void> {
    const next = this.#polling.catch(() => {}).then(() => this.#read());
    this.#polling = next;
    return next;
  }

  async #read(): Promise<void> {
    const size = await stat(this.#path).then(
      (s) => s.size,
      () => 0,
    );
    if (size <= this.#offset) return;
    const handle = await open(this.#path, 'r');
    try {
      const buffer = Buffer.alloc(size - this.#offset);
      await handle.read(buffer, 0, buffer.length, this.#offset);
      this.#offset = size;
      const lines = (this.#partial + buffer.toString('utf8')).split('\n');
      this.#partial = lines.pop() ?? '';
      for (const line of lines) {
        const segment = parseSegmentLine(line);
        if (segment) this.#onSegment(segment);
      }
    } finally {
      await handle.close();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.poll().catch(() => {});
  }
}
