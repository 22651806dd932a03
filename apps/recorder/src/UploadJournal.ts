import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { JournalError } from './errors.ts';

/** One finished segment waiting for (or done with) upload. */
export interface JournalEntry {
  key: string;
  path: string;
  size: number;
  /** The ETag S3 must report: MD5 (single PUT) or MD5-of-part-MD5s-N (multipart). */
  expectedEtag: string;
  done: boolean;
  /** The local file was deleted after its upload was confirmed (Retention.ts). */
  deleted: boolean;
}

type Line =
  | { op: 'add'; key: string; path: string; size: number; expectedEtag: string }
  | { op: 'done'; key: string }
  | { op: 'deleted'; key: string };

/**
 * The persistent upload queue: an append-only JSON-lines file, fsynced per line, replayed on
 * open. A crash loses at most the line being written (a torn last line is ignored), so a segment
 * journaled as added is uploaded after any restart, and one marked done is never uploaded again.
 * A done entry whose local file the retention policy removed is marked deleted, so it is not
 * looked at again.
 */
export class UploadJournal {
  readonly #path: string;
  readonly #entries = new Map<string, JournalEntry>();
  #fd: number;

  constructor(path: string) {
    this.#path = path;
    if (existsSync(path)) this.#replay(readFileSync(path, 'utf8'));
    this.#fd = openSync(path, 'a');
  }

  add(entry: Omit<JournalEntry, 'done' | 'deleted'>): void {
    if (this.#entries.has(entry.key)) return;
    this.#append({ op: 'add', ...entry });
    this.#entries.set(entry.key, { ...entry, done: false, deleted: false });
  }

  markDone(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry || entry.done) return;
    this.#append({ op: 'done', key });
    entry.done = true;
  }

  /** Records that a done entry's local file is gone (a pending entry is never marked). */
  markDeleted(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry?.done || entry.deleted) return;
    this.#append({ op: 'deleted', key });
    entry.deleted = true;
  }

  get(key: string): JournalEntry | undefined {
    return this.#entries.get(key);
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  pending(): JournalEntry[] {
    return [...this.#entries.values()].filter((e) => !e.done);
  }

  all(): JournalEntry[] {
    return [...this.#entries.values()];
  }

  close(): void {
    closeSync(this.#fd);
  }

  #append(line: Line): void {
    writeSync(this.#fd, `${JSON.stringify(line)}\n`);
    fsyncSync(this.#fd);
  }

  #replay(text: string): void {
    const lines = text.split('\n');
    for (const [i, raw] of lines.entries()) {
      if (!raw.trim()) continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        // Only the last line can be torn by a crash; anything else is corruption.
        if (i >= lines.length - 2) continue;
        throw new JournalError(`${this.#path}:${i + 1}: not a journal line`);
      }
      if (line.op === 'add') {
        const { op: _op, ...entry } = line;
        this.#entries.set(line.key, { ...entry, done: false, deleted: false });
      } else if (line.op === 'done') {
        const entry = this.#entries.get(line.key);
        if (entry) entry.done = true;
      } else if (line.op === 'deleted') {
        const entry = this.#entries.get(line.key);
        if (entry?.done) entry.deleted = true;
      } else throw new JournalError(`${this.#path}:${i + 1}: unknown op`);
    }
  }
}
