import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'redis';
import { createFabric } from '../src/fabric/createFabric.ts';
import {
  type Fabric,
  FabricError,
  type NodeAnnouncement,
  type NodeRecord,
  type Revocation,
} from '../src/fabric/Fabric.ts';
import { Heartbeat } from '../src/fabric/Heartbeat.ts';
import { LocalFabric } from '../src/fabric/LocalFabric.ts';
import { placeViewer } from '../src/fabric/placement.ts';
import { RedisFabric } from '../src/fabric/RedisFabric.ts';
import { silentLogger } from '../src/log.ts';
import { captureLogger, eventually, sleep } from './support/polling.ts';
import { startRedisServer, type TestRedis } from './support/redisServer.ts';

function announcement(nodeId: string, overrides: Partial<NodeAnnouncement> = {}): NodeAnnouncement {
  return {
    nodeId,
    role: 'edge',
    region: 'eu-west',
    publicUrl: `https://${nodeId}.example.net`,
    internalUrl: `http://10.0.0.1:4000/${nodeId}`,
    capacity: 500,
    viewers: 0,
    pipes: 0,
    uplink: 'up',
    ...overrides,
  };
}

const ids = (records: NodeRecord[]): string[] => records.map((r) => r.nodeId).sort();
const byInvite = (revocations: Revocation[]): Revocation[] =>
  [...revocations].sort((a, b) => a.inviteId.localeCompare(b.inviteId));

/** What the contract suite needs from an implementation. */
interface Harness {
  /** A fresh fabric that sees no other test's entries. */
  make(): Promise<Fabric>;
  /** Lets `ms` of the fabric's time pass (a fake clock for LocalFabric, real time for Redis). */
  elapse(ms: number): Promise<void>;
  now(): number;
  /** A ttl short enough to watch expire, long enough for the fabric to answer well within it. */
  shortTtlMs: number;
}

