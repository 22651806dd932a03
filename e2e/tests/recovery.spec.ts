import { ports } from '../playwright.config.ts';
import {
  createInvite,
  expect,
  expectShowing,
  openCamera,
  openControl,
  openWatch,
  SOURCES,
  sampleVideo,
  test,
  uniqueRoom,
} from './studio.ts';

interface Health {
  placement: { roomId: string; workerPid: number | null; peers: number }[];
  workers: { pid: number | null }[];
}
const health = async (): Promise<Health> =>
  (await fetch(`http://127.0.0.1:${ports.sfu}/healthz`)).json() as Promise<Health>;

test('a media worker killed mid-show: its room is re-created and every page re-joins by itself within 3 s', async ({
  newContext,
}) => {
  const room = uniqueRoom('crash');
  const [camA] = SOURCES as [(typeof SOURCES)[0]];
  const control = await openControl(await newContext(), room);
  const camera = await openCamera(await newContext(), room, camA, await createInvite(control, 'camera'));
  await control.getByRole('button', { name: `Preview ${camA.name}` }).click();
  await control.getByRole('button', { name: 'Cut' }).click();
  const watch = await openWatch(await newContext(), room, await createInvite(control, 'viewer'));
  await expectShowing(watch.getByLabel('Program'), camA, 'watch page before the crash');

  const before = (await health()).placement.find((p) => p.roomId === room);
  expect(before?.workerPid, 'the room runs on a live worker').toBeTruthy();
  const killedAt = Date.now();
  process.kill(before?.workerPid as number, 'SIGKILL');

  // Frames presented before the outage settle; anything after this must come from the new worker.
  await new Promise((r) => setTimeout(r, 300));
  const stalled = await sampleVideo(watch.getByLabel('Program'));
  const remaining = () => Math.max(100, 3000 - (Date.now() - killedAt));
  await expect
    .poll(async () => (await sampleVideo(watch.getByLabel('Program'))).frames, {
      message: 'the watch page decodes new frames within 3 s of the worker dying',
      timeout: remaining(),
      intervals: [100],
    })
    .toBeGreaterThan(stalled.frames + 5);

  const after = (await health()).placement.find((p) => p.roomId === room);
  expect(after?.workerPid, 'the room moved to a live worker').not.toBe(before?.workerPid);
  await expect(camera.getByRole('status', { name: 'Connection state' })).toHaveText('connected');
  // Program state survived the crash: the camera is still on air, the program still shows it.
  await expect(camera.getByRole('status', { name: 'Tally' })).toHaveText('Program');
  await expect(control.getByLabel('Program source')).toHaveText(camA.name);
  await expectShowing(control.getByLabel('Program monitor'), camA, 'program monitor after recovery');
  await expectShowing(watch.getByLabel('Program'), camA, 'watch page after recovery');
});
