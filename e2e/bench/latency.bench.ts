/**
 * Glass-to-glass latency: the camera's test pattern draws its capture time into every frame as a
 * block code (packages/telemetry); probes read the code back from frames as they are presented
 * and subtract, on the same machine clock. Measured in one run at three places:
 *   - the site: a /watch page at the site (`?at=site`, as venue screens watch), and the control
 *     room's program monitor (a busier page: multiview, preview and program decoding at once);
 *   - an edge: a /watch page placed at an edge over a WAN of 20 ms RTT and 1 % loss;
 *   - a reference with no SFU: the same kind of canvas source sent over a direct
 *     browser-to-browser peer connection.
 *   npm run bench:latency           (SECONDS=20 per place)
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from '@playwright/test';
import { build } from 'esbuild';
import config from '../playwright.config.ts';
import { CLUSTER_ADMIN_SECRET, clusterSupport, startCluster } from '../support/cluster.ts';
import { CAMERA_QUALITY, SOURCES } from '../tests/studio.ts';
import { directorInvites, percentiles } from './harness.ts';

const SECONDS = Number(process.env.SECONDS ?? 20);
const STUDIO_PORT = 3500;

/** The time-code reader (and painter) as a browser script: globalThis.TimeCode. */
async function timeCodeScript(): Promise<string> {
  const entry = fileURLToPath(new URL('../../packages/telemetry/src/index.ts', import.meta.url));
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    globalName: 'TimeCode',
    write: false,
  });
  return out.outputFiles[0]?.text ?? '';
}