function contractSuite(name: string, harness: () => Harness): void {
  describe(`Fabric contract: ${name}`, () => {
    const opened: Fabric[] = [];
    const make = async () => {
      const fabric = await harness().make();
      opened.push(fabric);
      return fabric;
    };
    after(async () => {
      for (const fabric of opened) await fabric.close();
    });

    test('announce then nodes() returns the record, stamped with updatedAt', async () => {
      const fabric = await make();
      const before = harness().now();
      await fabric.announce(announcement('edge-a', { viewers: 7, pipes: 2 }), 60_000);
      const after = harness().now();
      const [record, ...rest] = await fabric.nodes();
      assert.equal(rest.length, 0);
      assert.ok(record);
      const { updatedAt, ...fields } = record;
      assert.deepEqual(fields, announcement('edge-a', { viewers: 7, pipes: 2 }));
      assert.ok(updatedAt >= before && updatedAt <= after, 'updatedAt is the announce time');
    });

    test('announcing again replaces the entry (no duplicate) with the new figures', async () => {
      const fabric = await make();
      await fabric.announce(announcement('edge-a', { viewers: 1 }), 60_000);
      await fabric.announce(announcement('edge-a', { viewers: 9, uplink: 'down' }), 60_000);
      const records = await fabric.nodes();
      assert.equal(records.length, 1);
      assert.equal(records[0]?.viewers, 9);
      assert.equal(records[0]?.uplink, 'down');
    });

    test('an entry expires ttl after the last announce; others stay', async () => {
      const fabric = await make();
      const ttl = harness().shortTtlMs;
      await fabric.announce(announcement('edge-short'), ttl);
      await fabric.announce(announcement('edge-long'), 60_000);
      assert.deepEqual(ids(await fabric.nodes()), ['edge-long', 'edge-short']);
      await harness().elapse(ttl * 2);
      assert.deepEqual(ids(await fabric.nodes()), ['edge-long']);
    });

    test('renewing before expiry extends the entry', async () => {
      const fabric = await make();
      const ttl = harness().shortTtlMs;
      await fabric.announce(announcement('edge-a'), ttl);
      await harness().elapse(ttl * 0.6);
      await fabric.announce(announcement('edge-a'), ttl);
      await harness().elapse(ttl * 0.6);
      // Past the first announce's expiry, within the renewal's.
      assert.deepEqual(ids(await fabric.nodes()), ['edge-a']);
      await harness().elapse(ttl * 1.5);
      assert.deepEqual(ids(await fabric.nodes()), []);
    });

    test('withdraw removes an entry at once; withdrawing an unknown node is fine', async () => {
      const fabric = await make();
      await fabric.announce(announcement('edge-a'), 60_000);
      await fabric.announce(announcement('site-1', { role: 'site', uplink: 'none' }), 60_000);
      await fabric.withdraw('edge-a');
      assert.deepEqual(ids(await fabric.nodes()), ['site-1']);
      await fabric.withdraw('never-announced');
      assert.deepEqual(ids(await fabric.nodes()), ['site-1']);
    });

    test('many nodes announced concurrently are all listed', async () => {
      const fabric = await make();
      const wanted = Array.from({ length: 250 }, (_, i) => `edge-${String(i).padStart(3, '0')}`);
      await Promise.all(wanted.map((id, i) => fabric.announce(announcement(id, { viewers: i }), 60_000)));
      const records = await fabric.nodes();
      assert.deepEqual(ids(records), wanted);
      for (const record of records) assert.equal(record.viewers, wanted.indexOf(record.nodeId));
    });

    test('a caller changing its copy does not change the registry', async () => {
      const fabric = await make();
      await fabric.announce(announcement('edge-a', { viewers: 3 }), 60_000);
      const [first] = await fabric.nodes();
      assert.ok(first);
      first.viewers = 1000;
      assert.equal((await fabric.nodes())[0]?.viewers, 3);
    });

    test('a bad announcement or ttl rejects with FabricError and stores nothing', async () => {
      const fabric = await make();
      await assert.rejects(fabric.announce(announcement('bad id with spaces'), 1000), FabricError);
      await assert.rejects(fabric.announce(announcement('edge-a', { capacity: -1 }), 1000), FabricError);
      await assert.rejects(
        fabric.announce(announcement('edge-a', { publicUrl: 'javascript:alert(1)' }), 1000),
        FabricError,
      );
      await assert.rejects(fabric.announce(announcement('edge-a'), 0), FabricError);
      await assert.rejects(fabric.announce(announcement('edge-a'), Number.NaN), FabricError);
      await assert.rejects(fabric.withdraw('a:b'), FabricError);
      assert.deepEqual(await fabric.nodes(), []);
    });

    test("carries an edge's uplink RTT when announced, and refuses a negative, infinite or absurd one", async () => {
      const fabric = await make();
      await fabric.announce(announcement('edge-a', { uplinkRttMs: 21.37, uplinkRttP95Ms: 48.5 }), 60_000);
      await fabric.announce(announcement('edge-b', { uplink: 'down' }), 60_000);
      const byId = new Map((await fabric.nodes()).map((n) => [n.nodeId, n]));
      assert.equal(byId.get('edge-a')?.uplinkRttMs, 21.37);
      assert.equal(byId.get('edge-a')?.uplinkRttP95Ms, 48.5);
      assert.equal(byId.get('edge-b')?.uplinkRttMs, undefined);
      assert.ok(!('uplinkRttMs' in (byId.get('edge-b') ?? {})));
      for (const uplinkRttMs of [-1, Number.POSITIVE_INFINITY, Number.NaN, 60_001]) {
        await assert.rejects(fabric.announce(announcement('edge-c', { uplinkRttMs }), 1000), FabricError);
      }
      assert.deepEqual(ids(await fabric.nodes()), ['edge-a', 'edge-b']);
    });

    test('a revocation is in force until the invite expires; others stay', async () => {
      const fabric = await make();
      const now = harness().now();
      const ttl = harness().shortTtlMs;
      await fabric.revoke([
        { inviteId: 'inv-long', expiresAt: now + 60_000 },
        { inviteId: 'inv-short', expiresAt: now + ttl },
      ]);
      assert.equal(await fabric.isRevoked('inv-long'), true);
      assert.equal(await fabric.isRevoked('inv-short'), true);
      assert.equal(await fabric.isRevoked('inv-never'), false);
      assert.deepEqual(byInvite(await fabric.revocations()), [
        { inviteId: 'inv-long', expiresAt: now + 60_000 },
        { inviteId: 'inv-short', expiresAt: now + ttl },
      ]);
      await harness().elapse(ttl * 2);
      assert.equal(await fabric.isRevoked('inv-short'), false);
      assert.equal(await fabric.isRevoked('inv-long'), true);
      assert.deepEqual(byInvite(await fabric.revocations()), [
        { inviteId: 'inv-long', expiresAt: now + 60_000 },
      ]);
    });

    test('revoking again keeps the later expiry; an expired revocation or an empty batch stores nothing', async () => {
      const fabric = await make();
      const now = harness().now();
      await fabric.revoke([{ inviteId: 'inv-a', expiresAt: now + 50_000 }]);
      await fabric.revoke([{ inviteId: 'inv-a', expiresAt: now + 40_000 }]);
      await fabric.revoke([]);
      await fabric.revoke([{ inviteId: 'inv-old', expiresAt: now - 1 }]);
      assert.deepEqual(await fabric.revocations(), [{ inviteId: 'inv-a', expiresAt: now + 50_000 }]);
      assert.equal(await fabric.isRevoked('inv-old'), false);
      await fabric.revoke([{ inviteId: 'inv-a', expiresAt: now + 70_000 }]);
      assert.deepEqual(await fabric.revocations(), [{ inviteId: 'inv-a', expiresAt: now + 70_000 }]);
    });

    test('revocations are separate from nodes: neither listing sees the other', async () => {
      const fabric = await make();
      await fabric.announce(announcement('edge-a'), 60_000);
      await fabric.revoke([{ inviteId: 'edge-a', expiresAt: harness().now() + 60_000 }]);
      await fabric.withdraw('edge-a');
      assert.deepEqual(await fabric.nodes(), []);
      assert.equal(await fabric.isRevoked('edge-a'), true);
    });

    test('many revocations written concurrently are all listed', async () => {
      const fabric = await make();
      const now = harness().now();
      const wanted = Array.from({ length: 200 }, (_, i) => ({
        inviteId: crypto.randomUUID(),
        expiresAt: now + 60_000 + i,
      }));
      await Promise.all(wanted.map((r) => fabric.revoke([r])));
      assert.deepEqual(byInvite(await fabric.revocations()), byInvite(wanted));
    });

    test('a bad revocation rejects with FabricError and nothing of its batch is stored', async () => {
      const fabric = await make();
      const good = { inviteId: 'inv-good', expiresAt: harness().now() + 60_000 };
      for (const bad of [
        { inviteId: '', expiresAt: good.expiresAt },
        { inviteId: 'x'.repeat(65), expiresAt: good.expiresAt },
        { inviteId: 'inv-bad', expiresAt: Number.NaN },
        { inviteId: 'inv-bad', expiresAt: -5 },
        { inviteId: 'inv-bad', expiresAt: good.expiresAt + 0.5 },
        { inviteId: 'inv-bad', expiresAt: Number.POSITIVE_INFINITY },
      ]) {
        await assert.rejects(fabric.revoke([good, bad]), FabricError);
      }
      await assert.rejects(fabric.isRevoked(''), FabricError);
      await assert.rejects(fabric.isRevoked('y'.repeat(65)), FabricError);
      assert.deepEqual(await fabric.revocations(), []);
      assert.equal(await fabric.isRevoked('inv-good'), false);
    });

    test('after close() operations reject with FabricError; close() twice is fine', async () => {
      const fabric = await make();
      await fabric.close();
      await fabric.close();
      await assert.rejects(fabric.announce(announcement('edge-a'), 1000), FabricError);
      await assert.rejects(fabric.nodes(), FabricError);
      await assert.rejects(fabric.withdraw('edge-a'), FabricError);
      await assert.rejects(fabric.revoke([{ inviteId: 'inv-a', expiresAt: Date.now() + 1000 }]), FabricError);
      await assert.rejects(fabric.isRevoked('inv-a'), FabricError);
      await assert.rejects(fabric.revocations(), FabricError);
    });
  });
}

