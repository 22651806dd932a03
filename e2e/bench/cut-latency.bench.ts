/**
 * Cut latency, as a viewer feels it: from the director's cut key press in the control room to
 * the first frame of the new source presented on the watch page (and on the control room's
 * program monitor). Real nodes, real Chromium, fake-device test patterns; prints percentiles.
 *   npm run bench -w @microstudio/e2e        (CUTS=40 to change the sample size)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from '@playwright/test';
import config from '../playwright.config.ts';
import { base, directorInvites, liveCameraPair, measureCuts, percentiles, startStudio } from './harness.ts';

const CUTS = Number(process.env.CUTS ?? 30);

const studio = startStudio('cut');
const browser = await chromium.launch({
  executablePath: config.use?.launchOptions?.executablePath,
  args: config.use?.launchOptions?.args,
});
try {
  await studio.ready();
  const room = `bench-${Date.now().toString(36)}`;
  const control = await (await browser.newContext()).newPage();
  const { camera: cameraInvite, viewer: viewerInvite } = await directorInvites(control, room);
  const pair = await liveCameraPair(browser, control, { base, room, cameraInvite });
  const watch = await (await browser.newContext()).newPage();
  await watch.goto(`${base}/watch?${new URLSearchParams({ room, invite: viewerInvite })}`);
  await sleep(4000); // simulcast layers and bandwidth estimation settle

  const { atWatch: toWatch, atMonitor: toMonitor } = await measureCuts(control, watch, pair, CUTS);
  console.log(`cut key → new source presented, watch page:        ${percentiles(toWatch)}`);
  console.log(`cut key → new source presented, program monitor:   ${percentiles(toMonitor)}`);
} finally {
  await browser.close();
  studio.process.kill('SIGTERM');
}
