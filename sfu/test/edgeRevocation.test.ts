import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '@microstudio/protocol';
import type { Fabric } from '../src/fabric/Fabric.ts';
import { LocalFabric } from '../src/fabric/LocalFabric.ts';
import { RedisFabric } from '../src/fabric/RedisFabric.ts';
import { REVOCATION_POLL_MS } from '../src/fabric/RevocationWatch.ts';
import { silentLogger } from '../src/log.ts';
import type { MediaNode } from '../src/node.ts';
import { type Client, connect, joinAs, must, request, sleep, startTestNode } from './helpers.ts';
import { startRedisServer, type TestRedis } from './support/redisServer.ts';

const ROOM = 'revoke-at-edge';

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

interface Cluster {
  /** The site's and the edge's fabric: one shared object, or two clients of one store. */
  fabrics: [Fabric, Fabric];
  stop(): Promise<void>;
}

async function joinWith(node: MediaNode, token: string, clientId: string) {
  const socket = await connect(node);
  const result = await request(socket, 'room:join', { roomId: ROOM, token, displayName: clientId, clientId });
  return { socket, result };
}

/**
 * The director revokes a viewer invite at the site; a viewer who joined with it at an edge is let
 * go within a few seconds and cannot come back there; everyone else stays as they were.
 */
function revocationSuite(name: string, makeCluster: () => Promise<Cluster>, pipePorts: [number, number]) {
  describe(`revoking an invite reaches the edge (${name})`, () => {
    let cluster: Cluster;
    let site: MediaNode;
    let edge: MediaNode;
    const sockets: Client[] = [];

    before(async () => {
      cluster = await makeCluster();
      const shared = {
        MICROSTUDIO_WORKERS: '1',
        MICROSTUDIO_HEARTBEAT_MS: '200',
        MICROSTUDIO_PIPE_PORT_MIN: String(pipePorts[0]),
        MICROSTUDIO_PIPE_PORT_MAX: String(pipePorts[1]),
      };
      site = await startTestNode(
        { ...shared, MICROSTUDIO_NODE_ID: 'site-r' },
        { fabric: cluster.fabrics[0] },
      );
      // The default poll interval: what a real edge does.
      edge = await startTestNode(
        { ...shared, MICROSTUDIO_NODE_ROLE: 'edge', MICROSTUDIO_NODE_ID: 'edge-r' },
        { fabric: cluster.fabrics[1] },
      );
      await site.registry.open(ROOM);
      await until('the edge uplink', () => edge.edge?.uplink === 'up', 10_000);
    });

    after(async () => {
      for (const socket of sockets) socket.close();
      await edge?.close();
      await site?.close();
      await cluster?.stop();
    });

    it('disconnects the edge viewer of a revoked invite and refuses it there (UNAUTHORIZED); nothing else changes', async () => {
      const director = await joinAs(site, ROOM, 'director', 'director-r');
      sockets.push(director.socket);
      const revoked = await must(director.socket, 'invite:create', { role: 'viewer', ttlSeconds: 600 });
      const kept = await must(director.socket, 'invite:create', { role: 'viewer', ttlSeconds: 600 });

      const gone = await joinWith(edge, revoked.token, 'viewer-gone');
      const stays = await joinWith(edge, kept.token, 'viewer-stays');
      sockets.push(gone.socket, stays.socket);
      assert.ok(gone.result.ok && stays.result.ok, 'both viewers joined at the edge');
      const edgeRoom = edge.registry.get(ROOM);
      const siteRoom = site.registry.get(ROOM);
      assert.ok(edgeRoom && siteRoom);
      assert.equal(edgeRoom.peerCount, 2);
      const sitePeersBefore = siteRoom
        .peers()
        .map((p) => `${p.role}:${p.clientId}`)
        .sort();
      let staysDisconnected = false;
      stays.socket.on('disconnect', () => {
        staysDisconnected = true;
      });

      let goneAt = 0;
      gone.socket.once('disconnect', () => {
        goneAt = Date.now();
      });
      const revokedAt = Date.now();
      await must(director.socket, 'invite:revoke', { inviteId: revoked.inviteId });
      // "Within a few seconds": one poll interval, plus a generous margin for a loaded machine.
      await until('the revoked viewer is let go at the edge', () => goneAt > 0, REVOCATION_POLL_MS + 4000);
      console.log(`${name}: revoked viewer let go at the edge ${goneAt - revokedAt} ms after the revoke`);
      await until('the edge room forgets it', () => edgeRoom.peerCount === 1, 3000);

      // Back with the same token at the edge: refused, in the site's own words, and not joined.
      const again = await joinWith(edge, revoked.token, 'viewer-gone');
      const other = await joinWith(edge, revoked.token, 'another-device');
      const atSite = await joinWith(site, revoked.token, 'viewer-gone');
      sockets.push(again.socket, other.socket, atSite.socket);
      for (const refused of [again.result, other.result, atSite.result]) {
        assert.equal(refused.ok, false);
        assert.equal(!refused.ok && refused.error.code, ErrorCode.Unauthorized);
      }
      assert.equal(
        !again.result.ok && !atSite.result.ok && again.result.error.message,
        'this invite was revoked',
      );
      assert.equal(!atSite.result.ok && atSite.result.error.message, 'this invite was revoked');

      // Everything else is as it was: the other viewer, the site's room, the other invite.
      await sleep(REVOCATION_POLL_MS + 200); // another poll: nothing more happens
      assert.equal(staysDisconnected, false);
      assert.ok(stays.socket.connected);
      assert.deepEqual(
        edgeRoom.peers().map((p) => p.clientId),
        ['viewer-stays'],
      );
      assert.deepEqual(
        siteRoom
          .peers()
          .map((p) => `${p.role}:${p.clientId}`)
          .sort(),
        sitePeersBefore,
      );
      assert.ok(director.socket.connected);
      const invites = await must(director.socket, 'invite:list', {});
      assert.deepEqual(
        invites.invites.map((i) => [i.inviteId, i.revoked]).sort(),
        [
          [revoked.inviteId, true],
          [kept.inviteId, false],
        ].sort(),
      );
      const newcomer = await joinWith(edge, kept.token, 'viewer-new');
      sockets.push(newcomer.socket);
      assert.ok(newcomer.result.ok, 'the other invite still opens the room at the edge');
    });
  });
}

revocationSuite('in-memory fabric, one process', async () => {
  const fabric = new LocalFabric();
  return { fabrics: [fabric, fabric], stop: () => fabric.close() };
}, [47500, 47599]);

revocationSuite('Redis fabric, a client each', async () => {
  const redis: TestRedis = await startRedisServer();
  const make = () => new RedisFabric({ url: redis.url, logger: silentLogger, keyPrefix: 'edge-revoke:' });
  const fabrics: [Fabric, Fabric] = [make(), make()];
  return {
    fabrics,
    stop: async () => {
      for (const fabric of fabrics) await fabric.close();
      await redis.stop();
    },
  };
}, [47600, 47699]);