let fakeClock = 1_700_000_000_000;
contractSuite('LocalFabric', () => ({
  make: async () => new LocalFabric({ now: () => fakeClock }),
  elapse: async (ms) => {
    fakeClock += ms;
  },
  now: () => fakeClock,
  shortTtlMs: 300,
}));

let sharedRedis: TestRedis;
let prefixCounter = 0;
before(async () => {
  sharedRedis = await startRedisServer();
});
after(async () => {
  await sharedRedis?.stop();
});

contractSuite('RedisFabric', () => ({
  make: async () =>
    new RedisFabric({ url: sharedRedis.url, logger: silentLogger, keyPrefix: `contract${++prefixCounter}:` }),
  elapse: sleep,
  now: Date.now,
  // Real time: long enough that a loaded machine still answers well within it.
  shortTtlMs: 500,
}));

describe('RedisFabric specifics', () => {
  let raw: ReturnType<typeof createClient>;
  before(async () => {
    raw = createClient({ url: sharedRedis.url });
    await raw.connect();
  });
  after(async () => {
    raw.destroy();
  });

  test('each node is a key microstudio:node:<id> holding JSON with a PX ttl', async () => {
    const fabric = new RedisFabric({ url: sharedRedis.url, logger: silentLogger });
    try {
      await fabric.announce(announcement('edge-keyed'), 30_000);
      const text = await raw.get('microstudio:node:edge-keyed');
      assert.ok(text);
      assert.equal(JSON.parse(text).nodeId, 'edge-keyed');
      const ttl = await raw.pTTL('microstudio:node:edge-keyed');
      assert.ok(ttl > 0 && ttl <= 30_000, `the key carries the ttl (PTTL ${ttl})`);
      await fabric.withdraw('edge-keyed');
      assert.equal(await raw.exists('microstudio:node:edge-keyed'), 0);
    } finally {
      await fabric.close();
    }
  });

  test('revocations are one sorted set <prefix>revoked scored by expiry; expired members are pruned', async () => {
    const prefix = 'revset:';
    const fabric = new RedisFabric({ url: sharedRedis.url, logger: silentLogger, keyPrefix: prefix });
    try {
      const now = Date.now();
      await fabric.revoke([
        { inviteId: 'inv-a', expiresAt: now + 60_000 },
        { inviteId: 'inv-b', expiresAt: now + 300 },
      ]);
      assert.equal(await raw.zScore(`${prefix}revoked`, 'inv-a'), now + 60_000);
      assert.equal(await raw.zScore(`${prefix}revoked`, 'inv-b'), now + 300);
      await sleep(600);
      assert.deepEqual(await fabric.revocations(), [{ inviteId: 'inv-a', expiresAt: now + 60_000 }]);
      assert.deepEqual(await raw.zRange(`${prefix}revoked`, 0, -1), ['inv-a'], 'the reader pruned inv-b');
    } finally {
      await fabric.close();
    }
  });

  test('a crashed node (never withdrawn) disappears by itself, index included', async () => {
    const prefix = 'crash:';
    const crashed = new RedisFabric({ url: sharedRedis.url, logger: silentLogger, keyPrefix: prefix });
    await crashed.announce(announcement('edge-crashed'), 300);
    // "Crash": the process goes away without withdrawing.
    await crashed.close();
    const observer = new RedisFabric({ url: sharedRedis.url, logger: silentLogger, keyPrefix: prefix });
    try {
      await sleep(600);
      assert.deepEqual(await observer.nodes(), []);
      assert.deepEqual(await raw.sMembers(`${prefix}nodes`), [], 'the reader pruned the dead id');
    } finally {
      await observer.close();
    }
  });

  test('malformed entries are skipped and logged once each; good ones still listed', async () => {
    const prefix = 'malformed:';
    const log = captureLogger();
    const { logger } = log;
    const fabric = new RedisFabric({ url: sharedRedis.url, logger, keyPrefix: prefix });
    try {
      await fabric.announce(announcement('edge-good'), 60_000);
      const good = JSON.parse((await raw.get(`${prefix}node:edge-good`)) ?? '{}');
      await raw.set(`${prefix}node:not-json`, '{"nodeId": "not-json", oops');
      await raw.set(
        `${prefix}node:wrong-shape`,
        JSON.stringify({ ...good, nodeId: 'wrong-shape', viewers: -3 }),
      );
      await raw.set(`${prefix}node:impostor`, JSON.stringify({ ...good, nodeId: 'someone-else' }));
      await raw.set(`${prefix}node:no-role`, JSON.stringify({ ...good, nodeId: 'no-role', role: 'origin' }));
      await raw.sAdd(`${prefix}nodes`, ['not-json', 'wrong-shape', 'impostor', 'no-role']);

      assert.deepEqual(ids(await fabric.nodes()), ['edge-good']);
      assert.deepEqual(ids(await fabric.nodes()), ['edge-good']);
      for (const id of ['not-json', 'wrong-shape', 'impostor', 'no-role']) {
        assert.equal(log.count('warn', `${prefix}node:${id}`), 1, `${id} logged once`);
      }
      // Skipped, not deleted.
      assert.equal(await raw.exists(`${prefix}node:not-json`), 1);
    } finally {
      await fabric.close();
    }
  });

  test('Redis down: operations reject with FabricError, nothing crashes; back up: they work again', async () => {
    const redis = await startRedisServer();
    const log = captureLogger();
    const { logger } = log;
    const fabric = new RedisFabric({
      url: redis.url,
      logger,
      keyPrefix: 'outage:',
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
    });
    try {
      await fabric.announce(announcement('edge-a'), 60_000);
      assert.deepEqual(ids(await fabric.nodes()), ['edge-a']);

      await redis.stop();
      await eventually('the fabric notices the outage', () => !fabric.connected);
      for (let i = 0; i < 3; i++) {
        await assert.rejects(fabric.announce(announcement('edge-a'), 60_000), (error: unknown) => {
          assert.ok(error instanceof FabricError);
          assert.match(
            error.message,
            /cannot announce: fabric store redis:\/\/127\.0\.0\.1:\d+ is unreachable/,
          );
          return true;
        });
        await assert.rejects(fabric.nodes(), FabricError);
        await assert.rejects(fabric.withdraw('edge-a'), FabricError);
        await assert.rejects(
          fabric.revoke([{ inviteId: 'inv-a', expiresAt: Date.now() + 60_000 }]),
          FabricError,
        );
        await assert.rejects(fabric.isRevoked('inv-a'), FabricError);
        await assert.rejects(fabric.revocations(), FabricError);
        await sleep(50);
      }
      // Every failed reconnect attempt is an 'error' event; the outage is logged once.
      assert.equal(log.count('warn', 'fabric store unreachable'), 1);

      // A fresh, empty server on the same port: the same fabric object heals by itself.
      await redis.restart();
      await eventually('announce works again', async () => {
        await fabric.announce(announcement('edge-a', { viewers: 4 }), 60_000);
        return true;
      });
      const records = await fabric.nodes();
      assert.deepEqual(ids(records), ['edge-a']);
      assert.equal(records[0]?.viewers, 4);
      assert.equal(log.count('info', 'fabric store reachable again'), 1);
    } finally {
      await fabric.close();
      await redis.stop();
    }
  });

  test('a hung Redis (answers nothing) makes operations reject after the timeout, not hang', async () => {
    const redis = await startRedisServer();
    const fabric = new RedisFabric({ url: redis.url, logger: silentLogger, operationTimeoutMs: 300 });
    try {
      await fabric.announce(announcement('edge-a'), 60_000);
      redis.pause();
      await assert.rejects(fabric.nodes(), (error: unknown) => {
        assert.ok(error instanceof FabricError);
        assert.match(error.message, /cannot list nodes: fabric store .* did not answer within 300 ms/);
        return true;
      });
      await assert.rejects(fabric.announce(announcement('edge-a'), 60_000), FabricError);
      redis.resume();
      await eventually('the store answers again', async () => (await fabric.nodes()).length === 1);
    } finally {
      redis.resume();
      await fabric.close();
      await redis.stop();
    }
  });

  test('a fabric created while Redis is down rejects, then connects once Redis starts', async () => {
    const redis = await startRedisServer();
    await redis.stop();
    const fabric = new RedisFabric({
      url: redis.url,
      logger: silentLogger,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
    });
    try {
      await assert.rejects(fabric.nodes(), FabricError);
      await redis.restart();
      await eventually('the fabric connects', async () => (await fabric.nodes()).length === 0);
      await fabric.announce(announcement('edge-late'), 60_000);
      assert.deepEqual(ids(await fabric.nodes()), ['edge-late']);
    } finally {
      await fabric.close();
      await redis.stop();
    }
  });
});

