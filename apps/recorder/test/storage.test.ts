import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { RecorderStatus } from '@microstudio/protocol';
import { recorderStatusSchema } from '@microstudio/protocol';
import { silentLogger } from '../src/log.ts';
import { Retention } from '../src/Retention.ts';
import { createS3Client } from '../src/s3.ts';
import { describeStorageError, storageEndpoint } from '../src/storageErrors.ts';
import { Uploader } from '../src/Uploader.ts';
import { UploadJournal } from '../src/UploadJournal.ts';
import { freePort, startMoto } from './moto.ts';

const BUCKET = 'microstudio-storage';
const HOUR = 3_600_000;
let root: string;
let moto: Awaited<ReturnType<typeof startMoto>>;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'microstudio-storage-'));
  moto = await startMoto(BUCKET);
});

after(async () => {
  moto?.stop();
  await rm(root, { recursive: true, force: true });
});

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

function uploader(
  journal: UploadJournal,
  o: { bucket?: string; endpoint?: string; retention?: Retention; ownedPrefixes?: string[] } = {},
): Uploader {
  return new Uploader({
    client: createS3Client({ endpoint: o.endpoint ?? moto.endpoint, region: 'us-east-1', credentials }),
    bucket: o.bucket ?? BUCKET,
    journal,
    logger: silentLogger,
    backoffMs: 50,
    maxBackoffMs: 200,
    ...(o.retention ? { retention: o.retention } : {}),
    ...(o.ownedPrefixes ? { ownedPrefixes: o.ownedPrefixes } : {}),
  });
}

/** A fresh recordings directory with its journal. */
async function recordings(
  name: string,
): Promise<{ dir: string; journalPath: string; journal: UploadJournal }> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  const journalPath = join(dir, 'uploads.jsonl');
  return { dir, journalPath, journal: new UploadJournal(journalPath) };
}

async function file(path: string, bytes: number): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, randomBytes(bytes));
  return path;
}

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const setAuth = async (on: boolean): Promise<void> => {
  // moto_server's auth switch: after this many unauthenticated requests it checks every request's
  // access key against its IAM (where "test" does not exist); inf turns checking off again.
  const res = await fetch(`${moto.endpoint}/moto-api/reset-auth`, { method: 'POST', body: on ? '0' : 'inf' });
  assert.equal(res.status, 200);
};

const validUploads = (status: RecorderStatus['uploads']): void => {
  assert.ok(recorderStatusSchema.shape.uploads.safeParse(status).success, JSON.stringify(status));
};

