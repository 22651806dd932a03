/**
 * Cut latency, as a viewer feels it: from the director's cut key press in the control room to
 * the first frame of the new source presented on the watch page (and on the control room's
 * program monitor). Real nodes, real Chromium, fake-device test patterns; prints percentiles.
 *   npm run bench -w @microstudio/e2e        (CUTS=40 to change the sample size)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Page } from '@playwright/test';
import config from '../playwright.config.ts';
import { SOURCES } from '../tests/studio.ts';
import { base, directorInvites, startStudio } from './harness.ts';

const CUTS = Number(process.env.CUTS ?? 30);

/** In the page: on every presented frame of `label`'s video, note when its corner turns `rgb`. */
async function armColourWatch(page: Page, label: string, rgb: [number, number, number]): Promise<void> {
  // tsx (esbuild keepNames) wraps inner functions in a __name() helper the page does not have.
  await page.evaluate('globalThis.__name ??= (fn) => fn');
  await page.evaluate(
    ([label, rgb]) => {
      const w = window as unknown as { __seen?: number | null };
      w.__seen = null;
      const video = document.querySelector(`video[aria-label="${label}"]`) as HTMLVideoElement;
      const canvas = document.createElement('canvas');
      canvas.width = 16;
      canvas.height = 16;
      const ctx = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
      const check = () => {
        if (w.__seen !== null) return;
        ctx.drawImage(video, 0, 0, video.videoWidth * 0.1, video.videoHeight * 0.1, 0, 0, 16, 16);
        const d = ctx.getImageData(4, 4, 1, 1).data;
        const dist = Math.hypot((d[0] ?? 0) - rgb[0], (d[1] ?? 0) - rgb[1], (d[2] ?? 0) - rgb[2]);
        if (dist < 60) w.__seen = performance.timeOrigin + performance.now();
        else video.requestVideoFrameCallback(check);
      };
      video.requestVideoFrameCallback(check);
    },
    [label, rgb] as const,
  );
}

const seenAt = (page: Page) =>
  page
    .waitForFunction(() => (window as unknown as { __seen?: number | null }).__seen ?? null, null, {
      timeout: 10_000,
      polling: 20,
    })
    .then((h) => h.jsonValue() as Promise<number>);

function percentiles(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const p = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]?.toFixed(0);
  return `p50 ${p(0.5)} ms · p95 ${p(0.95)} ms · max ${s.at(-1)?.toFixed(0)} ms (n=${s.length})`;
}

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
