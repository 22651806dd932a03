import type { BrowserContext, Page } from '@playwright/test';
import {
  CAMERA_QUALITY,
  createInvite,
  expect,
  expectShowing,
  framesEncoded,
  openCamera,
  openControl,
  openPage,
  openWatch,
  SOURCES,
  type TestSource,
  test,
  uniqueRoom,
} from './studio.ts';

const [camA] = SOURCES as [(typeof SOURCES)[0]];

/** Guests' test-pattern colours: far from the cameras' (and from each other). */
const GUEST: TestSource = { name: 'Guest Ana', color: '#e6c828', rgb: [230, 200, 40] };
const GUEST_2: TestSource = { name: 'Guest Ben', color: '#c828e6', rgb: [200, 40, 230] };

/** Makes a guest invite in the control room ("New guest invite") and returns its token. */
async function createGuestInvite(control: Page): Promise<string> {
  const anchor = control.getByRole('link', { name: 'Guest join link' });
  const previous = (await anchor.count()) > 0 ? await anchor.getAttribute('href') : null;
  await control.getByRole('button', { name: 'New guest invite' }).click();
  await expect(anchor).toHaveAttribute('href', /\/join\?.*invite=/);
  if (previous) await expect(anchor).not.toHaveAttribute('href', previous);
  await expect(control.getByRole('img', { name: 'QR code for the guest join link' })).toBeVisible();
  const token = new URL((await anchor.getAttribute('href')) as string).searchParams.get('invite');
  expect(token, 'the guest link carries an invite').toBeTruthy();
  return token as string;
}

/** Opens the guest link and passes the device check (preview, name); does not press Join. */
async function openGuest(
  context: BrowserContext,
  room: string,
  invite: string,
  source: TestSource,
  extra: Record<string, string> = {},
): Promise<Page> {
  const query = new URLSearchParams({
    room,
    invite,
    source: 'test-pattern',
    color: source.color,
    quality: CAMERA_QUALITY,
    ...extra,
  });
  const page = await openPage(context, `/join?${query}`);
  await expect(page.getByRole('status', { name: 'Guest status' })).toHaveText(
    'Check your camera and microphone',
  );
  await page.getByRole('textbox', { name: 'Your name' }).fill(source.name);
  await expectShowing(page.getByLabel('Your camera preview'), source, `${source.name} device check preview`);
  return page;
}

const guestStatus = (page: Page) => page.getByRole('status', { name: 'Guest status' });

test('a guest checks devices, waits watching the program, is admitted, goes on program, is removed for good', async ({
  newContext,
}) => {
  const room = uniqueRoom('guests');
  const control = await openControl(await newContext(), room);
  const cameraInvite = await createInvite(control, 'camera');
  const viewerInvite = await createInvite(control, 'viewer');
  await openCamera(await newContext(), room, camA, cameraInvite);
  const multiview = control.getByRole('region', { name: 'Multiview' });
  await multiview.getByRole('button', { name: `Preview ${camA.name}` }).click();
  await control.getByRole('button', { name: 'Cut' }).click();
  await expect(control.getByLabel('Program source')).toHaveText(camA.name);
  const watch = await openWatch(await newContext(), room, viewerInvite);
  await expectShowing(watch.getByLabel('Program'), camA, 'watch page shows the camera');

  // Device check: camera preview, microphone meter (fake device), name; then Join.
  const invite = await createGuestInvite(control);
  const guestContext = await newContext();
  const guest = await openGuest(guestContext, room, invite, GUEST);
  await expect
    .poll(
      () =>
        guest.getByRole('meter', { name: 'Microphone level' }).evaluate((m) => (m as HTMLMeterElement).value),
      {
        message: 'the microphone meter moves',
      },
    )
    .toBeGreaterThan(0);
  await guest.getByRole('button', { name: 'Join' }).click();

  // Green room: the guest waits and watches the program; the director sees it waiting.
  await expect(guestStatus(guest)).toHaveText('Waiting for the director');
  await expect(guest.getByRole('status', { name: 'Connection state' })).toHaveText('connected');
  await expectShowing(
    guest.getByLabel('Program', { exact: true }),
    camA,
    'the waiting guest watches the program',
  );
  const guests = control.getByRole('region', { name: 'Guests' });
  await expect(guests.getByRole('listitem', { name: GUEST.name })).toContainText('waiting');
  // Waiting guests are no source: the multiview still has the one camera.
  await expect(multiview.getByRole('button', { name: /^Preview / })).toHaveCount(1);
  expect(await framesEncoded(guest)).toBe(0);

  // Admitted: the guest is live, publishes, becomes a tile, and goes on program.
  await guests.getByRole('button', { name: `Admit ${GUEST.name}` }).click();
  await expect(guestStatus(guest)).toHaveText('You are live');
  await expect(guests.getByRole('listitem', { name: GUEST.name })).toContainText('admitted');
  const tile = multiview.getByRole('button', { name: `Preview ${GUEST.name}` });
  await expect(tile).toBeVisible();
  await expectShowing(control.getByLabel(`${GUEST.name} multiview`), GUEST, 'guest tile in the multiview');
  await tile.click();
  await control.getByRole('button', { name: 'Cut' }).click();
  await expect(control.getByLabel('Program source')).toHaveText(GUEST.name);
  await expectShowing(watch.getByLabel('Program'), GUEST, 'the watch page shows the guest on program');
  await expect(guest.getByRole('status', { name: 'Tally' })).toHaveText('On program');

  // Mute and unmute: the guest is told.
  await guests.getByRole('button', { name: `Mute ${GUEST.name}` }).click();
  await expect(guest.getByRole('status', { name: 'Microphone' })).toHaveText('Muted by the director');
  await expect(guests.getByRole('listitem', { name: GUEST.name })).toContainText('muted');
  await guests.getByRole('button', { name: `Unmute ${GUEST.name}` }).click();
  await expect(guest.getByRole('status', { name: 'Microphone' })).toHaveText('Microphone on');

  // Removed: told, out of the list, off program; its one-use invite lets nobody back in.
  await guests.getByRole('button', { name: `Remove ${GUEST.name}` }).click();
  await expect(guest.getByRole('alert').filter({ hasText: 'removed you' })).toBeVisible();
  await expect(guest.getByRole('status', { name: 'Connection state' })).toHaveText('disconnected');
  await expect(guests.getByRole('listitem')).toHaveCount(0);
  await expect(multiview.getByRole('button', { name: /^Preview / })).toHaveCount(1);

  // The same device reloads the link: refused.
  await guest.reload();
  await guest.getByRole('textbox', { name: 'Your name' }).fill(GUEST.name);
  await guest.getByRole('button', { name: 'Join' }).click();
  await expect(
    guest.getByRole('alert').filter({ hasText: 'does not let you in' }).filter({ hasText: 'sent you away' }),
  ).toBeVisible();
  await expect(guestStatus(guest)).toHaveText('Could not join');
  // Another device with the same link: the invite is used up.
  const other = await openGuest(await newContext(), room, invite, GUEST);
  await other.getByRole('button', { name: 'Join' }).click();
  await expect(other.getByRole('alert').filter({ hasText: 'used up' })).toBeVisible();
  await expect(guests.getByRole('listitem')).toHaveCount(0);
});

