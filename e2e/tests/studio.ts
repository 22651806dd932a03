import {
  type Browser,
  type BrowserContext,
  test as base,
  expect,
  type Locator,
  type Page,
} from '@playwright/test';
import { ADMIN_SECRET } from '../playwright.config.ts';

export interface TestSource {
  name: string;
  color: string;
  rgb: [number, number, number];
}

/** Distinct test-pattern colours: far apart so a corner pixel tells which source is on screen. */
/**
 * Cameras in tests publish the Low preset (640×360, simulcast layers 320 and 640 wide): three
 * cameras, a control room and viewers share two cores here.
 */
export const CAMERA_QUALITY = 'low';

export const SOURCES: TestSource[] = [
  { name: 'Cam A', color: '#e62828', rgb: [230, 40, 40] },
  { name: 'Cam B', color: '#28c83c', rgb: [40, 200, 60] },
  { name: 'Cam C', color: '#2850e6', rgb: [40, 80, 230] },
];

/**
 * Records every RTCPeerConnection a page creates, so tests can read getStats() the way the
 * browser reports decoding, independently of the app's own code.
 */
const recordPeerConnections = () => {
  const w = window as unknown as { __pcs: RTCPeerConnection[] };
  w.__pcs = [];
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(config);
      w.__pcs.push(this);
    }
  } as typeof RTCPeerConnection;
};

