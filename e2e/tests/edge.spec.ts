import type { Locator, Page } from '@playwright/test';
import { CLUSTER_ADMIN_SECRET, type Cluster, clusterSupport, startCluster } from '../support/cluster.ts';
import {
  createInvite,
  expect,
  expectShowing,
  framesDecoded,
  openCamera,
  openPage,
  SOURCES,
  type TestSource,
  test,
} from './studio.ts';

/**
 * The edge fabric in a browser: a site and two edges as separate processes in their own network
 * namespaces, a WAN between them (20 ms RTT, 1 % loss), Redis as the fabric. A viewer opens
 * /watch, is placed at an edge, and follows the director's cuts; then its edge is killed, and
 * later its edge's link to the site drops and returns.
 */
const STUDIO_PORT = 3200;
const support = await clusterSupport();
const [camA, camB] = SOURCES as [TestSource, TestSource, TestSource];

test.describe('edge fabric', () => {
  test.skip(!support.ok, support.ok ? '' : support.reason);
  test.use({ baseURL: `http://127.0.0.1:${STUDIO_PORT}` });
  let cluster: Cluster | undefined;
  /** The viewer page, for the failure report. */
  let viewerPage: Page | undefined;

  test.beforeAll(async () => {
    test.setTimeout(120_000);
    cluster = await startCluster({
      studioPort: STUDIO_PORT,
      edges: [
        { name: 'edge1', region: 'eu' },
        { name: 'edge2', region: 'us' },
      ],
    });
  });
  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads fixtures from an object pattern; this hook needs none.
  test.afterEach(async ({}, testInfo) => {
    // A failure's story is in the nodes' logs: print them (JSON lines, last 8 KB each).
    if (testInfo.status !== testInfo.expectedStatus && viewerPage) {
      const report = await viewerPage
        .evaluate(async () => {
          const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
          const out: unknown[] = [];
          for (const pc of pcs) {
            if (pc.connectionState === 'closed') continue;
            const stats: unknown[] = [];
            (await pc.getStats()).forEach((s) => {
              if (s.type === 'inbound-rtp')
                stats.push([s.kind, s.trackIdentifier, s.packetsReceived, s.framesDecoded, s.pliCount]);
            });
            out.push({ state: pc.connectionState, stats });
          }
          const videos = Array.from(document.querySelectorAll('video')).map((v) => [
            v.getAttribute('aria-label'),
            v.videoWidth,
            ((v.srcObject as MediaStream | null)?.getTracks() ?? []).map((t) => `${t.kind}:${t.readyState}`),
          ]);
          return JSON.stringify({ out, videos, text: (document.body.textContent ?? '').slice(0, 300) });
        })
        .catch((error: unknown) => String(error));
      console.log(`── viewer page ──\n${report}`);
    }
    if (testInfo.status !== testInfo.expectedStatus && cluster) {
      for (const host of ['site', 'edge1', 'edge2']) {
        const metrics = await fetch(`http://${cluster.ip(host)}:4000/metrics`, {
          signal: AbortSignal.timeout(2000),
        })
          .then((r) => r.text())
          .catch((error: unknown) => String(error));
        const ours = metrics.split('\n').filter((l) => l.startsWith('microstudio_') && !l.includes(' 0'));
        console.log(`── ${host} ──\n${cluster.output(host)}\n${ours.join('\n')}`);
      }
    }
  });
  test.afterAll(async () => {
    await cluster?.close();
  });

  /** Frames decoded (getStats) grow between two samples: the page is decoding now, not frozen. */
  async function expectDecodingWithin(page: Page, timeout: number, message: string): Promise<void> {
    let previous: number | undefined;
    await expect
      .poll(
        async () => {
          const now = await framesDecoded(page);
          const advancing = previous !== undefined && now > previous;
          previous = now;
          return advancing;
        },
        { message, timeout, intervals: [150] },
      )
      .toBe(true);
  }

  const servingNode = (watch: Page) => watch.getByRole('note', { name: 'Serving node' });

  /**
   * An up edge's row in the Edges panel with `viewers` viewers. The row's accessible name is its
   * cells in order: node, role, region, uplink, latency (e.g. "21 ms · good (p95 24 ms)"),
   * "viewers/capacity" (then "full" at capacity), pipes, heartbeat ("1 s ago").
   */
  const edgeRow = (edges: Locator, edge: string, viewers: number) =>
    edges.getByRole('row', { name: new RegExp(`^${edge} up .+ ${viewers}/\\d+(?: full)? \\d+ \\d+ s ago$`) });

  test('an edge viewer follows cuts, moves to another edge when its edge dies, and rides out an uplink loss', async ({
    newContext,
  }) => {
    test.setTimeout(180_000);
    if (!cluster) throw new Error('no cluster');
    const room = 'main';
    const control = await openPage(await newContext(), `/control?room=${room}#admin=${CLUSTER_ADMIN_SECRET}`);
    await expect(control.getByRole('status', { name: 'Connection state' })).toHaveText('connected');
    const cameraInvite = await createInvite(control, 'camera');
    const pageA = await openCamera(await newContext(), room, camA, cameraInvite);
    const pageB = await openCamera(await newContext(), room, camB, cameraInvite);
    expect(pageA && pageB).toBeTruthy();
    await control.keyboard.press('Escape');
    await control.keyboard.press('1');
    await control.keyboard.press('Space');
    await expect(control.getByLabel('Program source')).toHaveText(camA.name);

    // The control room lists both edges, linked to the site, with their measured latency to it
    // (the WAN's 20 ms round trip: "good", below 50 ms).
    const edges = control.getByRole('region', { name: 'Edges' });
    await expect(edges.getByRole('row', { name: /^edge1 edge eu up/ })).toBeVisible();
    await expect(edges.getByRole('row', { name: /^edge2 edge us up/ })).toBeVisible();
    for (const edge of ['edge1 edge eu', 'edge2 edge us']) {
      await expect(
        edges.getByRole('row', { name: new RegExp(`^${edge} up [1-4]\\d ms · good`) }),
      ).toBeVisible();
    }
    // And the technician's Health panel says the same at a glance.
    const latency = control
      .getByRole('region', { name: 'Health' })
      .getByRole('list', { name: 'Edge latency to the site' });
    await expect(latency.getByRole('listitem')).toHaveText([
      /^edge1 \(eu\): [1-4]\d ms · good/,
      /^edge2 \(us\): [1-4]\d ms · good/,
    ]);

    const viewerInvite = await createInvite(control, 'viewer');
    const watch = await openPage(
      await newContext(),
      `/watch?${new URLSearchParams({ room, invite: viewerInvite, region: 'eu' })}`,
    );
    viewerPage = watch;
    const program = watch.getByLabel('Program');
    await expect(servingNode(watch)).toHaveText('Edge edge1 · eu');
    await expectShowing(program, camA, 'edge viewer shows the program');
    // The Edges panel counts the viewer at the edge serving it, and only there (heartbeats every
    // 0.5 s, the panel polls every 2 s).
    await expect(edgeRow(edges, 'edge1 edge eu', 1)).toBeVisible({ timeout: 8000 });
    await expect(edgeRow(edges, 'edge2 edge us', 0)).toBeVisible();

    // Escape first: the focus is on the invite button just clicked (Space there would press it).
    await control.keyboard.press('Escape');
    await control.keyboard.press('2');
    await control.keyboard.press('Space');
    await expect(control.getByLabel('Program source')).toHaveText(camB.name);
    await expectShowing(program, camB, 'edge viewer follows the cut');

    // The edge dies: within 5 s the viewer decodes the program at the other edge, no reload.
    const killedAt = Date.now();
    await cluster.kill('edge1');
    await expect(servingNode(watch)).toHaveText('Edge edge2 · us', { timeout: 5000 });
    await expectDecodingWithin(
      watch,
      Math.max(500, 5000 - (Date.now() - killedAt)),
      'decoding again at edge2',
    );
    const movedInMs = Date.now() - killedAt;
    expect(movedInMs, 'failover within 5 s').toBeLessThan(5000);
    await expectShowing(program, camB, 'the program at the second edge');
    await expect(edgeRow(edges, 'edge2 edge us', 1), 'the viewer counted at edge2').toBeVisible({
      timeout: 8000,
    });

    // The site↔edge2 link drops: the viewer gets the slate; the site's show goes on untouched.
    const tally = (page: Page) => page.getByRole('status', { name: 'Tally' });
    await expect(tally(pageB)).toHaveText('Program');
    await expect(tally(pageA)).toHaveText('Preview');
    await cluster.cut('edge2');
    await expect(watch.getByRole('status', { name: 'Back soon' })).toBeVisible({ timeout: 8000 });
    await expect(edges.getByRole('row', { name: /^edge2 edge us down unknown · link down/ })).toBeVisible();
    // The cameras' tally is the site's: an edge's uplink loss leaves it as it was.
    await expect(tally(pageB), 'camera B still on program during the outage').toHaveText('Program');
    await expect(tally(pageA), 'camera A still on preview during the outage').toHaveText('Preview');
    await expect(control.getByRole('status', { name: 'Connection state' })).toHaveText('connected');
    await control.keyboard.press('1');
    await control.keyboard.press('Space');
    await expect(control.getByLabel('Program source')).toHaveText(camA.name);
    await expectShowing(control.getByLabel('Program monitor'), camA, 'the site cuts during the outage');
    await expect(tally(pageA), 'the cut reaches camera A during the outage').toHaveText('Program');
    await expect(tally(pageB), 'camera B back on preview (swap)').toHaveText('Preview');

    // The link returns: within 5 s the slate is gone and the viewer shows the site's program.
    const restoredAt = Date.now();
    await cluster.restore('edge2');
    await expect(watch.getByRole('status', { name: 'Back soon' })).toBeHidden({ timeout: 5000 });
    await expectDecodingWithin(
      watch,
      Math.max(500, 5000 - (Date.now() - restoredAt)),
      'decoding after the link returned',
    );
    await expectShowing(program, camA, 'the viewer shows the cut made during the outage');
  });
});
