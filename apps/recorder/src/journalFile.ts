import { stat } from 'node:fs/promises';
import { expectedEtag } from './etag.ts';
import type { UploadJournal } from './UploadJournal.ts';

/** S3's smallest part; segments above it go multipart. */
export const PART_SIZE = 5 * 1024 * 1024;

/** Journals a closed file for upload (durable before this resolves; a key already journaled is kept). */
export async function journalFile(journal: UploadJournal, key: string, path: string): Promise<void> {
  if (journal.has(key)) return;
  const { size } = await stat(path);
  journal.add({ key, path, size, expectedEtag: await expectedEtag(path, size, PART_SIZE) });
}