export async function openPage(context: BrowserContext, path: string): Promise<Page> {
  const page = await context.newPage();
  await page.addInitScript(recordPeerConnections);
  page.on('pageerror', (error) => console.log(`[${path}] page error: ${error.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning')
      console.log(`[${path}] console.${m.type()}: ${m.text()}`);
  });
  await page.goto(path);
  return page;
}

/** Sum of one video stat over all of the page's open peer connections (getStats). */
async function sumVideoStat(
  page: Page,
  type: 'inbound-rtp' | 'outbound-rtp',
  field: 'framesDecoded' | 'framesEncoded',
): Promise<number> {
  return page.evaluate(
    async ([type, field]) => {
      const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
      let total = 0;
      for (const pc of pcs) {
        if (pc.connectionState === 'closed') continue;
        (await pc.getStats()).forEach((s) => {
          if (s.type === type && s.kind === 'video') total += s[field] ?? 0;
        });
      }
      return total;
    },
    [type, field] as const,
  );
}

/** Frames the page decoded, over all its receiving connections. */
export const framesDecoded = (page: Page) => sumVideoStat(page, 'inbound-rtp', 'framesDecoded');

/** Frames the page encoded (a camera page's proof that it is sending). */
export const framesEncoded = (page: Page) => sumVideoStat(page, 'outbound-rtp', 'framesEncoded');

export interface VideoSample {
  width: number;
  height: number;
  frames: number;
  rgb: [number, number, number] | null;
}

/** What a <video> shows: its decoded size, frames presented so far, and the colour near its corner. */
export async function sampleVideo(video: Locator): Promise<VideoSample> {
  return video.evaluate((element) => {
    const v = element as HTMLVideoElement;
    const frames = v.getVideoPlaybackQuality().totalVideoFrames;
    if (v.videoWidth === 0) return { width: 0, height: 0, frames, rgb: null };
    const canvas = document.createElement('canvas');
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) return { width: v.videoWidth, height: v.videoHeight, frames, rgb: null };
    ctx.drawImage(v, 0, 0);
    // Average an 8×8 patch at 5 % from the top-left corner: always pure source colour.
    const x = Math.floor(v.videoWidth * 0.05);
    const y = Math.floor(v.videoHeight * 0.05);
    const data = ctx.getImageData(x, y, 8, 8).data;
    let r = 0;
    let g = 0;
    let b = 0;
    for (let i = 0; i < data.length; i += 4) {
      r += data[i] ?? 0;
      g += data[i + 1] ?? 0;
      b += data[i + 2] ?? 0;
    }
    const n = data.length / 4;
    return {
      width: v.videoWidth,
      height: v.videoHeight,
      frames,
      rgb: [Math.round(r / n), Math.round(g / n), Math.round(b / n)] as [number, number, number],
    };
  });
}

export function colourDistance(a: [number, number, number] | null, b: [number, number, number]): number {
  if (!a) return Number.POSITIVE_INFINITY;
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** Waits until the video decodes new frames of the given source (by colour). */
export async function expectShowing(
  video: Locator,
  source: TestSource,
  message: string,
): Promise<VideoSample> {
  let last: VideoSample | undefined;
  await expect
    .poll(
      async () => {
        last = await sampleVideo(video);
        return colourDistance(last.rgb, source.rgb);
      },
      { message: `${message}: expected ${source.name} ${source.color}`, timeout: 20_000, intervals: [200] },
    )
    .toBeLessThan(60);
  // New frames keep arriving (not a frozen last frame).
  const before = last?.frames ?? 0;
  await expect
    .poll(async () => (await sampleVideo(video)).frames, { message: `${message}: frames advance` })
    .toBeGreaterThan(before);
  return last as VideoSample;
}

/** Opens the control room with the director link (admin secret in the fragment, as printed). */
export async function openControl(context: BrowserContext, room: string): Promise<Page> {
  const page = await openPage(context, `/control?room=${room}#admin=${ADMIN_SECRET}`);
  await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('connected');
  return page;
}

/** Makes an invite in the control room, the way a director does, and returns its token. */
export async function createInvite(control: Page, kind: 'camera' | 'viewer'): Promise<string> {
  const [button, link] =
    kind === 'camera' ? ['New camera invite', 'Camera join link'] : ['New viewer link', 'Viewer link'];
  const anchor = control.getByRole('link', { name: link });
  const previous = (await anchor.count()) > 0 ? await anchor.getAttribute('href') : null;
  await control.getByRole('button', { name: button }).click();
  await expect(anchor).toHaveAttribute('href', /invite=/);
  if (previous) await expect(anchor).not.toHaveAttribute('href', previous);
  const href = (await anchor.getAttribute('href')) as string;
  // The link is the LAN https address for phones; tests open the same page on their own origin.
  const token = new URL(href).searchParams.get('invite');
  expect(token, `${link} carries an invite`).toBeTruthy();
  return token as string;
}

export async function openWatch(context: BrowserContext, room: string, invite: string): Promise<Page> {
  return openPage(context, `/watch?${new URLSearchParams({ room, invite })}`);
}

/**
 * A camera page sending `source`'s test pattern, with Go live pressed but not waited on (a test
 * that expects the connection to fail uses this); `extra` adds query parameters (e.g. ice=relay).
 */
export async function startCamera(
  context: BrowserContext,
  room: string,
  source: TestSource,
  invite: string,
  extra: Record<string, string> = {},
): Promise<Page> {
  const query = new URLSearchParams({
    room,
    invite,
    name: source.name,
    source: 'test-pattern',
    color: source.color,
    quality: CAMERA_QUALITY,
    ...extra,
  });
  const page = await openPage(context, `/camera?${query}`);
  await page.getByRole('button', { name: 'Go live' }).click();
  return page;
}

export async function openCamera(
  context: BrowserContext,
  room: string,
  source: TestSource,
  invite: string,
): Promise<Page> {
  const page = await startCamera(context, room, source, invite);
  await expect(page.getByRole('status', { name: 'Connection state' })).toHaveText('connected');
  await expect
    .poll(() => framesEncoded(page), { message: `${source.name} encodes frames` })
    .toBeGreaterThan(10);
  return page;
}

export const uniqueRoom = (prefix: string) => `${prefix}-${Date.now().toString(36)}`;

/** One browser context per role, as on separate devices. */
export const test = base.extend<{ newContext: () => Promise<BrowserContext> }>({
  newContext: async ({ browser }: { browser: Browser }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async () => {
      const context = await browser.newContext();
      contexts.push(context);
      return context;
    });
    await Promise.all(contexts.map((c) => c.close()));
  },
});

export { expect };

/** Widths of the simulcast layers a camera page is encoding right now (getStats outbound-rtp). */
export async function sentLayerWidths(page: Page): Promise<number[]> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const widths: number[] = [];
    for (const pc of pcs) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === 'video' && s.frameWidth && (s.framesPerSecond ?? 0) > 0)
          widths.push(s.frameWidth);
      });
    }
    return widths.sort((a, b) => a - b);
  });
}

/**
 * Waits until `video` shows the lowest or the highest layer the camera is sending at that moment:
 * the node's layer choice, independent of how much of the machine the encoder gets.
 */
export async function expectLayer(
  video: Locator,
  camera: Page,
  which: 'lowest' | 'highest',
  message: string,
) {
  await expect
    .poll(
      async () => {
        const sent = await sentLayerWidths(camera);
        const shown = (await sampleVideo(video)).width;
        const seen = `shows ${shown} px, camera sends ${sent.join('/')} px`;
        const target = which === 'lowest' ? sent[0] : sent.at(-1);
        return sent.length > 1 && shown === target ? 'ok' : seen;
      },
      { message, timeout: 20_000 },
    )
    .toBe('ok');
}