describe('createFabric', () => {
  test('no URL: in memory; redis:// and rediss://: Redis; anything else is refused', async () => {
    const local = createFabric(undefined, silentLogger);
    assert.ok(local instanceof LocalFabric);
    await local.close();
    const redis = createFabric(sharedRedis.url, silentLogger, { keyPrefix: 'factory:' });
    assert.ok(redis instanceof RedisFabric);
    await redis.announce(announcement('edge-a'), 10_000);
    assert.deepEqual(ids(await redis.nodes()), ['edge-a']);
    await redis.close();
    const tls = createFabric('rediss://127.0.0.1:1', silentLogger);
    assert.ok(tls instanceof RedisFabric);
    await tls.close();
    assert.throws(() => createFabric('http://127.0.0.1:6379', silentLogger), FabricError);
    assert.throws(() => createFabric('not a url', silentLogger), FabricError);
  });
});

/** A LocalFabric that counts calls and can be told to fail or to hold announcements. */
class ScriptedFabric extends LocalFabric {
  announces: { node: NodeAnnouncement; ttlMs: number }[] = [];
  failing = false;
  failWithdraw = false;
  /** While set, announce waits for it (a slow store). */
  gate: Promise<void> | undefined;

  override async announce(node: NodeAnnouncement, ttlMs: number): Promise<void> {
    this.announces.push({ node, ttlMs });
    if (this.gate) await this.gate;
    if (this.failing) throw new FabricError('store unreachable (scripted)');
    await super.announce(node, ttlMs);
  }

