import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '@microstudio/config';
import { createLogger, type LogLevel } from '../src/log.ts';
import { startNode } from '../src/node.ts';
import { Shipper } from '../src/telemetry/Shipper.ts';
import { Spool } from '../src/telemetry/Spool.ts';
import { spoolingTelemetry } from '../src/telemetry/telemetrySink.ts';
import { freeRtcPorts, TEST_ADMIN_SECRET, TEST_TOKEN_SECRET } from './helpers.ts';

const secret = 'spool-test-secret-0123456789';
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'microstudio-spool-'));
  dirs.push(dir);
  return dir;
}

interface StoredRecord {
  seq: number;
  record: { type?: string; i?: number; from?: number; to?: number };
}

/**
 * A central receiver as the shipper expects one: keeps records by (node, seq), so a resent batch
 * stores nothing twice; counts every record delivered on the wire too.
 */
class Receiver {
  readonly stored = new Map<string, StoredRecord>();
  /** Seqs in the order they were first stored. */
  readonly order: number[] = [];
  delivered = 0;
  /** Every batch (first-last) seen on the wire. */
  readonly batches = new Set<string>();
  /** Requests whose records are stored but whose response is never sent (a lost 2xx). */
  dropResponses = 0;
  readonly problems: string[] = [];
  private server: Server | undefined;

  constructor(readonly port: number) {}

