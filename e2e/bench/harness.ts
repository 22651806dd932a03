/**
 * What the browser benchmarks share: the whole studio started by the same launcher as
 * `npm start`, on ports of its own (never the e2e suite's 3100/3543/4100/44500, so a running
 * test never clashes), and the director's invites made the way a director makes them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page } from '@playwright/test';
import config, { ADMIN_SECRET } from '../playwright.config.ts';
import { SOURCES } from '../tests/studio.ts';

const ports = { studio: 3300, https: 3743, sfu: 4300, rtc: 44700 };
export const base = `http://127.0.0.1:${ports.studio}`;

export interface BenchStudio {
  process: ChildProcess;
  /** Resolves once the studio answers; rejects if it exits first or takes over 5 minutes. */
  ready(): Promise<void>;
}

/** Starts the studio (its build first, cached by Turborepo, so the page has the current SDK). */
export function startStudio(name: string): BenchStudio {
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...(config.webServer as { env: Record<string, string> }).env,
    MICROSTUDIO_SFU_PORT: String(ports.sfu),
    MICROSTUDIO_SFU_URL: `http://127.0.0.1:${ports.sfu}`,
    MICROSTUDIO_STUDIO_PORT: String(ports.studio),
    MICROSTUDIO_STUDIO_HTTPS_PORT: String(ports.https),
    MICROSTUDIO_RTC_PORT: String(ports.rtc),
    MICROSTUDIO_DATA_DIR: join(tmpdir(), `microstudio-bench-${name}`),
  };
  const child = spawn(process.execPath, ['../scripts/start.mjs'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return {
    process: child,
    async ready() {
      for (let i = 0; i < 1500; i++) {
        if (child.exitCode !== null)
          throw new Error(`the studio exited (${child.exitCode}) before it was up`);
        try {
          if ((await fetch(`${base}/api/studio-info`)).ok) return;
        } catch {
          // not up yet
        }
        await sleep(200);
      }
      throw new Error('the studio did not start within 5 minutes');
    },
  };
}

/** Opens the control room with the director link and makes a camera and a viewer invite. */
export async function directorInvites(
  control: Page,
  room: string,
  studio: { base: string; adminSecret: string } = { base, adminSecret: ADMIN_SECRET },
): Promise<{ camera: string; viewer: string }> {
  await control.goto(`${studio.base}/control?room=${room}#admin=${studio.adminSecret}`);
  const invite = async (button: string, link: string, previous: string | null) => {
    await control.getByRole('button', { name: button }).click();
    const anchor = control.getByRole('link', { name: link });
    await control.waitForFunction(
      ([label, before]) => {
        const a = document.querySelector(`a[aria-label="${label}"]`);
        return a !== null && a.getAttribute('href') !== before;
      },
      [link, previous] as const,
    );
    return new URL((await anchor.getAttribute('href')) as string).searchParams.get('invite') as string;
  };
  // The control room shows a camera link of its own from the start: wait for it, then make ours.
  const shown = control.getByRole('link', { name: 'Camera join link' });
  await shown.waitFor();
  const camera = await invite('New camera invite', 'Camera join link', await shown.getAttribute('href'));
  const viewer = await invite('New viewer link', 'Viewer link', null);
  return { camera, viewer };
}

/** In the page: on every presented frame of `label`'s video, note when its corner turns `rgb`. */
export async function armColourWatch(
  page: Page,
  label: string,
  rgb: [number, number, number],
): Promise<void> {
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

export const seenAt = (page: Page) =>
  page
    .waitForFunction(() => (window as unknown as { __seen?: number | null }).__seen ?? null, null, {
      timeout: 10_000,
      polling: 20,
    })
    .then((h) => h.jsonValue() as Promise<number>);

/** Nearest-rank percentiles of a sample, for benchmark output. */
export function percentiles(values: number[]): string {
  if (values.length === 0) return 'n/a (no samples)';
  const s = [...values].sort((a, b) => a - b);
  const p = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]?.toFixed(0);
  return `p50 ${p(0.5)?.padStart(5)} ms · p95 ${p(0.95)?.padStart(5)} ms · max ${s.at(-1)?.toFixed(0).padStart(5)} ms (n=${s.length})`;
}

type Source = (typeof SOURCES)[0];

/**
 * Two test-pattern cameras (the first two SOURCES) go live; the director cuts the first to
 * program and previews the second, so every later cut alternates between them.
 */
export async function liveCameraPair(
  browser: Browser,
  control: Page,
  studio: { base: string; room: string; cameraInvite: string; quality?: string },
): Promise<[Source, Source]> {
  const [a, b] = SOURCES as [Source, Source];
  for (const source of [a, b]) {
    const page = await (await browser.newContext()).newPage();
    const query = new URLSearchParams({
      room: studio.room,
      invite: studio.cameraInvite,
      source: 'test-pattern',
      name: source.name,
      color: source.color,
      ...(studio.quality ? { quality: studio.quality } : {}),
    });
    await page.goto(`${studio.base}/camera?${query}`);
    await page.getByRole('button', { name: 'Go live' }).click();
  }
  await control.getByRole('button', { name: `Preview ${b.name}` }).waitFor();
  await control.keyboard.press('Escape');
  await control.keyboard.press('1');
  await control.keyboard.press('Space');
  await control.keyboard.press('2');
  return [a, b];
}

/**
 * Presses the cut key `cuts` times and measures, for each, the time to the new source's first
 * presented frame on the watch page and on the control room's program monitor.
 */
export async function measureCuts(
  control: Page,
  watch: Page,
  [a, b]: [Source, Source],
  cuts: number,
): Promise<{ atWatch: number[]; atMonitor: number[] }> {
  const atWatch: number[] = [];
  const atMonitor: number[] = [];
  for (let i = 0; i < cuts; i++) {
    const target = i % 2 === 0 ? b : a;
    await armColourWatch(watch, 'Program', target.rgb);
    await armColourWatch(control, 'Program monitor', target.rgb);
    const pressedAt = await control.evaluate(() => performance.timeOrigin + performance.now());
    await control.keyboard.press('Space');
    atWatch.push((await seenAt(watch)) - pressedAt);
    atMonitor.push((await seenAt(control)) - pressedAt);
    await sleep(300);
  }
  return { atWatch, atMonitor };
}
