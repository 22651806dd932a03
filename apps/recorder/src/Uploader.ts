import { createReadStream } from 'node:fs';
import {
  AbortMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { RecorderStatus } from '@microstudio/protocol';
import { UploadMismatchError } from './errors.ts';
import { journalFile, PART_SIZE } from './journalFile.ts';
import type { Logger } from './log.ts';
import type { Retention } from './Retention.ts';
import { describeStorageError, storageEndpoint } from './storageErrors.ts';
import type { UploadJournal } from './UploadJournal.ts';

export { PART_SIZE } from './journalFile.ts';

export interface UploaderOptions {
  client: S3Client;
  bucket: string;
  journal: UploadJournal;
  logger: Logger;
  /** First retry delay; doubles per failure up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Key prefixes this recorder owns (`<room>/`). Before its first upload the uploader aborts
   * every multipart upload under them that an earlier process left unfinished (killed mid-upload):
   * their segments are still journaled and are uploaded again whole, so no part is left dangling
   * (and billed) in the bucket. One recorder per room: another one's uploads would be aborted too.
   */
  ownedPrefixes?: string[];
  /** Told of every confirmed key (after markDone): deletes the local file under its policy. */
  retention?: Pick<Retention, 'confirmed'>;
}

/**
 * Drains the journal into the bucket, one object at a time, in the background: enqueue() only
 * appends to the journal, so recording never waits for storage. A failure (outage, wrong
 * credentials) backs off and retries forever; the queue just grows. An object counts as done only
 * when HeadObject reports the local size and ETag.
 */
export class Uploader {
  readonly #o: UploaderOptions;
  #wake: (() => void) | undefined;
  #running = false;
  #loop: Promise<void> | undefined;
  uploads = 0;
  failures = 0;
  /** Multipart uploads left by an earlier process, aborted before the first upload. */
  abortedDangling = 0;
  /** Why the last attempt failed, as a sentence naming the bucket and endpoint; null after a success. */
  lastError: string | null = null;
  #uploading = false;
  #endpoint: Promise<string> | undefined;

  constructor(options: UploaderOptions) {
    this.#o = options;
  }

  /** Journals a finished segment (durable before this returns) and wakes the uploader. */
  async enqueue(key: string, path: string): Promise<void> {
    await journalFile(this.#o.journal, key, path);
    this.#wake?.();
  }

  get pending(): number {
    return this.#o.journal.pending().length;
  }

  /** For the recorder's status report (RecorderStatus['uploads']). */
  status(): RecorderStatus['uploads'] {
    const pending = this.#o.journal.pending();
    return {
      state: this.lastError !== null ? 'failing' : this.#uploading ? 'uploading' : 'idle',
      bucket: this.#o.bucket,
      pending: pending.length,
      pendingBytes: pending.reduce((sum, e) => sum + e.size, 0),
      confirmed: this.uploads,
      lastError: this.lastError,
    };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }

  /** Resolves when the queue is empty (tests, shutdown). */
  async drained(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending > 0 && Date.now() < deadline) await sleep(100);
    return this.pending === 0;
  }

  async #run(): Promise<void> {
    let backoff = this.#o.backoffMs ?? 500;
    let swept = (this.#o.ownedPrefixes ?? []).length === 0;
    while (this.#running) {
      if (!swept) {
        try {
          await this.#sweep(this.#o.ownedPrefixes ?? []);
          swept = true;
          backoff = this.#o.backoffMs ?? 500;
        } catch (error) {
          this.failures += 1;
          this.lastError = await this.#describe(error);
          this.#o.logger.warn('cannot list unfinished multipart uploads; will retry', {
            error: this.lastError,
            retryInMs: backoff,
          });
          await sleep(backoff);
          backoff = Math.min(backoff * 2, this.#o.maxBackoffMs ?? 30_000);
          continue;
        }
      }
      const next = this.#o.journal.pending()[0];
      if (!next) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        this.#wake = undefined;
        continue;
      }
      this.#uploading = true;
      try {
        await this.#uploadOne(next.key, next.path, next.size, next.expectedEtag);
        this.#o.journal.markDone(next.key);
        this.uploads += 1;
        backoff = this.#o.backoffMs ?? 500;
        this.lastError = null;
        this.#uploading = false;
        // Only now, confirmed and journaled done, may the local copy go (Retention never throws).
        await this.#o.retention?.confirmed(next.key);
      } catch (error) {
        this.#uploading = false;
        this.failures += 1;
        this.lastError = await this.#describe(error);
        this.#o.logger.warn('upload failed; will retry', {
          key: next.key,
          error: this.lastError,
          pending: this.pending,
          retryInMs: backoff,
        });
        await sleep(backoff);
        backoff = Math.min(backoff * 2, this.#o.maxBackoffMs ?? 30_000);
      }
    }
  }

  /** The error as a sentence for the director: missing bucket, refused credentials, unreachable. */
  async #describe(error: unknown): Promise<string> {
    this.#endpoint ??= storageEndpoint(this.#o.client);
    return describeStorageError(error, { bucket: this.#o.bucket, endpoint: await this.#endpoint });
  }

  async #uploadOne(key: string, path: string, size: number, etag: string): Promise<void> {
    const { client, bucket } = this.#o;
    // Already there from an attempt whose answer was lost? Then do not upload twice.
    if (!(await this.#confirmed(key, size, etag))) {
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: createReadStream(path), ContentLength: size },
        partSize: PART_SIZE,
        queueSize: 1,
        // lib-storage aborts a failed multipart upload; #abortStale catches the ones it could not.
        leavePartsOnError: false,
      });
      await upload.done();
      if (!(await this.#confirmed(key, size, etag)))
        throw new UploadMismatchError(
          `${key}: HeadObject does not match the local file (size ${size}, ETag ${etag})`,
        );
    }
    await this.#abortStale(key);
  }

  async #confirmed(key: string, size: number, etag: string): Promise<boolean> {
    try {
      const head = await this.#o.client.send(new HeadObjectCommand({ Bucket: this.#o.bucket, Key: key }));
      if (head.ContentLength === size && head.ETag === etag) return true;
      this.#o.logger.warn('object differs from local file; uploading again', {
        key,
        size: head.ContentLength,
        etag: head.ETag,
      });
      return false;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return false;
      throw error;
    }
  }

  /** Aborts every unfinished multipart upload under the prefixes (runs before our first upload). */
  async #sweep(prefixes: string[]): Promise<void> {
    const { client, bucket } = this.#o;
    for (const prefix of prefixes) {
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      for (;;) {
        const listed = await client.send(
          new ListMultipartUploadsCommand({
            Bucket: bucket,
            Prefix: prefix,
            ...(keyMarker ? { KeyMarker: keyMarker } : {}),
            ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
          }),
        );
        for (const stale of listed.Uploads ?? []) {
          if (!stale.Key || !stale.UploadId) continue;
          await client.send(
            new AbortMultipartUploadCommand({ Bucket: bucket, Key: stale.Key, UploadId: stale.UploadId }),
          );
          this.abortedDangling += 1;
          this.#o.logger.info('aborted an unfinished multipart upload left by an earlier run', {
            key: stale.Key,
            initiated: stale.Initiated?.toISOString(),
          });
        }
        if (!listed.IsTruncated) break;
        keyMarker = listed.NextKeyMarker;
        uploadIdMarker = listed.NextUploadIdMarker;
        if (!keyMarker && !uploadIdMarker) break;
      }
    }
  }

  /** Multipart uploads of this key left by interrupted attempts (e.g. during an outage). */
  async #abortStale(key: string): Promise<void> {
    const { client, bucket } = this.#o;
    const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
    for (const stale of listed.Uploads ?? []) {
      if (stale.Key !== key || !stale.UploadId) continue;
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: stale.UploadId }),
      );
      this.#o.logger.info('aborted a stale multipart upload', { key });
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