  override async withdraw(nodeId: string): Promise<void> {
    if (this.failWithdraw) throw new FabricError('store unreachable (scripted)');
    await super.withdraw(nodeId);
  }
}

describe('Heartbeat', () => {
  const INTERVAL = 15;

  test('announces repeatedly with ttl = 3 intervals and the current description; stop withdraws', async () => {
    const fabric = new ScriptedFabric();
    let viewers = 0;
    const heartbeat = new Heartbeat({
      fabric,
      describe: () => announcement('edge-hb', { viewers }),
      intervalMs: INTERVAL,
      logger: silentLogger,
    });
    heartbeat.start();
    heartbeat.start(); // idempotent
    await eventually('three beats', () => fabric.announces.length >= 3);
    assert.ok(fabric.announces.every((a) => a.ttlMs === 3 * INTERVAL));
    viewers = 42;
    await eventually('a beat carries the new figure', async () => (await fabric.nodes())[0]?.viewers === 42);

    await heartbeat.stop();
    assert.deepEqual(await fabric.nodes(), []);
    const beatsAtStop = fabric.announces.length;
    await sleep(INTERVAL * 5);
    assert.equal(fabric.announces.length, beatsAtStop, 'no beat after stop');
    await heartbeat.stop(); // twice is fine
  });

  test('a failing fabric is logged once per outage and its recovery once; nothing throws', async () => {
    const fabric = new ScriptedFabric();
    const log = captureLogger();
    const { logger } = log;
    const heartbeat = new Heartbeat({
      fabric,
      describe: () => announcement('edge-hb'),
      intervalMs: INTERVAL,
      logger,
    });
    heartbeat.start();
    await eventually('a first beat', () => fabric.announces.length >= 1 && heartbeat.healthy);

    for (let outage = 1; outage <= 2; outage++) {
      fabric.failing = true;
      const before = fabric.announces.length;
      await eventually('several failed beats', () => fabric.announces.length >= before + 5);
      assert.equal(heartbeat.healthy, false);
      assert.equal(log.count('warn', 'fabric announce failing'), outage);

      fabric.failing = false;
      await eventually('recovery', () => heartbeat.healthy);
      assert.equal(log.count('info', 'fabric announce recovered'), outage);
      assert.deepEqual(ids(await fabric.nodes()), ['edge-hb']);
    }
    await heartbeat.stop();
  });

  test('a describe() that throws is a failed beat, not a crash', async () => {
    const fabric = new ScriptedFabric();
    const log = captureLogger();
    const { logger } = log;
    let calls = 0;
    const heartbeat = new Heartbeat({
      fabric,
      describe: () => {
        calls += 1;
        if (calls <= 3) throw new Error('stats not ready');
        return announcement('edge-hb');
      },
      intervalMs: INTERVAL,
      logger,
    });
    heartbeat.start();
    await eventually('the node is announced', async () => (await fabric.nodes()).length === 1);
    assert.equal(log.count('warn', 'stats not ready'), 1);
    await heartbeat.stop();
  });

  test('stop() waits for a beat in flight, so the entry is not resurrected after the withdraw', async () => {
    const fabric = new ScriptedFabric();
    let release: () => void = () => {};
    fabric.gate = new Promise((resolve) => {
      release = resolve;
    });
    const heartbeat = new Heartbeat({
      fabric,
      describe: () => announcement('edge-hb'),
      intervalMs: INTERVAL,
      logger: silentLogger,
    });
    heartbeat.start();
    await eventually('a beat is in flight', () => fabric.announces.length === 1);
    const stopped = heartbeat.stop();
    fabric.gate = undefined;
    release();
    await stopped;
    assert.deepEqual(await fabric.nodes(), []);
    assert.equal(fabric.announces.length, 1, 'a held beat is not doubled by the timer');
  });

  test('stop() with the fabric down resolves and logs (the entry expires by itself)', async () => {
    const fabric = new ScriptedFabric();
    const log = captureLogger();
    const { logger } = log;
    const heartbeat = new Heartbeat({
      fabric,
      describe: () => announcement('edge-hb'),
      intervalMs: INTERVAL,
      logger,
    });
    heartbeat.start();
    await eventually('a first beat', async () => (await fabric.nodes()).length === 1);
    fabric.failWithdraw = true;
    await heartbeat.stop();
    assert.equal(log.count('warn', 'could not withdraw'), 1);
  });
});

