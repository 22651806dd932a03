import { createInvite, expect, openCamera, openControl, SOURCES, test, uniqueRoom } from './studio.ts';

const [camA] = SOURCES as [(typeof SOURCES)[0]];

test("a live camera gets a row in the control room's Health panel with a non-zero bitrate", async ({
  newContext,
}) => {
  const room = uniqueRoom('health');
  const control = await openControl(await newContext(), room);
  const panel = control.getByRole('region', { name: 'Health' });
  await expect(panel).toBeVisible();
  // The recorder service follows another room (RECORDED_ROOM): here it never reports, and with
  // nothing to record that is shown, not graded as a fault (tests/record.spec.ts: a recording).
  const recorder = panel.locator('[data-label="recorder"]');
  await expect(recorder).toHaveText('not reporting');
  await expect(recorder).toHaveAttribute('data-level', 'unknown');

  const cameraInvite = await createInvite(control, 'camera');
  await openCamera(await newContext(), room, camA, cameraInvite);

  const table = panel.getByRole('table', { name: 'Source health' });
  const row = table
    .getByRole('row')
    .filter({ has: control.getByRole('rowheader', { name: camA.name, exact: true }) });
  await expect(row).toHaveCount(1, { timeout: 15_000 });
  await expect(row.getByRole('rowheader')).toHaveText(camA.name);
  // The node reports every 2 s: the bitrate cell turns non-zero once RTP has flowed for a report.
  const bitrate = row.locator('td[data-label="bitrate"]');
  await expect(bitrate).toHaveText(/^[1-9][\d,]* kbit\/s/, { timeout: 15_000 });
  // Every cell says its level in words and carries a level class (never colour alone).
  await expect(bitrate).toHaveClass(/health-(good|warn|bad)/);
  await expect(row.locator('td[data-label="quality"]')).toHaveText(/^(good|fair|poor|lost)$/);
  await expect(row.locator('td[data-label="loss"]')).toHaveText(/% loss/);
});
