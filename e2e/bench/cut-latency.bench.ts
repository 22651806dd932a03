/**
 * Cut latency, as a viewer feels it: from the director's cut key press in the control room to
 * the first frame of the new source presented on the watch page (and on the control room's
 * program monitor). Real nodes, real Chromium, fake-device test patterns; prints percentiles.
 *   npm run bench -w @microstudio/e2e        (CUTS=40 to change the sample size)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from '@playwright/test';
import config from '../playwright.config.ts';
import { SOURCES } from '../tests/studio.ts';
import { armColourWatch, base, directorInvites, percentiles, seenAt, startStudio } from './harness.ts';

const CUTS = Number(process.env.CUTS ?? 30);

const studio = startStudio('cut');
const browser = await chromium.launch({
  executablePath: config.use?.launchOptions?.executablePath,
  args: config.use?.launchOptions?.args,
});
try {
  await studio.ready();
  const room = `bench-${Date.now().toString(36)}`;
  const [a, b] = SOURCES as [(typeof SOURCES)[0], (typeof SOURCES)[0]];
  const control = await (await browser.newContext()).newPage();
  const { camera: cameraInvite, viewer: viewerInvite } = await directorInvites(control, room);
  for (const source of [a, b]) {
    const page = await (await browser.newContext()).newPage();
    const query = new URLSearchParams({
      room,
      invite: cameraInvite,
      source: 'test-pattern',
      name: source.name,
      color: source.color,
    });
    await page.goto(`${base}/camera?${query}`);
    await page.getByRole('button', { name: 'Go live' }).click();
  }
  await control.getByRole('button', { name: `Preview ${b.name}` }).waitFor();
  await control.keyboard.press('Escape');
  await control.keyboard.press('1');
  await control.keyboard.press('Space');
  await control.keyboard.press('2');
  const watch = await (await browser.newContext()).newPage();
  await watch.goto(`${base}/watch?${new URLSearchParams({ room, invite: viewerInvite })}`);
  await sleep(4000); // simulcast layers and bandwidth estimation settle

  const toWatch: number[] = [];
  const toMonitor: number[] = [];
  for (let i = 0; i < CUTS; i++) {
    const target = i % 2 === 0 ? b : a;
    await armColourWatch(watch, 'Program', target.rgb);
    await armColourWatch(control, 'Program monitor', target.rgb);
    const pressedAt = await control.evaluate(() => performance.timeOrigin + performance.now());
    await control.keyboard.press('Space');
    toWatch.push((await seenAt(watch)) - pressedAt);
    toMonitor.push((await seenAt(control)) - pressedAt);
    await sleep(300);
  }
  console.log(`cut key → new source presented, watch page:        ${percentiles(toWatch)}`);
  console.log(`cut key → new source presented, program monitor:   ${percentiles(toMonitor)}`);
} finally {
  await browser.close();
  studio.process.kill('SIGTERM');
}