describe('placeViewer', () => {
  const record = (nodeId: string, overrides: Partial<NodeRecord> = {}): NodeRecord => ({
    ...announcement(nodeId),
    capacity: 100,
    updatedAt: 1,
    ...overrides,
  });
  const place = (nodes: NodeRecord[], wish?: Parameters<typeof placeViewer>[1]) =>
    placeViewer(nodes, wish)?.nodeId;

  const site = record('site-1', { role: 'site', uplink: 'none', region: 'eu-west', viewers: 10 });

  test('an edge in the wished region wins, even when busier than an edge elsewhere', () => {
    const nodes = [
      site,
      record('edge-eu', { region: 'eu-west', viewers: 5 }),
      record('edge-us', { region: 'us-east', viewers: 80 }),
    ];
    assert.equal(place(nodes, { region: 'us-east' }), 'edge-us');
    assert.equal(place(nodes, { region: 'eu-west' }), 'edge-eu');
  });

  test('within a region, and without a wish, the least loaded (viewers / capacity) edge wins', () => {
    const nodes = [
      record('edge-a', { viewers: 50, capacity: 100 }),
      record('edge-b', { viewers: 60, capacity: 200 }),
      record('edge-c', { region: 'us-east', viewers: 1, capacity: 100 }),
    ];
    assert.equal(place(nodes, { region: 'eu-west' }), 'edge-b');
    assert.equal(place(nodes), 'edge-c');
  });

  test('a full region spills to the least loaded edge of another region', () => {
    const nodes = [
      site,
      record('edge-eu', { region: 'eu-west', viewers: 100, capacity: 100 }),
      record('edge-us', { region: 'us-east', viewers: 90 }),
      record('edge-ap', { region: 'ap-south', viewers: 20 }),
    ];
    assert.equal(place(nodes, { region: 'eu-west' }), 'edge-ap');
  });

  test('edges whose uplink is down (or absent), full or without capacity are skipped', () => {
    const nodes = [
      site,
      record('edge-down', { uplink: 'down' }),
      record('edge-none', { uplink: 'none' }),
      record('edge-full', { viewers: 100 }),
      record('edge-zero', { capacity: 0 }),
      record('edge-ok', { region: 'us-east', viewers: 99 }),
    ];
    assert.equal(place(nodes, { region: 'eu-west' }), 'edge-ok');
  });

  test('exclude skips the nodes a viewer just lost', () => {
    const nodes = [site, record('edge-a', { viewers: 1 }), record('edge-b', { viewers: 2 })];
    assert.equal(place(nodes, { region: 'eu-west' }), 'edge-a');
    assert.equal(place(nodes, { region: 'eu-west', exclude: ['edge-a'] }), 'edge-b');
    assert.equal(place(nodes, { exclude: ['edge-a', 'edge-b'] }), 'site-1');
    assert.equal(place(nodes, { exclude: ['edge-a', 'edge-b', 'site-1'] }), undefined);
  });

  test('no usable edge: a site, preferring spare capacity, then the wished region', () => {
    const sites = [
      record('site-eu', { role: 'site', uplink: 'none', region: 'eu-west', viewers: 10 }),
      record('site-us', { role: 'site', uplink: 'none', region: 'us-east', viewers: 90 }),
    ];
    const edges = [record('edge-down', { uplink: 'down' })];
    assert.equal(place([...edges, ...sites], { region: 'us-east' }), 'site-us');
    assert.equal(place([...edges, ...sites]), 'site-eu');
    const full = sites.map((s) => (s.nodeId === 'site-us' ? { ...s, viewers: 100 } : s));
    assert.equal(place([...edges, ...full], { region: 'us-east' }), 'site-eu');
    // Even a full site takes the viewer rather than none.
    assert.equal(place([{ ...site, viewers: 500 }]), 'site-1');
    assert.equal(place([]), undefined);
    assert.equal(place(edges), undefined);
  });

  test('ties break by nodeId, whatever the input order (every node agrees)', () => {
    const nodes = [
      record('edge-c', { viewers: 10 }),
      record('edge-a', { viewers: 20, capacity: 200 }),
      record('edge-b', { viewers: 10 }),
      record('site-z', { role: 'site', uplink: 'none' }),
      record('site-y', { role: 'site', uplink: 'none' }),
    ];
    const orders = [nodes, [...nodes].reverse(), [...nodes.slice(2), ...nodes.slice(0, 2)]];
    for (const order of orders) {
      assert.equal(place(order, { region: 'eu-west' }), 'edge-a');
      assert.equal(place(order, { exclude: ['edge-a', 'edge-b', 'edge-c'] }), 'site-y');
    }
  });
});
