/**
 * The edge fabric as viewers feel it: cut key press in the control room → the new source's first
 * frame presented at a viewer watching at an edge (and, in the same run, on the control room's
 * program monitor at the site), over a WAN of 20 ms RTT and 1 % loss and without one; then the
 * edge's CPU for 10 viewer pages. Real processes (site, edge, Redis) in network namespaces, real
 * Chromium; prints percentiles and ratios.
 *   npm run bench:edge            (CUTS=40 to change the sample size; VIEWERS=10)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Browser, chromium, type Page } from '@playwright/test';
import config from '../playwright.config.ts';
import { CLUSTER_ADMIN_SECRET, type Cluster, clusterSupport, startCluster } from '../support/cluster.ts';
import { CAMERA_QUALITY } from '../tests/studio.ts';
import { directorInvites, liveCameraPair, measureCuts, percentiles } from './harness.ts';

const CUTS = Number(process.env.CUTS ?? 24);
const VIEWERS = Number(process.env.VIEWERS ?? 10);
const STUDIO_PORT = 3400;

async function newPage(browser: Browser): Promise<Page> {
  return (await browser.newContext()).newPage();
}

/** CPU seconds the node's mediasoup worker and its Node.js process have used so far. */
async function cpuSeconds(cluster: Cluster, host: string): Promise<{ worker: number; node: number }> {
  const text = await (await fetch(`http://${cluster.ip(host)}:4000/metrics`)).text();
  const sum = (re: RegExp) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
  return {
    worker: sum(/^microstudio_worker_cpu_seconds_total\{[^}]*\} ([\d.e+-]+)$/gm),
    node: sum(/^process_cpu_seconds_total ([\d.e+-]+)$/gm),
  };
}

async function runCuts(browser: Browser, shaped: boolean): Promise<Cluster> {
  const cluster = await startCluster({
    studioPort: STUDIO_PORT,
    edges: [{ name: 'edge1', region: 'eu' }],
    shaped,
  });
  const base = cluster.baseURL;
  const room = 'main';
  const control = await newPage(browser);
  const invites = await directorInvites(control, room, { base, adminSecret: CLUSTER_ADMIN_SECRET });
  const pair = await liveCameraPair(browser, control, {
    base,
    room,
    cameraInvite: invites.camera,
    quality: CAMERA_QUALITY,
  });
  const watch = await newPage(browser);
  await watch.goto(`${base}/watch?${new URLSearchParams({ room, invite: invites.viewer, region: 'eu' })}`);
  await watch.getByRole('note', { name: 'Serving node' }).filter({ hasText: 'edge1' }).waitFor();
  await sleep(4000); // simulcast layers and bandwidth estimation settle

  const { atWatch: atEdge, atMonitor: atSite } = await measureCuts(control, watch, pair, CUTS);
  const wan = shaped ? 'WAN 20 ms RTT, 1 % loss' : 'no WAN shaping';
  console.log(`[${wan}] cut key → presented at the edge viewer:      ${percentiles(atEdge)}`);
  console.log(`[${wan}] cut key → presented on the site's monitor:   ${percentiles(atSite)}`);
  return cluster;
}

async function edgeCpu(browser: Browser, cluster: Cluster): Promise<void> {
  const invites = await directorInvites(await newPage(browser), 'main', {
    base: cluster.baseURL,
    adminSecret: CLUSTER_ADMIN_SECRET,
  });
  const window = 10;
  const idleStart = await cpuSeconds(cluster, 'edge1');
  await sleep(window * 1000);
  const idleEnd = await cpuSeconds(cluster, 'edge1');
  const viewers: Page[] = [];
  for (let i = 0; i < VIEWERS; i++) {
    const page = await newPage(browser);
    await page.goto(
      `${cluster.baseURL}/watch?${new URLSearchParams({ room: 'main', invite: invites.viewer, region: 'eu' })}`,
    );
    viewers.push(page);
  }
  await sleep(5000); // every viewer joined and decoding
  const loadStart = await cpuSeconds(cluster, 'edge1');
  await sleep(window * 1000);
  const loadEnd = await cpuSeconds(cluster, 'edge1');
  // The one viewer of the cut run stays: the idle figure already has one viewer's share.
  const perCore = (start: number, end: number) => ((end - start) / window) * 100;
  const workerIdle = perCore(idleStart.worker, idleEnd.worker);
  const workerLoad = perCore(loadStart.worker, loadEnd.worker);
  const nodeIdle = perCore(idleStart.node, idleEnd.node);
  const nodeLoad = perCore(loadStart.node, loadEnd.node);
  const per10 = (idle: number, load: number) => (((load - idle) / VIEWERS) * 10).toFixed(2);
  console.log(
    `edge CPU, % of one core: worker ${workerIdle.toFixed(2)} → ${workerLoad.toFixed(2)} with ${VIEWERS} more viewers (${per10(workerIdle, workerLoad)} per 10 viewers); Node.js ${nodeIdle.toFixed(2)} → ${nodeLoad.toFixed(2)} (${per10(nodeIdle, nodeLoad)} per 10 viewers)`,
  );
}

const support = await clusterSupport();
if (!support.ok) {
  console.error(`bench:edge needs network namespaces: ${support.reason}`);
  process.exit(1);
}
const browser = await chromium.launch({
  executablePath: config.use?.launchOptions?.executablePath,
  args: config.use?.launchOptions?.args,
});
try {
  for (const shaped of [true, false]) {
    const cluster = await runCuts(browser, shaped);
    try {
      if (!shaped) await edgeCpu(browser, cluster);
    } finally {
      await cluster.close();
    }
    for (const context of browser.contexts()) await context.close();
  }
} finally {
  await browser.close();
}