describe('storage errors: each gives a clear sentence, loses nothing, and the queue drains once fixed', () => {
  test('a wrong bucket: lastError names the bucket and endpoint, state failing, entries kept; creating the bucket drains the queue', async () => {
    const { dir, journal } = await recordings('wrong-bucket');
    const missing = 'no-such-bucket-here';
    const up = uploader(journal, { bucket: missing });
    up.start();
    const a = await file(join(dir, 'show/cam/video/000000.webm'), 200_000);
    await up.enqueue('show/cam/video/000000.webm', a);
    await up.enqueue('show/cam/video/000000.webm.json', await file(`${a}.json`, 300));
    await until('a failure', () => up.failures >= 1);

    assert.equal(up.lastError, `bucket "${missing}" does not exist at ${moto.endpoint}`);
    const failing = up.status();
    validUploads(failing);
    assert.deepEqual(failing, {
      state: 'failing',
      bucket: missing,
      pending: 2,
      pendingBytes: 200_300,
      confirmed: 0,
      lastError: up.lastError,
    });
    assert.equal(journal.pending().length, 2, 'nothing dropped from the queue');
    assert.ok(existsSync(a) && existsSync(`${a}.json`), 'local files untouched');

    await moto.client.send(new CreateBucketCommand({ Bucket: missing }));
    assert.ok(await up.drained(10_000), `drains once the bucket exists (${up.lastError})`);
    await up.stop();
    const done = up.status();
    validUploads(done);
    assert.deepEqual(done, {
      state: 'idle',
      bucket: missing,
      pending: 0,
      pendingBytes: 0,
      confirmed: 2,
      lastError: null,
    });
    const head = await moto.client.send(
      new HeadObjectCommand({ Bucket: missing, Key: 'show/cam/video/000000.webm' }),
    );
    assert.equal(head.ContentLength, 200_000);
    assert.ok(existsSync(a), 'no retention policy: the local file stays after upload');
    journal.close();
  });

  test('refused credentials (moto_server auth on): lastError says so with the code, entries kept; accepted again, the queue drains', async () => {
    const { dir, journal } = await recordings('bad-credentials');
    await setAuth(true);
    try {
      // ownedPrefixes: the first request is ListMultipartUploads (a GET, so S3 sends its code).
      const up = uploader(journal, { ownedPrefixes: ['show/'] });
      up.start();
      const a = await file(join(dir, 'show/cam/audio/000000.webm'), 50_000);
      await up.enqueue('show/cam/audio/000000.webm', a);
      await until('a failure', () => up.failures >= 1);
      assert.match(
        up.lastError ?? '',
        new RegExp(
          `^storage at ${moto.endpoint.replaceAll('.', '\\.')} refused the credentials for bucket "${BUCKET}" \\(AWS_ACCESS_KEY_ID.*\\): InvalidAccessKeyId`,
        ),
      );
      assert.equal(up.status().state, 'failing');
      assert.equal(up.status().pending, 1);
      assert.ok(existsSync(a));

      await setAuth(false);
      assert.ok(await up.drained(10_000), `drains once the credentials are accepted (${up.lastError})`);
      await up.stop();
      assert.equal(up.status().state, 'idle');
      assert.equal(up.status().lastError, null);
    } finally {
      await setAuth(false);
      journal.close();
    }
  });

  test('unreachable storage (nothing listening): lastError says unreachable with the endpoint', async () => {
    const { dir, journal } = await recordings('unreachable');
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const up = uploader(journal, { endpoint });
    up.start();
    await up.enqueue('show/x/video/000000.webm', await file(join(dir, 'x.webm'), 1000));
    await until('a failure', () => up.failures >= 1);
    await up.stop();
    assert.equal(up.lastError, `storage unreachable at ${endpoint}: connection refused (ECONNREFUSED)`);
    assert.equal(up.status().state, 'failing');
    assert.equal(journal.pending().length, 1);
    journal.close();
  });

  test('the mapping, for errors the SDK builds (what real S3, MinIO and proxies answer)', async () => {
    const where = { bucket: 'shows', endpoint: 'https://s3.example.net' };
    const s3Error = (name: string, status: number, message = 'msg'): Error =>
      Object.assign(new Error(message), { name, Code: name, $metadata: { httpStatusCode: status } });
    const socketError = (code: string, message: string): Error =>
      Object.assign(new Error(message), { code, $metadata: { attempts: 1 } });

    assert.equal(
      describeStorageError(s3Error('NoSuchBucket', 404), where),
      'bucket "shows" does not exist at https://s3.example.net',
    );
    for (const code of ['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied']) {
      const text = describeStorageError(s3Error(code, 403, 'The thing you sent'), where);
      assert.ok(
        text.startsWith(
          'storage at https://s3.example.net refused the credentials for bucket "shows" (AWS_ACCESS_KEY_ID',
        ),
        text,
      );
      assert.ok(text.endsWith(`: ${code}: The thing you sent`), text);
    }
    // HeadObject's 403 has no body: no code, only the status.
    const head403 = Object.assign(new Error('UnknownError'), {
      name: 'Unknown',
      $metadata: { httpStatusCode: 403 },
    });
    assert.match(describeStorageError(head403, where), /refused the credentials .*: HTTP 403$/);
    assert.equal(
      describeStorageError(socketError('ENOTFOUND', 'getaddrinfo ENOTFOUND s3.example.net'), where),
      'storage unreachable at https://s3.example.net: host name not found (ENOTFOUND)',
    );
    const timeout = Object.assign(new Error('request has exceeded the configured 5000 ms requestTimeout'), {
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
    });
    assert.equal(
      describeStorageError(timeout, where),
      'storage unreachable at https://s3.example.net: no answer in time (ETIMEDOUT)',
    );
    // Node's happy eyeballs: every address refused.
    const aggregate = new AggregateError([socketError('ECONNREFUSED', 'connect ECONNREFUSED ::1:9000')], '');
    assert.match(describeStorageError(aggregate, where), /^storage unreachable at .*: connection refused/);
    assert.match(
      describeStorageError(
        Object.assign(new Error('Could not load credentials from any providers'), {
          name: 'CredentialsProviderError',
        }),
        where,
      ),
      /^no storage credentials for bucket "shows" at https:\/\/s3\.example\.net: set AWS_ACCESS_KEY_ID/,
    );
    assert.equal(
      describeStorageError(s3Error('InternalError', 500, 'We encountered an internal error'), where),
      'storage error at https://s3.example.net (bucket "shows"): InternalError: We encountered an internal error',
    );
    assert.equal(
      describeStorageError('boom', where),
      'storage error at https://s3.example.net (bucket "shows"): boom',
    );
    assert.equal(describeStorageError(s3Error('SlowDown', 503, 'x'.repeat(2000)), where).length, 500);

    assert.equal(
      await storageEndpoint(createS3Client({ endpoint: 'http://minio.lan:9000', region: 'eu-west-1' })),
      'http://minio.lan:9000',
    );
    assert.equal(
      await storageEndpoint(createS3Client({ region: 'eu-west-1', credentials })),
      'AWS S3 (eu-west-1)',
    );
  });
});