test('a rejected guest is told and cannot come back with its invite', async ({ newContext }) => {
  const room = uniqueRoom('reject');
  const control = await openControl(await newContext(), room);
  const invite = await createGuestInvite(control);
  const guest = await openGuest(await newContext(), room, invite, GUEST);
  await guest.getByRole('button', { name: 'Join' }).click();
  await expect(guestStatus(guest)).toHaveText('Waiting for the director');
  const guests = control.getByRole('region', { name: 'Guests' });
  await guests.getByRole('button', { name: `Reject ${GUEST.name}` }).click();
  await expect(guest.getByRole('alert').filter({ hasText: 'did not let you in' })).toBeVisible();
  await expect(guestStatus(guest)).toHaveText('The director did not let you in');
  await expect(guests.getByRole('listitem')).toHaveCount(0);
  await guest.reload();
  await guest.getByRole('textbox', { name: 'Your name' }).fill(GUEST.name);
  await guest.getByRole('button', { name: 'Join' }).click();
  await expect(guest.getByRole('alert').filter({ hasText: 'does not let you in' })).toBeVisible();
});

/**
 * Strength (dB) of each frequency in everything the page plays through its <audio> elements,
 * read from an AnalyserNode FFT over the received tracks.
 */
async function heardLevels(page: Page, frequencies: number[]): Promise<number[]> {
  return page.evaluate(async (freqs) => {
    const context = new AudioContext();
    await context.resume();
    const analyser = context.createAnalyser();
    analyser.fftSize = 8192;
    analyser.smoothingTimeConstant = 0.8;
    const elements = Array.from(document.querySelectorAll('audio'));
    for (const element of elements) {
      const stream = element.srcObject;
      if (stream instanceof MediaStream && stream.getAudioTracks().length > 0)
        context.createMediaStreamSource(stream).connect(analyser);
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    const binWidth = context.sampleRate / analyser.fftSize;
    const levels = freqs.map((f) => {
      const centre = Math.round(f / binWidth);
      let best = Number.NEGATIVE_INFINITY;
      for (let i = centre - 2; i <= centre + 2; i++) best = Math.max(best, bins[i] ?? best);
      return best;
    });
    await context.close();
    return levels;
  }, frequencies);
}

test('mix-minus: each admitted guest hears the other guest, never itself', async ({ newContext }) => {
  const room = uniqueRoom('mixminus');
  const control = await openControl(await newContext(), room);
  const [toneAna, toneBen] = [660, 1500];
  const ana = await openGuest(await newContext(), room, await createGuestInvite(control), GUEST, {
    tone: String(toneAna),
  });
  await ana.getByRole('button', { name: 'Join' }).click();
  const ben = await openGuest(await newContext(), room, await createGuestInvite(control), GUEST_2, {
    tone: String(toneBen),
  });
  await ben.getByRole('button', { name: 'Join' }).click();
  const guests = control.getByRole('region', { name: 'Guests' });
  for (const source of [GUEST, GUEST_2])
    await guests.getByRole('button', { name: `Admit ${source.name}` }).click();
  await expect(guestStatus(ana)).toHaveText('You are live');
  await expect(guestStatus(ben)).toHaveText('You are live');
  // Put Ana on program too: on program or not, nobody hears their own voice.
  await control
    .getByRole('region', { name: 'Multiview' })
    .getByRole('button', { name: `Preview ${GUEST.name}` })
    .click();
  await control.getByRole('button', { name: 'Cut' }).click();
  await expect(control.getByLabel('Program source')).toHaveText(GUEST.name);

  for (const [page, own, other, who] of [
    [ana, toneAna, toneBen, 'Ana'],
    [ben, toneBen, toneAna, 'Ben'],
  ] as const) {
    await expect
      .poll(
        async () => {
          const [ownLevel = -Infinity, otherLevel = -Infinity] = await heardLevels(page, [own, other]);
          return otherLevel > -70 && otherLevel - ownLevel > 20
            ? 'ok'
            : `own ${ownLevel} dB, other ${otherLevel} dB`;
        },
        { message: `${who} hears the other guest (${other} Hz) and not itself (${own} Hz)`, timeout: 30_000 },
      )
      .toBe('ok');
  }
});
