import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Revocation } from '../src/fabric/Fabric.ts';
import { RedisFabric } from '../src/fabric/RedisFabric.ts';
import { RevocationPublisher } from '../src/fabric/RevocationPublisher.ts';
import { RevocationWatch } from '../src/fabric/RevocationWatch.ts';
import { silentLogger } from '../src/log.ts';
import { captureLogger, eventually as eventuallyWithin, sleep } from './support/polling.ts';
import { startRedisServer, type TestRedis } from './support/redisServer.ts';

/** This file's deadline: 10 s. */
const eventually = (what: string, check: () => boolean | Promise<boolean>) =>
  eventuallyWithin(what, check, 10_000);

const revocation = (ms = 60_000): Revocation => ({ inviteId: randomUUID(), expiresAt: Date.now() + ms });

/** Two fabrics (the site's, the edge's) on one key prefix of their own, reconnecting quickly. */
let prefixes = 0;
function fabricPair(redis: TestRedis): [RedisFabric, RedisFabric] {
  const keyPrefix = `rev${++prefixes}:`;
  const make = () =>
    new RedisFabric({
      url: redis.url,
      logger: silentLogger,
      keyPrefix,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
    });
  return [make(), make()];
}

describe('RevocationPublisher (the site) over a real Redis', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    await redis?.stop();
  });

  test('a revocation made while Redis is down is kept, logged once, and written when it returns', async () => {
    const { logger, count } = captureLogger();
    const [site, reader] = fabricPair(redis);
    const publisher = new RevocationPublisher({ fabric: site, intervalMs: 50, logger });
    try {
      publisher.start();
      await site.revocations(); // connected
      await redis.stop();
      await eventually('the site notices the outage', () => !site.connected);
      const lost = revocation();
      publisher.publish(lost);
      await sleep(300); // several beats, all failing
      assert.equal(count('warn', 'recording revocations in the fabric failing'), 1);
      assert.equal(publisher.size, 1);

      await redis.restart();
      await eventually('the revocation reaches the store', () => reader.isRevoked(lost.inviteId));
      assert.deepEqual(await reader.revocations(), [lost]);
      await eventually(
        'the recovery is logged',
        () => count('info', 'recording revocations in the fabric recovered') === 1,
      );
    } finally {
      await publisher.close();
      await site.close();
      await reader.close();
    }
  });

  test('a store that restarts empty is refilled with the revocations still in force, not the expired', async () => {
    const [site, reader] = fabricPair(redis);
    const publisher = new RevocationPublisher({ fabric: site, intervalMs: 50, logger: silentLogger });
    try {
      publisher.start();
      const kept = revocation();
      const shortLived = revocation(400);
      publisher.publish(kept);
      publisher.publish(shortLived);
      await eventually('both written', async () => (await reader.revocations()).length === 2);
      await sleep(500); // shortLived's invite has expired
      assert.equal(publisher.size, 1, 'an expired revocation is no longer written');
      await redis.restart();
      await eventually('refilled', async () => (await reader.revocations()).length === 1);
      assert.deepEqual(await reader.revocations(), [kept]);
      publisher.publish(revocation(-1));
      assert.equal(publisher.size, 1, 'an already expired invite is not published');
    } finally {
      await publisher.close();
      await site.close();
      await reader.close();
    }
  });
});

describe('RevocationWatch (an edge) over a real Redis', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    await redis?.stop();
  });

  test('emits each new revocation once; a join is refused before the poll sees it', async () => {
    const [site, edgeFabric] = fabricPair(redis);
    const watch = new RevocationWatch({ fabric: edgeFabric, pollMs: 50, logger: silentLogger });
    const seen: string[] = [];
    watch.on('revoked', (r) => seen.push(r.inviteId));
    try {
      watch.start();
      const first = revocation();
      await site.revoke([first]);
      await eventually('the first is emitted', () => seen.length === 1);
      await sleep(200); // more polls: no repeat
      assert.deepEqual(seen, [first.inviteId]);

      // Asked directly, the store answers at once; the poll still reports it as new afterwards.
      const second = revocation();
      const slow = new RevocationWatch({ fabric: edgeFabric, pollMs: 60_000, logger: silentLogger });
      assert.equal(await slow.isRevoked(second.inviteId), false);
      await site.revoke([second]);
      assert.equal(await slow.isRevoked(second.inviteId), true);
      slow.close();
      await eventually('the second is emitted', () => seen.length === 2);
      assert.deepEqual(seen, [first.inviteId, second.inviteId]);
    } finally {
      watch.close();
      await site.close();
      await edgeFabric.close();
    }
  });

  test('with Redis down, joins are judged on the last poll (known: refused, unknown: admitted)', async () => {
    const { logger, count } = captureLogger();
    const [site, edgeFabric] = fabricPair(redis);
    const watch = new RevocationWatch({ fabric: edgeFabric, pollMs: 50, logger });
    let emitted = 0;
    watch.on('revoked', () => {
      emitted += 1;
    });
    try {
      watch.start();
      const known = revocation();
      await site.revoke([known]);
      await eventually('polled', () => emitted === 1);
      await redis.stop();
      await eventually('the edge notices the outage', () => !edgeFabric.connected);
      assert.equal(await watch.isRevoked(known.inviteId), true);
      assert.equal(await watch.isRevoked(randomUUID()), false);
      await sleep(300);
      assert.equal(count('warn', 'reading revocations from the fabric failing'), 1);
      await redis.restart();
      await eventually(
        'the recovery is logged',
        () => count('info', 'reading revocations from the fabric recovered') === 1,
      );
      assert.equal(emitted, 1, 'nothing emitted twice across the outage');
    } finally {
      watch.close();
      await site.close();
      await edgeFabric.close();
    }
  });
});
