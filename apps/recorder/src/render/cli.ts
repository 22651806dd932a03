import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@microstudio/config';
import { idSchema } from '@microstudio/protocol';
import { readCutList } from './cutList.ts';
import { RenderError } from './errors.ts';
import { renderProgram } from './render.ts';
import { indexShow } from './segmentIndex.ts';
import { type Clip, clock, planTimeline, type Span, type Timeline } from './timeline.ts';

const USAGE = `usage: npm run program:render -- <show> [--from TIME] [--to TIME] [--out FILE] [--dir RECORDINGS] [--video-only]

Renders <show>'s program (its cut list, <recordings>/<show>/cuts.jsonl, applied to its ISO
recordings) into one H.264/AAC MP4, 1280x720 at 30 fps; <recordings> is MICROSTUDIO_RECORDINGS_DIR.
  --from, --to   where to start and end on the show clock: an ISO time (2025-05-01T19:30:00Z),
                 Unix ms, or +SECONDS after the first cut. Default: the first cut, and the end of
                 the last program source's recording.
  --out FILE     default: <recordings>/<show>/program.mp4 (the plan goes beside it, FILE.json)
  --dir DIR      the recordings directory (default: MICROSTUDIO_RECORDINGS_DIR)
  --video-only   no sound (default: the program source's audio ISO follows its picture)`;

/** Raised for a wrong command line: the usage follows the message. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const [show, ...extra] = parsed.positionals;
  if (!show) throw new UsageError('which show? (the room id the recorder recorded)');
  if (extra.length > 0) throw new UsageError(`one show at a time (also given: ${extra.join(' ')})`);
  if (!idSchema.safeParse(show).success || show !== basename(show) || show.startsWith('.'))
    throw new UsageError(`not a show name: ${show}`);

  const recordings = recordingsDir(parsed.values.dir);
  const roomDir = join(recordings, show);
  if (!existsSync(roomDir)) {
    const shows = await listShows(recordings);
    throw new RenderError(
      `unknown show ${show}: nothing recorded under ${roomDir}` +
        (shows.length > 0
          ? ` (shows in ${recordings}: ${shows.join(', ')})`
          : ` (${recordings} has no shows)`),
    );
  }
  const cutsPath = join(roomDir, 'cuts.jsonl');
  const cuts = await readCutList(cutsPath);
  const index = await indexShow(roomDir);
  if (index.video.size === 0)
    throw new RenderError(`no video segments for show ${show} under ${roomDir} (nothing was recorded)`);
  const firstCut = cuts[0]?.atMs ?? 0;
  const timeline = planTimeline({
    cuts,
    video: index.video,
    audio: parsed.values['video-only'] ? new Map() : index.audio,
    fromMs: time('--from', parsed.values.from, firstCut),
    toMs: time('--to', parsed.values.to, firstCut),
  });
  const out = parsed.values.out ? resolve(callerDir(), parsed.values.out) : join(roomDir, 'program.mp4');
  const say = (line: string): boolean => process.stdout.write(`${line}\n`);
  say(`show ${show}: ${cuts.length} cuts from ${cutsPath}`);
  say(
    `program ${clock(timeline.frames / timeline.fps)} (${timeline.frames} frames at ${timeline.fps} fps), show clock ${iso(timeline.startMs)} to ${iso(timeline.endMs)}`,
  );
  for (const line of describe(timeline, roomDir)) say(`  ${line}`);
  for (const problem of index.problems) say(`warning: ${problem}`);
  for (const warning of timeline.warnings) say(`warning: ${warning}`);

  let reported = -1;
  const result = await renderProgram(timeline, {
    out,
    ...(parsed.values['video-only'] ? { audio: false } : {}),
    onProgress: (pass, done, total) => {
      const tenth = Math.floor((done / total) * 10);
      if (pass === 'video' && tenth !== reported) {
        reported = tenth;
        process.stderr.write(`rendering ${Math.round((done / total) * 100)} %\n`);
      }
    },
  });
  for (const line of result.short) say(`warning: short piece, held/silenced to keep the timing: ${line}`);
  const plan = `${out}.json`;
  await writeFile(
    plan,
    `${JSON.stringify({ show, cutList: cutsPath, renderedAt: new Date().toISOString(), out, audio: result.audio, timeline }, null, 2)}\n`,
  );
  say(
    `wrote ${out} (${clock(result.seconds)}, 1280x720 ${timeline.fps} fps H.264${result.audio ? ' + AAC' : ', no sound'})`,
  );
  say(`plan: ${plan}`);
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      out: { type: 'string' },
      dir: { type: 'string' },
      'video-only': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** The directory the command was typed in: npm runs workspace scripts in the workspace. */
function callerDir(): string {
  return process.env.INIT_CWD ?? process.cwd();
}

/** --dir, else MICROSTUDIO_RECORDINGS_DIR; relative paths from the repository root (as main.ts). */
function recordingsDir(dir: string | undefined): string {
  if (dir) return resolve(callerDir(), dir);
  const root = fileURLToPath(new URL('../../../..', import.meta.url));
  return resolve(root, loadConfig(process.env).MICROSTUDIO_RECORDINGS_DIR);
}

async function listShows(recordings: string): Promise<string[]> {
  const entries = await readdir(recordings, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/** A --from/--to value: +seconds after the first cut, Unix ms, or an ISO date-time. */
function time(option: string, value: string | undefined, firstCutMs: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^\+\d+(\.\d+)?$/.test(value)) return firstCutMs + Number(value.slice(1)) * 1000;
  if (/^\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`${option} ${value}: not a time (ISO, Unix ms or +seconds)`);
  return ms;
}

/** One line per span (and per piece or gap inside it): what the program shows when. */
function describe(timeline: Timeline, roomDir: string): string[] {
  const lines: string[] = [];
  const at = (frame: number): string => clock(frame / timeline.fps);
  const clipLine = (clip: Clip): string =>
    clip.type === 'piece'
      ? `${at(clip.startFrame)}  ${relative(roomDir, clip.file)}  ${clip.inSeconds.toFixed(3)}–${clip.outSeconds.toFixed(3)} s`
      : `${at(clip.startFrame)}  black (${clip.reason}) ${clock(clip.frames / timeline.fps)}`;
  for (const span of timeline.spans) {
    lines.push(`${at(span.startFrame)}  ${spanTitle(span, timeline.fps)}`);
    for (const clip of span.layer.video) lines.push(`  ${clipLine(clip)}`);
    for (const clip of span.fade?.from.video ?? []) lines.push(`  out: ${clipLine(clip)}`);
  }
  return lines;
}

function spanTitle(span: Span, fps: number): string {
  const name = (id: string | null): string => id ?? 'black';
  const length = clock(span.frames / fps);
  if (!span.fade) return `${name(span.layer.sourceId)} for ${length}`;
  return `fade ${name(span.fade.from.sourceId)} → ${name(span.layer.sourceId)} (${clock(span.fade.frames / fps)}) for ${length}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`program:render: ${error.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    if (error instanceof RenderError || error instanceof ConfigError) {
      process.stderr.write(`program:render: ${error.message}\n`);
      process.exit(1);
    }
    process.stderr.write(
      `program:render: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
