import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binomialBand } from './support/binomial.ts';
import { type NetAgent, startNetAgent } from './support/netAgentClient.ts';
import { median, startEchoServers, tcpReach, udpRtt } from './support/netProbes.ts';
import { createWan, wanSupport } from './support/wan.ts';
import { listLinks, listNetns } from './support/wanCommands.ts';

const PORT = 7100;
const RTT_MS = 20;
const LOSS_PERCENT = 1;
/** Probes that measure the WAN pair's loss, one a millisecond (about 2 s). */
const LOSS_PROBES = 2000;
/** The loss band's false-failure rate for a correct link (binomialBand below). */
const LOSS_ALPHA = 1e-4;

test('emulated WAN: delay on WAN pairs only, cut isolates one pair, close leaves nothing', {
  timeout: 60_000,
}, async (t) => {
  const support = await wanSupport();
  if (!support.ok) {
    t.skip(support.reason);
    return;
  }
  if (support.netemUnavailable) t.diagnostic(`netem unavailable: ${support.netemUnavailable}`);

  const wan = await createWan({
    hosts: ['site', 'edge1', 'edge2'],
    wanPairs: [
      ['site', 'edge1'],
      ['site', 'edge2'],
    ],
    delayMs: RTT_MS,
    lossPercent: LOSS_PERCENT,
  });
  t.diagnostic(`WAN ${wan.id}: gateway ${wan.gatewayIp}, shaper ${wan.shaper}`);
  const ip = (host: string): string => wan.hosts[host]!.ip;
  const agents: NetAgent[] = [];
  try {
    const [site, edge1, edge2] = await Promise.all(
      ['site', 'edge1', 'edge2'].map((h) => startNetAgent(wan, h, PORT)),
    );
    agents.push(site!, edge1!, edge2!);

    await t.test(
      'round trips: delayed within a WAN pair, not to or from the root namespace, not between edges',
      async (t) => {
        const probes = { count: 30, intervalMs: 20, timeoutMs: 500 };
        // The WAN pair gets enough probes to measure its loss, not just to see it is small.
        const wanProbes = { count: LOSS_PROBES, intervalMs: 1, timeoutMs: 500 };
        const rootEcho = await startEchoServers(PORT, wan.gatewayIp);
        const samples = await Promise.all([
          site!.call('udpRtt', { host: ip('edge1'), port: PORT, ...wanProbes }),
          udpRtt(ip('site'), PORT, probes),
          udpRtt(ip('edge1'), PORT, probes),
          site!.call('udpRtt', { host: wan.gatewayIp, port: PORT, ...probes }),
          edge2!.call('udpRtt', { host: ip('edge1'), port: PORT, ...probes }),
        ]).finally(() => rootEcho.close());
        const [siteToEdge1, ...undelayed] = samples;
        const names = ['site→edge1', 'root→site', 'root→edge1', 'site→root (gateway)', 'edge2→edge1'];
        samples.forEach((sample, i) => {
          t.diagnostic(
            `${names[i]}: median ${median(sample.rtts).toFixed(2)} ms, ${sample.rtts.length}/${sample.sent} back`,
          );
        });
        // p50 of the round trip: the shaper's 20 ms plus a little for the probes' event loops and
        // (relay) a user-space hop each way; 30 ms or more would be a shaper adding its own delay.
        const wanMedian = median(siteToEdge1!.rtts);
        assert.ok(wanMedian >= 18, `site→edge1 median RTT ${wanMedian} ms ≥ 18`);
        assert.ok(wanMedian < 30, `site→edge1 median RTT ${wanMedian} ms < 30`);
        undelayed.forEach((sample, i) => {
          assert.ok(median(sample.rtts) < 10, `${names[i + 1]} median RTT ${median(sample.rtts)} ms < 10`);
        });
        // The measured round-trip loss is the configured 1 %. For a correct link the lost count
        // is Binomial(2000, 0.01) (mean 20, sd 4.4); the band binomialBand computes, 5–39 lost
        // (0.25 %–1.95 %), misses it with probability 6.4e-5 (each tail ≤ 5e-5). A link that
        // drops nothing always fails; one at 0.1 % passes 5 % of the time, one at 3 % 0.2 %.
        // Round trips can't tell the two directions apart: a link losing 0.5 % one way only
        // would pass.
        const lost = siteToEdge1!.sent - siteToEdge1!.rtts.length;
        const band = binomialBand(siteToEdge1!.sent, LOSS_PERCENT / 100, LOSS_ALPHA);
        t.diagnostic(
          `site→edge1 loss ${lost}/${siteToEdge1!.sent} (${((100 * lost) / siteToEdge1!.sent).toFixed(2)} %), ` +
            `accepted ${band.min}–${band.max} (false failure ${band.outside.toExponential(1)})`,
        );
        assert.ok(
          lost >= band.min && lost <= band.max,
          `site→edge1 lost ${lost} of ${siteToEdge1!.sent}: outside ${band.min}–${band.max} for ${LOSS_PERCENT} %`,
        );
      },
    );

    await t.test('cut(site, edge1) silences that pair both ways and only it; restore heals it', async (t) => {
      const tcp = (from: NetAgent, to: string, timeoutMs = 1000) =>
        from.call('tcpReach', { host: ip(to), port: PORT, timeoutMs });
      const udpBack = async (from: NetAgent, to: string): Promise<number> =>
        (await from.call('udpRtt', { host: ip(to), port: PORT, count: 5, intervalMs: 20, timeoutMs: 500 }))
          .rtts.length;

      assert.equal((await tcp(site!, 'edge1')).ok, true, 'edge1 reachable from site before the cut');
      const { stream } = await site!.call('streamOpen', { host: ip('edge1'), port: PORT, timeoutMs: 2000 });
      assert.equal((await site!.call('streamEcho', { stream, timeoutMs: 2000 })).ok, true);

      await wan.cut('site', 'edge1');
      const [siteToEdge1, edge2ToEdge1, rootToEdge1, siteToEdge2, udpSiteToEdge1, udpEdge1ToSite, echo] =
        await Promise.all([
          tcp(site!, 'edge1'),
          tcp(edge2!, 'edge1'),
          tcpReach(ip('edge1'), PORT, 1000),
          tcp(site!, 'edge2'),
          udpBack(site!, 'edge1'),
          udpBack(edge1!, 'site'),
          site!.call('streamEcho', { stream, timeoutMs: 1000 }),
        ]);
      assert.deepEqual(
        { ok: siteToEdge1.ok, error: siteToEdge1.error },
        { ok: false, error: 'timeout' },
        'a new connection site→edge1 hangs (silent drop, not a refusal)',
      );
      assert.equal(
        edge2ToEdge1.ok,
        true,
        `edge1 reachable from edge2 during the cut (${edge2ToEdge1.error})`,
      );
      assert.equal(
        rootToEdge1.ok,
        true,
        `edge1 reachable from the root namespace during the cut (${rootToEdge1.error})`,
      );
      assert.equal(siteToEdge2.ok, true, `the other WAN pair site→edge2 still works (${siteToEdge2.error})`);
      assert.equal(udpSiteToEdge1, 0, 'no UDP site→edge1 during the cut');
      assert.equal(udpEdge1ToSite, 0, 'no UDP edge1→site during the cut');
      assert.deepEqual(
        { ok: echo.ok, error: echo.error },
        { ok: false, error: 'timeout' },
        'the open connection stalls',
      );

      await wan.restore('site', 'edge1');
      const [after, healed, udpAfter] = await Promise.all([
        tcp(site!, 'edge1', 2000),
        site!.call('streamEcho', { stream, timeoutMs: 8000 }),
        udpBack(site!, 'edge1'),
      ]);
      assert.equal(after.ok, true, `edge1 reachable from site after restore (${after.error})`);
      assert.equal(healed.ok, true, 'the stalled connection resumes after restore');
      assert.ok(udpAfter > 0, 'UDP site→edge1 passes again');
      t.diagnostic(`stalled connection resumed ${healed.ms.toFixed(0)} ms after restore`);
    });
  } finally {
    await Promise.all(agents.map((agent) => agent.close()));
    await wan.close();
  }

  await t.test('close() leaves no namespace or link of ours, and is idempotent', async () => {
    const ours = new RegExp(`^${wan.id}\\D`);
    assert.deepEqual(
      listNetns().filter((name) => ours.test(name)),
      [],
    );
    assert.deepEqual(
      listLinks().filter((name) => ours.test(name)),
      [],
    );
    await wan.close();
  });
});
