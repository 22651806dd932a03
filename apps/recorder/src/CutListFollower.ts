import { appendFile, copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type CutEntry, cutEntrySchema } from '@microstudio/protocol';
import type { Logger } from './log.ts';
import type { NodeClient } from './NodeClient.ts';

/**
 * Writes the room's program cut list beside the ISOs (`<recordings>/<room>/cuts.jsonl`, one
 * cutEntrySchema line per change, appended and never rewritten) by following the node's
 * /cuts route every second. The node numbers cuts; a number going backwards means the node
 * restarted, and its list is followed from its start again (its times are still wall clock).
 *
 * For the bucket, the growing file is not uploaded itself (an upload is confirmed by size and
 * ETag, so a journaled file must not change): snapshot() copies it to `cuts/<time>.jsonl`, an
 * immutable file to journal; each snapshot holds the whole list so far, the newest is complete.
 */
export class CutListFollower {
  readonly #o: { node: NodeClient; roomId: string; path: string; logger: Logger };
  #after = -1;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #snapshotAt = 0;
  written = 0;

  constructor(options: { node: NodeClient; roomId: string; path: string; logger: Logger }) {
    this.#o = options;
  }

  start(intervalMs = 1000): void {
    this.#timer = setInterval(() => void this.poll(), intervalMs);
  }

  /** One fetch-and-append; never throws (the node may be down: the next poll catches up). */
  async poll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const answer = await this.#o.node.cuts(this.#o.roomId, this.#after);
      if (answer.next <= this.#after) {
        this.#o.logger.warn('the node restarted: following its cut list from its start', {
          had: this.#after,
          next: answer.next,
        });
        this.#after = -1;
        return;
      }
      const cuts: CutEntry[] = answer.cuts.map((c) => cutEntrySchema.parse(c));
      if (cuts.length === 0) return;
      await mkdir(dirname(this.#o.path), { recursive: true });
      await appendFile(this.#o.path, cuts.map((c) => `${JSON.stringify(c)}\n`).join(''));
      this.written += cuts.length;
      this.#after = cuts[cuts.length - 1]?.seq ?? this.#after;
    } catch (error) {
      if ((error as { status?: number }).status !== 404)
        this.#o.logger.warn('cannot follow the cut list', { error: String(error) });
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Copies the cut list to `<dir of the list>/cuts/<time>.jsonl` if cuts were written since the
   * last snapshot; returns the copy's path (to journal for upload), or undefined.
   */
  async snapshot(): Promise<string | undefined> {
    if (this.written === this.#snapshotAt) return undefined;
    const written = this.written;
    const stamp = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const copy = join(dirname(this.#o.path), 'cuts', `${stamp}.jsonl`);
    await mkdir(dirname(copy), { recursive: true });
    await copyFile(this.#o.path, copy);
    this.#snapshotAt = written;
    return copy;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.poll();
  }
}
