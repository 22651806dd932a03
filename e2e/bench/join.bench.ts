/**
 * Join-to-first-frame, as a new viewer feels it: from opening /watch (navigation start) to the
 * first presented frame of the program video, over JOINS fresh browser contexts (cold cache, new
 * connection each). Split by the SDK's performance marks (packages/client/src/session.ts):
 *   page load       navigation start → the page's script has run and sent the join (split: the
 *                   server's first byte, the rest of the HTML, parsing and the script)
 *   join            room:join sent (in socket.io's handshake) → answered: the connection and the join
 *   consume         join acknowledged → first video consumer created (transport:create, consumer:create)
 *   transport       consumer created → receive transport connected (ICE + DTLS)
 *   first frame     transport connected → first frame received (keyframe wait, jitter buffer)
 *   decode+render   first frame received → presented (requestVideoFrameCallback metadata)
 * Real nodes on their own ports (never the e2e suite's), Debian Chromium; prints percentiles.
 *   npm run bench:join -w @microstudio/e2e       (JOINS=40 to change the sample size)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from '@playwright/test';
import config from '../playwright.config.ts';
import { CAMERA_QUALITY, SOURCES } from '../tests/studio.ts';
import { base, directorInvites, percentiles, startStudio } from './harness.ts';

const JOINS = Number(process.env.JOINS ?? 25);
/**
 * Joins made first and not counted: the studio's first requests for /watch load its route and
 * warm the servers' code, which a viewer arriving at a running show does not pay for.
 */
const WARMUP_JOINS = 2;

/**
 * Runs in the page before its own scripts: when the program video appears, records the first
 * presented frame's times (ms since navigation start, the page's performance clock) and hands
 * them to the one evaluate() waiting for them. (The bench used to poll for them every 20 ms:
 * work on the page's main thread, the very thread whose time it measures.)
 */
const watchFirstFrame = () => {
  const w = window as unknown as { __firstFrame?: FirstFrame; __onFirstFrame?: (f: FirstFrame) => void };
  const arm = (video: HTMLVideoElement) => {
    video.requestVideoFrameCallback((_now, meta) => {
      const frame = { presented: meta.presentationTime, received: meta.receiveTime ?? null };
      w.__firstFrame = frame;
      w.__onFirstFrame?.(frame);
    });
  };
  const find = () => document.querySelector('video[aria-label="Program"]') as HTMLVideoElement | null;
  const observer = new MutationObserver(() => {
    const video = find();
    if (!video) return;
    observer.disconnect();
    arm(video);
  });
  document.addEventListener('DOMContentLoaded', () => {
    const video = find();
    if (video) arm(video);
    else observer.observe(document.body, { childList: true, subtree: true });
  });
};

/** Times of the first presented frame of the program video, from requestVideoFrameCallback. */
interface FirstFrame {
  presented: number;
  received: number | null;
}

interface Sample {
  total: number;
  phases: Record<string, number | undefined>;
}

const phaseNames = [
  'page load (→ join sent)',
  '  server (first byte)',
  '  html streamed',
  '  parse + script',
  '  (DOMContentLoaded)',
  'join (connect + join)',
  'consume',
  'transport',
  'first frame',
  'decode+render',
];

const studio = startStudio('join');
const browser = await chromium.launch({
  executablePath: config.use?.launchOptions?.executablePath,
  args: config.use?.launchOptions?.args,
});
try {
  await studio.ready();
  const room = `join-${Date.now().toString(36)}`;
  const source = SOURCES[0] as (typeof SOURCES)[0];
  // The director link makes the invites (as in cut-latency.bench.ts), then puts the camera on
  // program once (program state lives on the node).
  const control = await (await browser.newContext()).newPage();
  const { camera: cameraInvite, viewer: viewerInvite } = await directorInvites(control, room);
  const camera = await (await browser.newContext()).newPage();
  const cameraQuery = new URLSearchParams({
    room,
    invite: cameraInvite,
    source: 'test-pattern',
    name: source.name,
    color: source.color,
    quality: CAMERA_QUALITY,
  });
  await camera.goto(`${base}/camera?${cameraQuery}`);
  await camera.getByRole('button', { name: 'Go live' }).click();
  await control.getByRole('button', { name: `Preview ${source.name}` }).waitFor();
  await control.keyboard.press('Escape');
  await control.keyboard.press('1');
  await control.keyboard.press('Space');
  await sleep(1000);
  await control.context().close();
  await sleep(2000); // the camera's encoder and bandwidth estimate settle

  // tsx (esbuild keepNames) wraps inner functions in a __name() helper the page does not have.
  const init = `globalThis.__name ??= (fn) => fn; (${watchFirstFrame.toString()})();`;
  const samples: Sample[] = [];
  for (let i = -WARMUP_JOINS; i < JOINS; i++) {
    const context = await browser.newContext();
    await context.addInitScript(init);
    const page = await context.newPage();
    await page.goto(`${base}/watch?${new URLSearchParams({ room, invite: viewerInvite })}`, {
      waitUntil: 'commit',
    });
    const frame = await page.evaluate(
      () =>
        new Promise<FirstFrame>((resolve, reject) => {
          const w = window as unknown as {
            __firstFrame?: FirstFrame;
            __onFirstFrame?: (f: FirstFrame) => void;
          };
          if (w.__firstFrame) resolve(w.__firstFrame);
          else w.__onFirstFrame = resolve;
          setTimeout(() => reject(new Error('no first frame in 15 s')), 15_000);
        }),
    );
    const marks = await page.evaluate(() => {
      const first = (name: string) => performance.getEntriesByName(name, 'mark')[0]?.startTime;
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      return {
        dcl: nav?.domContentLoadedEventEnd,
        ttfb: nav?.responseStart,
        html: nav?.responseEnd,
        joinSent: first('microstudio:join-sent'),
        joinAcked: first('microstudio:join-acked'),
        consumer: first('microstudio:consumer-created:video'),
        connected: first('microstudio:transport-connected:recv'),
      };
    });
    const span = (from: number | undefined | null, to: number | undefined | null) =>
      from == null || to == null ? undefined : to - from;
    if (i >= 0)
      samples.push({
        total: frame.presented,
        phases: {
          'page load (→ join sent)': marks.joinSent,
          '  server (first byte)': marks.ttfb,
          '  html streamed': span(marks.ttfb, marks.html),
          '  parse + script': span(marks.html, marks.joinSent),
          '  (DOMContentLoaded)': marks.dcl,
          'join (connect + join)': span(marks.joinSent, marks.joinAcked),
          consume: span(marks.joinAcked, marks.consumer),
          transport: span(marks.consumer, marks.connected),
          'first frame': span(marks.connected, frame.received),
          'decode+render': span(frame.received, frame.presented),
        },
      });
    await context.close();
    await sleep(300);
  }
  console.log(`join-to-first-frame, /watch, ${JOINS} fresh contexts:`);
  console.log(
    `  ${'total (navigation → first presented frame)'.padEnd(44)} ${percentiles(samples.map((s) => s.total))}`,
  );
  for (const name of phaseNames) {
    const values = samples.flatMap((s) => (s.phases[name] === undefined ? [] : [s.phases[name] as number]));
    console.log(`  ${name.padEnd(44)} ${percentiles(values)}`);
  }
} finally {
  await browser.close();
  studio.process.kill('SIGTERM');
}