  static async onFreePort(): Promise<Receiver> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return new Receiver(port);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/ingest`;
  }

  async up(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (req.headers.authorization !== `Bearer ${secret}`) {
          this.problems.push('bad authorization');
          res.writeHead(401).end();
          return;
        }
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          node: string;
          batchFirstSeq: number;
          batchLastSeq: number;
          records: StoredRecord[];
        };
        const key = `${body.node}:${body.batchFirstSeq}-${body.batchLastSeq}`;
        this.batches.add(`${body.batchFirstSeq}-${body.batchLastSeq}`);
        if (req.headers['idempotency-key'] !== key)
          this.problems.push(`bad key ${req.headers['idempotency-key']}`);
        if (body.records[0]?.seq !== body.batchFirstSeq || body.records.at(-1)?.seq !== body.batchLastSeq) {
          this.problems.push('batch bounds do not match its records');
        }
        for (const entry of body.records) {
          this.delivered += 1;
          const id = `${body.node}:${entry.seq}`;
          if (this.stored.has(id)) continue;
          this.stored.set(id, entry);
          this.order.push(entry.seq);
        }
        if (this.dropResponses > 0) {
          this.dropResponses -= 1;
          req.socket.destroy();
          return;
        }
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
  }

  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  records(): StoredRecord[] {
    return this.order.map((seq) => this.stored.get(`node-a:${seq}`) as StoredRecord);
  }
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const fastShipping = { node: 'node-a', secret, initialBackoffMs: 5, maxBackoffMs: 40, idlePollMs: 20 };
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, k) => from + k);

test('2 000 records spooled while the receiver refuses connections are all stored once, in order, when it comes up', async () => {
  const dir = tempDir();
  const receiver = await Receiver.onFreePort();
  const spool = new Spool({ dir, maxBytes: 64 * 1024 * 1024, segmentBytes: 16 * 1024, flushIntervalMs: 20 });
  const shipper = new Shipper({ spool, url: receiver.url, ...fastShipping });
  shipper.start();
  try {
    for (let i = 0; i < 2000; i++) {
      spool.append({ type: 'log', i });
      if (i % 250 === 249) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    spool.flush();
    await waitFor('failed attempts while the receiver is down', () => shipper.stats().failures >= 2);
    assert.equal(receiver.delivered, 0);
    assert.ok(readdirSync(dir).filter((n) => n.startsWith('seg-')).length > 1, 'segments rotated');

    await receiver.up();
    await waitFor('every record stored', () => receiver.stored.size === 2000);
    await waitFor('the cursor at the last record', () => spool.shipped === 2000);

    assert.deepEqual(receiver.problems, []);
    assert.deepEqual(receiver.order, range(1, 2000), 'stored in sequence order');
    assert.deepEqual(
      receiver.records().map((r) => r.record.i),
      range(0, 1999),
    );
    assert.equal(receiver.delivered, 2000, 'nothing delivered twice (every 2xx arrived)');
    assert.ok(shipper.stats().batches >= 4, 'batches of at most 500 records');
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('seg-')).length,
      1,
      'shipped segments are deleted (the one being written stays)',
    );
  } finally {
    await shipper.close();
    spool.close();
    await receiver.down();
  }
});

test('after a crash the spool reopens, continues the sequence and ships what was fsynced, with no duplicate stored', async () => {
  const dir = tempDir();
  const receiver = await Receiver.onFreePort();
  await receiver.up();
  // Every 2xx is lost until the crash: the first batch is stored but never acknowledged.
  receiver.dropResponses = Number.POSITIVE_INFINITY;
  const first = new Spool({ dir, maxBytes: 64 * 1024 * 1024, segmentBytes: 8 * 1024, flushIntervalMs: 20 });
  const firstShipper = new Shipper({ spool: first, url: receiver.url, ...fastShipping });
  for (let i = 0; i < 300; i++) first.append({ type: 'log', i });
  first.flush();
  firstShipper.start();
  await waitFor('the first batch (1-300) delivered', () => receiver.stored.size === 300);
  for (let i = 300; i < 1000; i++) first.append({ type: 'log', i });
  first.flush(); // the last fsync point
  // Crash: records appended after the last fsync are lost with the process; nothing is flushed.
  for (let i = 1000; i < 1050; i++) first.append({ type: 'log', i });
  first.abandon();
  await firstShipper.close();
  assert.equal(receiver.stored.size, 300);
  receiver.dropResponses = 0;

  const second = new Spool({ dir, maxBytes: 64 * 1024 * 1024, segmentBytes: 8 * 1024, flushIntervalMs: 20 });
  const secondShipper = new Shipper({ spool: second, url: receiver.url, ...fastShipping });
  try {
    assert.equal(second.stats().nextSeq, 1001, 'the sequence continues after the last durable record');
    for (let i = 2000; i < 2100; i++) assert.ok((second.append({ type: 'log', i }) ?? 0) > 1000);
    second.flush();
    secondShipper.start();
    await waitFor('everything durable stored', () => receiver.stored.size === 1100);
    await waitFor('the cursor at the last record', () => second.shipped === 1100);

    assert.deepEqual(receiver.problems, []);
    assert.deepEqual(
      [...receiver.order].sort((a, b) => a - b),
      range(1, 1100),
      'each seq stored once',
    );
    const bySeq = new Map(receiver.records().map((r) => [r.seq, r.record.i]));
    assert.deepEqual(
      range(1, 1100).map((seq) => bySeq.get(seq)),
      [...range(0, 999), ...range(2000, 2099)],
      'what was fsynced before the crash, then what the new process appended',
    );
    assert.ok(receiver.delivered > receiver.stored.size, 'the batch whose 2xx was lost was resent');
    // A resent batch, before or after the restart, has the same boundaries (and Idempotency-Key).
    assert.ok(receiver.batches.has('1-300'), 'the unacknowledged batch was resent as it was');
    const bounds = [...receiver.batches].map((b) => b.split('-').map(Number) as [number, number]);
    for (const [i, [from, to]] of bounds.entries()) {
      for (const [otherFrom, otherTo] of bounds.slice(i + 1)) {
        assert.ok(
          to < otherFrom || otherTo < from,
          `batches ${from}-${to} and ${otherFrom}-${otherTo} overlap`,
        );
      }
    }
    assert.equal(receiver.stored.size, 1100);
  } finally {
    await secondShipper.close();
    second.close();
    await receiver.down();
  }
});

test('over the size cap the oldest segments go, a spool-dropped record reports the exact range, the rest ships once', async () => {
  const dir = tempDir();
  const receiver = await Receiver.onFreePort();
  const spool = new Spool({ dir, maxBytes: 16 * 1024, segmentBytes: 4 * 1024, flushIntervalMs: 1_000_000 });
  const shipper = new Shipper({ spool, url: receiver.url, ...fastShipping });
  shipper.start();
  try {
    for (let i = 0; i < 2000; i++) {
      spool.append({ type: 'log', i, pad: 'x'.repeat(40) });
      if (i % 100 === 99) {
        spool.flush();
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    spool.flush();
    assert.ok(spool.stats().bytes <= 16 * 1024 + 4 * 1024, 'the spool stays near its cap');
    assert.ok(spool.stats().dropped > 0);

    await receiver.up();
    const lastSeq = spool.stats().nextSeq - 1;
    await waitFor('everything left shipped', () => spool.shipped === lastSeq);

    assert.deepEqual(receiver.problems, []);
    assert.equal(receiver.delivered, receiver.stored.size, 'nothing delivered twice');
    const drops = receiver.records().filter((r) => r.record.type === 'spool-dropped');
    assert.ok(drops.length >= 1, 'the loss itself was shipped');
    const covered = new Map<number, string>();
    for (const { seq } of receiver.records()) covered.set(seq, 'stored');
    let droppedCount = 0;
    for (const { record } of drops) {
      const { from, to } = record as { from: number; to: number };
      for (const seq of range(from, to)) {
        assert.ok(!covered.has(seq), `seq ${seq} is both ${covered.get(seq)} and reported dropped`);
        covered.set(seq, 'dropped');
        droppedCount += 1;
      }
    }
    assert.deepEqual(
      [...covered.keys()].sort((a, b) => a - b),
      range(1, lastSeq),
      'every seq is either stored once or inside a reported range',
    );
    assert.equal(droppedCount, spool.stats().dropped);
    // The records stored are the oldest in-flight batch plus the newest ones: nothing in between.
    const data = receiver.records().filter((r) => r.record.type === 'log');
    assert.equal(data.at(-1)?.record.i, 1999, 'the newest record survived');
    assert.deepEqual(
      data.map((r) => r.seq),
      [...data.map((r) => r.seq)].sort((a, b) => a - b),
      'stored in order',
    );
  } finally {
    await shipper.close();
    spool.close();
    await receiver.down();
  }
});

test('an unwritable spool directory costs only counted errors: appends, logging and shipping never throw', async () => {
  const parent = tempDir();
  const file = join(parent, 'not-a-directory');
  writeFileSync(file, 'x');
  const lines: { line: string; level: LogLevel }[] = [];
  let spool: Spool | undefined;
  const logger = createLogger(
    'info',
    (line, level) => lines.push({ line, level }),
    'sfu',
    'text',
    (line) => spool?.appendJson(line),
  );
  spool = new Spool({ dir: join(file, 'spool'), maxBytes: 1024 * 1024, logger: logger.child('spool') });
  const receiver = await Receiver.onFreePort();
  await receiver.up();
  const shipper = new Shipper({ spool, url: receiver.url, ...fastShipping });
  shipper.start();
  try {
    for (let i = 0; i < 100; i++) {
      assert.doesNotThrow(() => spool?.append({ type: 'log', i }));
      logger.info('the node keeps working', { i });
    }
    assert.doesNotThrow(() => spool?.flush());
    const stats = spool.stats();
    assert.equal(stats.appended, 0);
    assert.ok(stats.errors >= 200, 'every refused append is counted');
    assert.equal(stats.dropped, stats.errors - 1, 'one open error, then one per refused record');
    assert.equal(lines.filter((l) => l.level === 'error').length, 1, 'the disk error is logged once');
    assert.equal(lines.filter((l) => l.line.includes('the node keeps working')).length, 100);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(receiver.delivered, 0);
  } finally {
    await shipper.close();
    spool.close();
    await receiver.down();
  }
});

test('client telemetry reports go to the metrics and to the spool', () => {
  const spool = new Spool({ dir: tempDir(), maxBytes: 1024 * 1024 });
  const seen: unknown[] = [];
  const sink = spoolingTelemetry({ record: (_origin, report) => seen.push(report) }, spool);
  sink.record({ role: 'viewer', roomId: 'main', sourceId: undefined }, { hop: 'site', rttMs: 12 });
  assert.equal(seen.length, 1);
  spool.flush();
  const batch = spool.readBatch(0, 10, 1 << 20);
  spool.close();
  assert.equal(batch?.lines.length, 1);
  const stored = JSON.parse(batch?.lines[0] ?? '{}');
  assert.equal(stored.seq, 1);
  assert.equal(stored.record.type, 'telemetry');
  assert.equal(stored.record.role, 'viewer');
  assert.deepEqual(stored.record.report, { hop: 'site', rttMs: 12 });
});

test('a node with MICROSTUDIO_SHIP_URL ships its log lines under its node id', async () => {
  const dir = tempDir();
  const receiver = await Receiver.onFreePort();
  await receiver.up();
  const config = loadConfig({
    MICROSTUDIO_SFU_HOST: '127.0.0.1',
    MICROSTUDIO_RTC_LISTEN_IP: '127.0.0.1',
    MICROSTUDIO_ANNOUNCED_IP: '127.0.0.1',
    MICROSTUDIO_RTC_PORT: String(await freeRtcPorts(1)),
    MICROSTUDIO_WORKERS: '1',
    MICROSTUDIO_TOKEN_SECRET: TEST_TOKEN_SECRET,
    MICROSTUDIO_ADMIN_SECRET: TEST_ADMIN_SECRET,
    MICROSTUDIO_NODE_SECRET: secret,
    MICROSTUDIO_NODE_ID: 'node-a',
    MICROSTUDIO_LOG_FORMAT: 'json',
    MICROSTUDIO_SHIP_URL: receiver.url,
    MICROSTUDIO_SPOOL_DIR: dir,
  });
  // The node's own logger (one `worker started` line on stdout) with the spool as its tap.
  const node = await startNode(config, { port: 0 });
  try {
    await waitFor('the worker-started log line shipped', () =>
      receiver.records().some((r) => (r.record as { msg?: string }).msg === 'worker started'),
    );
    assert.deepEqual(receiver.problems, []);
    assert.equal(receiver.delivered, receiver.stored.size);
  } finally {
    await node.close();
    await receiver.down();
  }
  assert.ok(readdirSync(dir).includes('cursor'), 'the cursor is on disk');
});