/** In the page: on every presented frame of the video labelled `label`, read the code and note the latency. */
async function startProbe(page: Page, label: string, script: string): Promise<void> {
  await page.addScriptTag({ content: script });
  await page.evaluate('globalThis.__name ??= (fn) => fn');
  await page.evaluate((label) => {
    type Code = {
      timeCodeRegion(w: number, h: number): { x: number; y: number; width: number; height: number };
      readTimeCode(d: Uint8ClampedArray, w: number, h: number, r: unknown): number | null;
      unwrapTimeCode(v: number, near: number): number;
    };
    const w = window as unknown as { TimeCode: Code; __g2g: number[]; __misses: number };
    w.__g2g = [];
    w.__misses = 0;
    const video = document.querySelector(`video[aria-label="${label}"]`) as HTMLVideoElement;
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
    const onFrame = (_now: number, meta: VideoFrameCallbackMetadata) => {
      const width = video.videoWidth;
      const height = video.videoHeight;
      if (width > 0) {
        const region = w.TimeCode.timeCodeRegion(width, height);
        const x0 = Math.floor(region.x);
        const y0 = Math.floor(region.y);
        const rw = Math.min(width - x0, Math.ceil(region.x + region.width) - x0);
        const rh = Math.min(height - y0, Math.ceil(region.y + region.height) - y0);
        canvas.width = rw;
        canvas.height = rh;
        ctx.drawImage(video, x0, y0, rw, rh, 0, 0, rw, rh);
        const data = ctx.getImageData(0, 0, rw, rh).data;
        const local = { x: region.x - x0, y: region.y - y0, width: region.width, height: region.height };
        const value = w.TimeCode.readTimeCode(data, rw, rh, local);
        // Presented at the compositor's expected display time, on the page's wall clock.
        const shownAt = performance.timeOrigin + meta.expectedDisplayTime;
        if (value === null) w.__misses += 1;
        else w.__g2g.push(shownAt - w.TimeCode.unwrapTimeCode(value, shownAt));
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }, label);
}

const collect = (page: Page) =>
  page.evaluate(() => {
    const w = window as unknown as { __g2g: number[]; __misses: number };
    return { samples: w.__g2g.splice(0), misses: w.__misses };
  });

/** A canvas source like the camera page's, sent pc1 → pc2 inside one page: no SFU at all. */
async function startDirectReference(page: Page, script: string): Promise<void> {
  await page.addScriptTag({ content: script });
  await page.evaluate('globalThis.__name ??= (fn) => fn');
  await page.evaluate(async () => {
    type Code = {
      timeCodeRegion(w: number, h: number): unknown;
      drawTimeCode(ctx: unknown, t: number, r: unknown): void;
    };
    const code = (window as unknown as { TimeCode: Code }).TimeCode;
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 360;
    const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
    const region = code.timeCodeRegion(640, 360);
    setInterval(() => {
      ctx.fillStyle = '#e62828';
      ctx.fillRect(0, 0, 640, 360);
      code.drawTimeCode(ctx, performance.timeOrigin + performance.now(), region);
    }, 33);
    const [track] = canvas.captureStream(30).getVideoTracks();
    const pc1 = new RTCPeerConnection();
    const pc2 = new RTCPeerConnection();
    pc1.onicecandidate = (e) => e.candidate && pc2.addIceCandidate(e.candidate);
    pc2.onicecandidate = (e) => e.candidate && pc1.addIceCandidate(e.candidate);
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.setAttribute('aria-label', 'Direct');
    document.body.appendChild(video);
    pc2.ontrack = (e) => {
      video.srcObject = new MediaStream([e.track]);
    };
    if (track) pc1.addTrack(track);
    await pc1.setLocalDescription(await pc1.createOffer());
    await pc2.setRemoteDescription(pc1.localDescription as RTCSessionDescriptionInit);
    await pc2.setLocalDescription(await pc2.createAnswer());
    await pc1.setRemoteDescription(pc2.localDescription as RTCSessionDescriptionInit);
    await new Promise<void>((resolve) => {
      const check = () => (video.videoWidth > 0 ? resolve() : setTimeout(check, 50));
      check();
    });
  });
}

const support = await clusterSupport();
if (!support.ok) {
  console.error(`bench:latency needs network namespaces: ${support.reason}`);
  process.exit(1);
}
const script = await timeCodeScript();
const browser = await chromium.launch({
  executablePath: config.use?.launchOptions?.executablePath,
  args: config.use?.launchOptions?.args,
});
const cluster = await startCluster({ studioPort: STUDIO_PORT, edges: [{ name: 'edge1', region: 'eu' }] });
try {
  const base = cluster.baseURL;
  const room = 'main';
  const newPage = async () => (await browser.newContext()).newPage();
  const control = await newPage();
  const invites = await directorInvites(control, room, { base, adminSecret: CLUSTER_ADMIN_SECRET });
  const camera = await newPage();
  const source = SOURCES[0] as (typeof SOURCES)[0];
  await camera.goto(
    `${base}/camera?${new URLSearchParams({
      room,
      invite: invites.camera,
      source: 'test-pattern',
      name: source.name,
      color: source.color,
      quality: CAMERA_QUALITY,
    })}`,
  );
  await camera.getByRole('button', { name: 'Go live' }).click();
  await control.getByRole('button', { name: `Preview ${source.name}` }).waitFor();
  await control.keyboard.press('Escape');
  await control.keyboard.press('1');
  await control.keyboard.press('Space');
  const watch = await newPage();
  await watch.goto(`${base}/watch?${new URLSearchParams({ room, invite: invites.viewer, region: 'eu' })}`);
  await watch.getByRole('note', { name: 'Serving node' }).filter({ hasText: 'edge1' }).waitFor();
  const siteWatch = await newPage();
  await siteWatch.goto(`${base}/watch?${new URLSearchParams({ room, invite: invites.viewer, at: 'site' })}`);
  await siteWatch.getByRole('note', { name: 'Serving node' }).filter({ hasText: 'Studio site' }).waitFor();
  const direct = await newPage();
  await direct.goto('about:blank');
  await startDirectReference(direct, script);
  await sleep(4000); // simulcast layers and bandwidth estimation settle

  await startProbe(control, 'Program monitor', script);
  await startProbe(siteWatch, 'Program', script);
  await startProbe(watch, 'Program', script);
  await startProbe(direct, 'Direct', script);
  await sleep(SECONDS * 1000);
  const rows: [string, Page][] = [
    ['site (/watch?at=site)', siteWatch],
    ['site (control room program monitor)', control],
    ['edge, WAN 20 ms RTT 1 % loss (/watch)', watch],
    ['direct browser-to-browser, no SFU', direct],
  ];
  for (const [name, page] of rows) {
    const { samples, misses } = await collect(page);
    const readable = samples.length + misses > 0 ? (samples.length / (samples.length + misses)) * 100 : 0;
    console.log(
      `glass-to-glass, ${name.padEnd(40)} ${percentiles(samples)} · ${readable.toFixed(0)} % of frames read`,
    );
  }
} finally {
  await browser.close();
  await cluster.close();
}
