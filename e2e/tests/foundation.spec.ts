import type { Page } from '@playwright/test';
import {
  createInvite,
  expect,
  expectLayer,
  expectShowing,
  framesDecoded,
  openCamera,
  openControl,
  openWatch,
  SOURCES,
  test,
  uniqueRoom,
} from './studio.ts';

const [camA, camB, camC] = SOURCES as [(typeof SOURCES)[0], (typeof SOURCES)[0], (typeof SOURCES)[0]];

test('three cameras publish, the director previews and cuts, tally and the watch page follow', async ({
  newContext,
}) => {
  const room = uniqueRoom('show');
  const control = await openControl(await newContext(), room);
  // The camera join link is on screen as a QR code from the start, for phones to scan.
  await expect(control.getByRole('img', { name: 'QR code for the camera join link' })).toBeVisible();
  await expect(control.getByRole('link', { name: 'Camera join link' })).toHaveAttribute('href', /invite=/);
  const cameraInvite = await createInvite(control, 'camera');
  const viewerInvite = await createInvite(control, 'viewer');
  const cameras = [];
  for (const source of SOURCES)
    cameras.push(await openCamera(await newContext(), room, source, cameraInvite));
  const [pageA, pageB, pageC] = cameras as [(typeof cameras)[0], (typeof cameras)[0], (typeof cameras)[0]];
  const tally = (page: typeof pageA) => page.getByRole('status', { name: 'Tally' });

  const multiview = control.getByRole('region', { name: 'Multiview' });
  await expect(multiview.getByRole('button', { name: /^Preview / })).toHaveCount(3);

  // Multiview: three live tiles, each decoding its own source at the low simulcast layer.
  for (const [i, source] of SOURCES.entries()) {
    const tile = control.getByLabel(`${source.name} multiview`);
    await expectShowing(tile, source, `multiview tile ${source.name}`);
    await expectLayer(
      tile,
      cameras[i] as Page,
      'lowest',
      `${source.name} tile uses the lowest simulcast layer`,
    );
  }
  expect(await framesDecoded(control)).toBeGreaterThan(0);

  const watch = await openWatch(await newContext(), room, viewerInvite);
  // A marker that a reload or navigation would wipe.
  await watch.evaluate(() => Object.assign(window, { __sameDocument: true }));
  const programVideo = control.getByLabel('Program monitor');
  const previewVideo = control.getByLabel('Preview monitor');

  // Escape takes the focus off the invite button just clicked (Space there would press it);
  // then key 1 puts the first camera on preview and its tally turns green.
  await control.keyboard.press('Escape');
  await control.keyboard.press('1');
  await expect(control.getByLabel('Preview source')).toHaveText(camA.name);
  await expectShowing(previewVideo, camA, 'preview monitor after key 1');
  await expect(tally(pageA)).toHaveText('Preview');

  // Space cuts: A goes to program (red tally), the watch page shows it.
  await control.keyboard.press('Space');
  await expect(control.getByLabel('Program source')).toHaveText(camA.name);
  await expectShowing(programVideo, camA, 'program monitor after the cut');
  await expectLayer(programVideo, pageA, 'highest', 'program monitor uses the top simulcast layer');
  await expectShowing(watch.getByLabel('Program'), camA, 'watch page after the first cut');
  await expect(tally(pageA)).toHaveText('Program');

  // Clicking a tile previews B; the Cut button swaps: B on program, A back on preview.
  await multiview.getByRole('button', { name: `Preview ${camB.name}` }).click();
  await expect(tally(pageB)).toHaveText('Preview');
  await control.getByRole('button', { name: 'Cut' }).click();
  await expectShowing(programVideo, camB, 'program monitor after Cut');
  await expectShowing(previewVideo, camA, 'preview monitor after Cut (swap)');
  await expectShowing(watch.getByLabel('Program'), camB, 'watch page follows the cut without reload');
  await expect(tally(pageB)).toHaveText('Program');
  await expect(tally(pageA)).toHaveText('Preview');
  await expect(tally(pageC)).toHaveText('Off');

  // Auto-transition (a fade) with key A: C ends up on program.
  await control.keyboard.press('3');
  await expect(tally(pageC)).toHaveText('Preview');
  await control.keyboard.press('a');
  await expectShowing(programVideo, camC, 'program monitor after the fade');
  await expectShowing(watch.getByLabel('Program'), camC, 'watch page after the fade');
  await expect(tally(pageC)).toHaveText('Program');
  await expect(tally(pageB)).toHaveText('Preview');

  // Program state lives on the server: a second control room agrees, a reload restores it.
  const second = await openControl(await newContext(), room);
  await expect(second.getByLabel('Program source')).toHaveText(camC.name);
  await expect(second.getByLabel('Preview source')).toHaveText(camB.name);
  await control.reload();
  await expect(control.getByLabel('Program source')).toHaveText(camC.name);
  await expectShowing(control.getByLabel('Program monitor'), camC, 'program monitor after reload');

  // A cut from the second control room reaches the first.
  await second.keyboard.press('Enter');
  await expect(control.getByLabel('Program source')).toHaveText(camB.name);
  await expect(tally(pageB)).toHaveText('Program');

  // The watch page never reloaded: it followed every cut live.
  await expectShowing(watch.getByLabel('Program'), camB, 'watch page after the second control room cut');
  expect(await watch.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(
    true,
  );
});
