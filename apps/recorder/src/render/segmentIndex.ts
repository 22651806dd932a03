import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { IndexedSegment, SegmentIndex } from './timeline.ts';

/** A segment's sidecar: `000003.webm.json` beside `000003.webm` (`.lost` beside the lost file). */
const SIDECAR_FILE = /^\d{6,}\.(webm|mkv)\.json$/;

/**
 * The fields of SegmentSidecar / LostSegmentSidecar (sidecar.ts) the render needs (others are
 * ignored: a sidecar may gain fields). A start of null is an origin the recorder never learned
 * (NaN written as JSON): such a segment cannot be placed on the show clock.
 */
const common = {
  sourceId: z.string().min(1),
  kind: z.enum(['audio', 'video']),
  file: z.string().min(1),
  startWallClockMs: z.number().nullable(),
};
const lostSidecarSchema = z.object({
  ...common,
  lost: z.literal(true),
  reason: z.string(),
  endWallClockMs: z.number().nullable(),
});
const sidecarSchema = z.object({ ...common, durationSeconds: z.number().nonnegative().nullable() });

export interface ShowIndex {
  video: SegmentIndex;
  audio: SegmentIndex;
  /** Sidecars that could not be used (unreadable, unplaceable, their segment missing). */
  problems: string[];
}

/**
 * Every segment of a show from its sidecars: `<room>/<source>/<kind>-<producer8>/NNNNNN.ext.json`.
 * A source's tracks of one kind (a camera that reconnected has a new producer, so a new track
 * directory) are merged: the program follows the source, not the producer.
 */
export async function indexShow(roomDir: string): Promise<ShowIndex> {
  const video = new Map<string, IndexedSegment[]>();
  const audio = new Map<string, IndexedSegment[]>();
  const problems: string[] = [];
  for (const sourceDir of await subdirectories(roomDir)) {
    for (const trackDir of await subdirectories(join(roomDir, sourceDir))) {
      if (!/^(audio|video)-/.test(trackDir)) continue;
      const dir = join(roomDir, sourceDir, trackDir);
      for (const name of (await readdir(dir)).filter((n) => SIDECAR_FILE.test(n)).sort()) {
        const where = join(sourceDir, trackDir, name);
        const segment = await readSegment(dir, name).catch((error: unknown) => `${where}: ${String(error)}`);
        if (typeof segment === 'string') {
          problems.push(segment);
          continue;
        }
        const byKind = segment.kind === 'video' ? video : audio;
        const list = byKind.get(segment.sourceId) ?? [];
        list.push(segment.segment);
        byKind.set(segment.sourceId, list);
      }
    }
  }
  for (const list of [...video.values(), ...audio.values()]) list.sort((a, b) => a.startMs - b.startMs);
  return { video, audio, problems };
}

async function readSegment(
  dir: string,
  name: string,
): Promise<{ kind: 'audio' | 'video'; sourceId: string; segment: IndexedSegment } | string> {
  const json: unknown = JSON.parse(await readFile(join(dir, name), 'utf8'));
  const file = join(dir, name.slice(0, -'.json'.length));
  const lost = lostSidecarSchema.safeParse(json);
  if (lost.success) {
    const { kind, sourceId, startWallClockMs: start, endWallClockMs: end, reason } = lost.data;
    if (start === null) return `${file}: a lost segment with no show-clock start`;
    return { kind, sourceId, segment: { file, startMs: start, endMs: end ?? start, lost: reason } };
  }
  const parsed = sidecarSchema.safeParse(json);
  if (!parsed.success) return `${file}.json: not a segment sidecar`;
  const s = parsed.data;
  const start = s.startWallClockMs;
  if (start === null) return `${file}: no show-clock start in its sidecar`;
  if (s.durationSeconds === null) return `${file}: no duration in its sidecar`;
  if (!existsSync(file)) return `${file}: listed by its sidecar but not on disk`;
  return {
    kind: s.kind,
    sourceId: s.sourceId,
    segment: { file, startMs: start, endMs: start + s.durationSeconds * 1000 },
  };
}

async function subdirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}
