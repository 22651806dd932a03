import type { Locator, Page } from '@playwright/test';
import { ports } from '../playwright.config.ts';
import { closeLeftoverWeriftSockets, startWhipEncoder, type WhipEncoder } from '../support/whipEncoder.ts';
import {
  createInvite,
  expect,
  framesDecoded,
  openControl,
  openWatch,
  sampleVideo,
  test,
  uniqueRoom,
} from './studio.ts';

const SOURCE_NAME = 'WHIP Box';
const WIDTH = 640;
const HEIGHT = 360;

let encoder: WhipEncoder | undefined;

test.afterEach(async () => {
  await encoder?.stop();
  encoder = undefined;
});

test.afterAll(() => {
  closeLeftoverWeriftSockets();
});

/**
 * Codecs of the page's inbound video streams that have decoded frames (getStats): the mimeType,
 * or with `fmtp` the mimeType and the codec's a=fmtp line (`video/H264 level-asymmetry…`).
 */
async function decodedVideoCodecs(page: Page, fmtp = false): Promise<string[]> {
  return page.evaluate(async (withFmtp) => {
    const pcs = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs;
    const codecs = new Set<string>();
    for (const pc of pcs) {
      if (pc.connectionState === 'closed') continue;
      const names = new Map<string, string>();
      const decoding: string[] = [];
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'codec')
          names.set(s.id, withFmtp ? `${s.mimeType} ${s.sdpFmtpLine ?? ''}`.trim() : s.mimeType);
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0) decoding.push(s.codecId);
      });
      for (const id of decoding) {
        const name = names.get(id);
        if (name) codecs.add(name);
      }
    }
    return [...codecs].sort();
  }, fmtp);
}

/** Waits until the video shows decoded frames of the WHIP source at its size, and they advance. */
async function expectDecoding(video: Locator, message: string): Promise<void> {
  let frames = 0;
  await expect
    .poll(
      async () => {
        const sample = await sampleVideo(video);
        frames = sample.frames;
        return `${sample.width}x${sample.height}`;
      },
      { message: `${message}: decodes ${WIDTH}x${HEIGHT}`, timeout: 20_000, intervals: [200] },
    )
    .toBe(`${WIDTH}x${HEIGHT}`);
  await expect
    .poll(async () => (await sampleVideo(video)).frames, { message: `${message}: frames advance` })
    .toBeGreaterThan(frames + 10);
}

/** Waits until the page's getStats framesDecoded grows by more than `by`. */
async function expectFramesDecodedGrow(page: Page, by: number, message: string): Promise<void> {
  const before = await framesDecoded(page);
  await expect.poll(() => framesDecoded(page), { message }).toBeGreaterThan(before + by);
}

/** ffmpeg encodes, werift does WebRTC: POST /whip/<room>?name=WHIP%20Box with a camera invite. */
async function publishWhipBox(room: string, token: string, profile?: 'baseline' | 'high') {
  encoder = await startWhipEncoder({
    nodeUrl: `http://127.0.0.1:${ports.sfu}`,
    room,
    token,
    name: SOURCE_NAME,
    width: WIDTH,
    height: HEIGHT,
    ...(profile ? { profile } : {}),
  });
  return encoder;
}

test('a publisher that is not our code publishes H.264 + Opus over WHIP; the source decodes in the control room (Chromium getStats) and can be cut to program', async ({
  newContext,
}) => {
  const room = uniqueRoom('whip');
  const control = await openControl(await newContext(), room);
  const cameraInvite = await createInvite(control, 'camera');
  const viewerInvite = await createInvite(control, 'viewer');

  const whip = await publishWhipBox(room, cameraInvite);
  expect(whip.location).toMatch(new RegExp(`^/whip/${room}/[0-9a-f-]{36}$`));
  await expect
    .poll(() => Math.min(whip.relayed().video, whip.relayed().audio), {
      message: `ffmpeg sends video and audio RTP: ${JSON.stringify(whip.relayed())}\n${whip.log()}`,
    })
    .toBeGreaterThan(50);

  // The multiview shows the WHIP source by name, and its tile decodes the H.264 stream.
  const multiview = control.getByRole('region', { name: 'Multiview' });
  await expect(multiview.getByRole('button', { name: `Preview ${SOURCE_NAME}` })).toBeVisible();
  await expect(multiview.getByRole('button', { name: /^Preview / })).toHaveCount(1);
  const tile = control.getByLabel(`${SOURCE_NAME} multiview`);
  await expectDecoding(tile, 'multiview tile');
  await expectFramesDecodedGrow(control, 30, 'control room framesDecoded grows (getStats)');
  await expect
    .poll(() => decodedVideoCodecs(control), { message: 'the control room decodes H.264' })
    .toContain('video/H264');
  // The Opus tone decodes too: the tile's meter reads the browser's inbound audio level.
  await expect
    .poll(
      async () =>
        Number(
          await control
            .getByLabel(`${SOURCE_NAME} audio level`)
            .evaluate((m) => (m as HTMLMeterElement).value),
        ),
      { message: 'the WHIP source audio meter moves (Opus decodes)' },
    )
    .toBeGreaterThan(0);

  // Escape leaves the invite button just clicked; key 1 previews the source, Space cuts.
  await control.keyboard.press('Escape');
  await control.keyboard.press('1');
  await expect(control.getByLabel('Preview source')).toHaveText(SOURCE_NAME);
  await expect(multiview.getByRole('button', { name: `Preview ${SOURCE_NAME}` })).toHaveAttribute(
    'aria-pressed',
    'true',
  );
  await expectDecoding(control.getByLabel('Preview monitor'), 'preview monitor');
  await control.keyboard.press('Space');
  await expect(control.getByLabel('Program source')).toHaveText(SOURCE_NAME);
  await expectDecoding(control.getByLabel('Program monitor'), 'program monitor after the cut');
  await expectFramesDecodedGrow(control, 30, 'control room keeps decoding after the cut');

  // A viewer's /watch page decodes the program: the WHIP source.
  const watch = await openWatch(await newContext(), room, viewerInvite);
  await expectDecoding(watch.getByLabel('Program'), 'watch page program');
  await expectFramesDecodedGrow(watch, 30, 'watch page framesDecoded grows (getStats)');
  await expect
    .poll(() => decodedVideoCodecs(watch), { message: 'the watch page decodes H.264' })
    .toContain('video/H264');
});

test('a High-profile H.264 publisher (x264 High, offered as 640c1f) decodes in the control room', async ({
  newContext,
}) => {
  const room = uniqueRoom('whip-high');
  const control = await openControl(await newContext(), room);
  const cameraInvite = await createInvite(control, 'camera');
  const whip = await publishWhipBox(room, cameraInvite, 'high');
  await expect
    .poll(() => whip.relayed().video, { message: `ffmpeg sends High-profile RTP\n${whip.log()}` })
    .toBeGreaterThan(50);
  const tile = control.getByLabel(`${SOURCE_NAME} multiview`);
  await expectDecoding(tile, 'multiview tile (High)');
  await expectFramesDecodedGrow(control, 30, 'control room framesDecoded grows (getStats, High)');
  // The node forwards the High bitstream under the router's Main label (4d00xx); Chromium's
  // decoder reads the real profile from the SPS.
  await expect
    .poll(() => decodedVideoCodecs(control, true), { message: 'the control room decodes H.264 (Main label)' })
    .toContainEqual(expect.stringMatching(/^video\/H264 .*profile-level-id=4d00/));
});