describe('retention: only confirmed files, only inside the recordings directory', () => {
  test('0 hours: a file goes right after its confirmation, never while pending (outage); deletions survive a restart', async () => {
    const { dir, journalPath, journal } = await recordings('keep-0');
    const retention = new Retention({ dir, journal, keepHours: 0, logger: silentLogger });
    const seg = await file(join(dir, 'show/cam/video/000000.webm'), 300_000);
    const side = await file(`${seg}.json`, 200);

    // Outage: nothing listens. The entries stay pending, and nothing is deleted.
    const down = uploader(journal, { endpoint: `http://127.0.0.1:${await freePort()}`, retention });
    down.start();
    await down.enqueue('show/cam/video/000000.webm', seg);
    await down.enqueue('show/cam/video/000000.webm.json', side);
    await until('a failure', () => down.failures >= 2);
    await down.stop();
    await retention.confirmed('show/cam/video/000000.webm');
    await retention.sweep();
    assert.ok(existsSync(seg) && existsSync(side), 'pending files stay');
    assert.equal(retention.deletedFiles, 0);

    // Storage back: each file goes once its own upload is confirmed.
    const up = uploader(journal, { retention });
    const states = new Set<string>();
    const watch = setInterval(() => states.add(up.status().state), 2);
    up.start();
    const big = await file(join(dir, 'show/cam/video/000001.webm'), 6 * 1024 * 1024);
    await up.enqueue('show/cam/video/000001.webm', big);
    assert.ok(await up.drained(20_000), `drained (${up.lastError})`);
    await until('local copies deleted', () => retention.deletedFiles === 3);
    clearInterval(watch);
    await up.stop();
    assert.ok(states.has('uploading'), `status shows uploading while one runs (${[...states]})`);
    assert.ok(!existsSync(seg) && !existsSync(side) && !existsSync(big));
    assert.equal(retention.deletedBytes, 300_000 + 200 + 6 * 1024 * 1024);
    assert.deepEqual(retention.status(), {
      keepHours: 0,
      deletedFiles: 3,
      deletedBytes: 300_000 + 200 + 6 * 1024 * 1024,
    });
    for (const key of ['show/cam/video/000000.webm', 'show/cam/video/000001.webm']) {
      const head = await moto.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
      assert.ok(head.ContentLength, `${key} is in the bucket`);
    }
    assert.ok(existsSync(journalPath), 'the journal itself stays');

    // Restart: the deletions are journaled; nothing is counted or tried again.
    journal.close();
    const reopened = new UploadJournal(journalPath);
    assert.ok(reopened.all().every((e) => e.done && e.deleted));
    const again = new Retention({ dir, journal: reopened, keepHours: 0, logger: silentLogger });
    await again.sweep();
    assert.equal(again.deletedFiles, 0);
    reopened.close();
  });

  test('N hours: only confirmed files older than N; pending, young, changed, outside and symlinked files stay; unset keeps all', async () => {
    const { dir, journalPath, journal } = await recordings('keep-n');
    const outsideDir = join(root, 'elsewhere');
    const now = Date.now();
    const aged = async (path: string, hoursAgo: number, bytes = 1000): Promise<string> => {
      await file(path, bytes);
      const t = new Date(now - hoursAgo * HOUR);
      await utimes(path, t, t);
      return path;
    };
    const entry = async (key: string, path: string, done: boolean): Promise<void> => {
      const { size } = await stat(path);
      journal.add({ key, path, size, expectedEtag: '"x"' });
      if (done) journal.markDone(key);
    };
    const old = await aged(join(dir, 'r/a/v/old.webm'), 3);
    await entry('r/a/v/old.webm', old, true);
    const oldSidecar = await aged(`${old}.json`, 3, 100);
    await entry('r/a/v/old.webm.json', oldSidecar, true);
    const young = await aged(join(dir, 'r/a/v/young.webm'), 1);
    await entry('r/a/v/young.webm', young, true);
    const pending = await aged(join(dir, 'r/a/v/pending.webm'), 30);
    await entry('r/a/v/pending.webm', pending, false);
    const outside = await aged(join(outsideDir, 'outside.webm'), 30);
    await entry('r/outside.webm', outside, true);
    const dotdot = await aged(join(outsideDir, 'dotdot.webm'), 30);
    await entry('r/dotdot.webm', join(dir, '..', 'elsewhere', 'dotdot.webm'), true);
    const target = await aged(join(outsideDir, 'target.webm'), 30);
    const link = join(dir, 'r/a/v/link.webm');
    await symlink(target, link);
    await entry('r/a/v/link.webm', link, true);
    await mkdir(join(dir, 'r/b'), { recursive: true });
    await symlink(outsideDir, join(dir, 'r/b/escape'));
    await entry('r/b/escape/target.webm', join(dir, 'r/b/escape/target.webm'), true);
    const changed = await aged(join(dir, 'r/a/v/changed.webm'), 30);
    await entry('r/a/v/changed.webm', changed, true);
    await writeFile(changed, 'rewritten after its upload');
    const handGone = await aged(join(dir, 'r/a/v/gone.webm'), 30);
    await entry('r/a/v/gone.webm', handGone, true);
    await rm(handGone);

    // Unset: keep forever, whatever the age.
    await new Retention({ dir, journal, keepHours: undefined, logger: silentLogger }).sweep();
    assert.ok(existsSync(old) && existsSync(oldSidecar));

    let clock = now;
    const retention = new Retention({ dir, journal, keepHours: 2, logger: silentLogger, now: () => clock });
    await retention.sweep();
    assert.ok(!existsSync(old) && !existsSync(oldSidecar), 'confirmed and older than 2 h: deleted');
    assert.equal(retention.deletedFiles, 2, 'a file already gone is journaled but not counted');
    assert.equal(retention.deletedBytes, 1100);
    assert.ok(existsSync(young), 'younger than 2 h: kept');
    assert.ok(existsSync(pending), 'not confirmed: kept, however old');
    assert.ok(existsSync(outside) && existsSync(dotdot), 'outside the recordings directory: kept');
    assert.ok(existsSync(link) && existsSync(target), 'a symlink is not deleted, nor its target');
    assert.ok(existsSync(changed), 'changed since its upload: kept');
    assert.equal(journal.get('r/a/v/gone.webm')?.deleted, true, 'deleted by hand: journaled, not retried');

    // Two hours later the young file has aged too; the rest still stays.
    clock = now + 2 * HOUR;
    await retention.sweep();
    assert.ok(!existsSync(young));
    assert.equal(retention.deletedFiles, 3);
    assert.ok(existsSync(pending) && existsSync(outside) && existsSync(dotdot) && existsSync(target));
    assert.ok(existsSync(link) && existsSync(changed));

    journal.close();
    const reopened = new UploadJournal(journalPath);
    const deleted = reopened
      .all()
      .filter((e) => e.deleted)
      .map((e) => e.key)
      .sort();
    assert.deepEqual(deleted, [
      'r/a/v/gone.webm',
      'r/a/v/old.webm',
      'r/a/v/old.webm.json',
      'r/a/v/young.webm',
    ]);
    assert.equal(reopened.get('r/a/v/pending.webm')?.done, false);
    reopened.close();
  });
});
