import { readFile } from 'node:fs/promises';
import { type CutEntry, cutEntrySchema } from '@microstudio/protocol';
import { RenderError } from './errors.ts';

/**
 * Parses a show's cut list (`cuts.jsonl`, one cutEntrySchema object a line). Every line is
 * validated: a program rendered from a half-understood cut list would be wrong without saying
 * so, so a bad line stops the render and names its line number. Blank lines are allowed (a
 * trailing newline, an editor's empty last line).
 *
 * Returned in show-clock order (atMs), ties in file order: `seq` starts again at 0 when the node
 * restarts (CutListFollower appends its new list), so it cannot order the file.
 */
export function parseCutList(text: string, name = 'cuts.jsonl'): CutEntry[] {
  const cuts: { entry: CutEntry; line: number }[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new RenderError(`${name}:${i + 1}: not JSON: ${line.slice(0, 80)}`);
    }
    const parsed = cutEntrySchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      throw new RenderError(`${name}:${i + 1}: not a cut entry (${where}${issue?.message ?? 'invalid'})`);
    }
    cuts.push({ entry: parsed.data, line: i });
  }
  return cuts.sort((a, b) => a.entry.atMs - b.entry.atMs || a.line - b.line).map((c) => c.entry);
}

export async function readCutList(path: string): Promise<CutEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new RenderError(
        `no cut list at ${path} (the recorder writes it while the control room cuts this show)`,
      );
    throw error;
  }
  const cuts = parseCutList(text, path);
  if (cuts.length === 0) throw new RenderError(`the cut list ${path} has no cuts: nothing was on program`);
  return cuts;
}
