import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  CreateBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { expectedEtag } from '../src/etag.ts';
import { silentLogger } from '../src/log.ts';
import { createS3Client } from '../src/s3.ts';
import { PART_SIZE, Uploader } from '../src/Uploader.ts';
import { UploadJournal } from '../src/UploadJournal.ts';

const BUCKET = 'microstudio-test';
let dir: string;
let moto: ChildProcess;
let endpoint: string;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'microstudio-upload-'));
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  // A real S3-protocol server as its own process (README: provisioning checks for moto_server).
  moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(endpoint).then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await createS3Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  }).send(new CreateBucketCommand({ Bucket: BUCKET }));
});

after(async () => {
  moto.kill('SIGCONT');
  moto.kill('SIGTERM');
  await rm(dir, { recursive: true, force: true });
});

function newUploader(journal: UploadJournal): Uploader {
  return new Uploader({
    client: createS3Client({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
    bucket: BUCKET,
    journal,
    logger: silentLogger,
    backoffMs: 200,
    maxBackoffMs: 1000,
  });
}

async function segment(name: string, bytes: number): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, randomBytes(bytes));
  return path;
}

test('uploads through a storage outage: the queue grows, then drains; every segment once with its size and ETag; the journal survives a restart', async () => {
  const journalPath = join(dir, 'uploads.jsonl');
  const journal = new UploadJournal(journalPath);
  const uploader = newUploader(journal);
  uploader.start();
  const files: { key: string; path: string }[] = [];
  const add = async (i: number, bytes: number) => {
    const path = await segment(`seg-${i}.webm`, bytes);
    const key = `show/cam-a/video/${String(i).padStart(6, '0')}.webm`;
    files.push({ key, path });
    await uploader.enqueue(key, path);
  };
  // Before the outage: small segments and one multipart-sized (2 parts).
  await add(0, 300_000);
  await add(1, PART_SIZE + 700_000);
  assert.ok(await uploader.drained(20_000), 'first segments uploaded');

  // Outage: the storage process is stopped (SIGSTOP: moto keeps its bucket in memory, a kill
  // would lose it). Enqueueing stays instant; the queue grows.
  moto.kill('SIGSTOP');
  const t0 = Date.now();
  for (let i = 2; i < 6; i++) await add(i, i === 3 ? PART_SIZE + 100_000 : 200_000);
  assert.ok(Date.now() - t0 < 2000, 'enqueue does not wait for storage');
  for (let i = 0; i < 100 && uploader.failures === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(uploader.pending, 4, 'nothing uploads during the outage');
  assert.ok(uploader.failures >= 1, `failures are counted (${uploader.lastError})`);

  // A restart of the recorder during the outage: the journal brings the queue back.
  await uploader.stop();
  journal.close();
  const journal2 = new UploadJournal(journalPath);
  assert.equal(journal2.pending().length, 4);
  assert.equal(journal2.all().filter((e) => e.done).length, 2);
  const uploader2 = newUploader(journal2);
  uploader2.start();

  moto.kill('SIGCONT');
  assert.ok(await uploader2.drained(40_000), `queue drains after the outage (${uploader2.lastError})`);
  await uploader2.stop();

  const client = createS3Client({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  const keys = (listed.Contents ?? []).map((o) => o.Key).sort();
  assert.deepEqual(keys, files.map((f) => f.key).sort(), 'every segment exactly once');
  for (const { key, path } of files) {
    const { size } = await stat(path);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    assert.equal(head.ContentLength, size);
    assert.equal(head.ETag, await expectedEtag(path, size, PART_SIZE));
  }
  const multipart = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  assert.deepEqual(multipart.Uploads ?? [], [], 'no multipart upload left dangling');

  // After a clean restart nothing is uploaded again.
  journal2.close();
  const journal3 = new UploadJournal(journalPath);
  assert.equal(journal3.pending().length, 0);
  journal3.close();
});
