import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { RECORDED_ROOM, RECORDINGS_DIR } from '../playwright.config.ts';
import { createInvite, expect, openCamera, openControl, SOURCES, test } from './studio.ts';

const [camA] = SOURCES as [(typeof SOURCES)[0]];

const UNITS: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/** "4.1 MB" → 4.1e6 (the panel's human units); NaN for "—". */
function parseBytes(text: string | null): number {
  const match = /^([\d.]+) (B|kB|MB|GB|TB)$/.exec((text ?? '').trim());
  return match ? Number(match[1]) * (UNITS[match[2] ?? ''] ?? Number.NaN) : Number.NaN;
}

/** "01:23" or "1:01:23" → seconds; NaN for "—". */
function parseDuration(text: string | null): number {
  const parts = (text ?? '').trim().split(':');
  if (parts.length < 2 || parts.some((p) => !/^\d+$/.test(p))) return Number.NaN;
  return parts.reduce((total, p) => total * 60 + Number(p), 0);
}

/** Every file under `dir` (recursively), with its size; [] when it does not exist. */
function filesUnder(dir: string): { path: string; size: number }[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    const stat = statSync(path);
    return stat.isDirectory() ? filesUnder(path) : [{ path, size: stat.size }];
  });
}

function sourceRow(control: Page, panel: Locator, name: string): Locator {
  return panel
    .getByRole('table', { name: 'Recorded sources' })
    .getByRole('row')
    .filter({ has: control.getByRole('rowheader', { name, exact: true }) });
}

test('the director records a camera from the control room and sees it recording; a source that left is refused clearly', async ({
  newContext,
}) => {
  test.setTimeout(180_000);
  // The recorder service records one room (MICROSTUDIO_ROOM, set by playwright.config.ts).
  const room = RECORDED_ROOM;
  const control = await openControl(await newContext(), room);
  const panel = control.getByRole('region', { name: 'Recording' });
  await expect(panel).toBeVisible();
  const recordAll = panel.getByRole('button', { name: 'Record all' });
  await expect(recordAll).toHaveAttribute('aria-pressed', 'false');
  // The recorder reports every 2 s once the room is open: "not reporting" goes away.
  await expect(panel.getByRole('status', { name: 'Recorder status' })).toHaveText('Recorder reporting', {
    timeout: 20_000,
  });
  const health = control.getByRole('region', { name: 'Health' });
  const recorderLine = health.locator('[data-label="recorder"]');
  await expect(recorderLine).toHaveText('idle');
  await expect(panel.locator('[data-label="disk"]')).toHaveText(/^Disk( low| full| error)?:/);

  const cameraInvite = await createInvite(control, 'camera');
  const camera = await openCamera(await newContext(), room, camA, cameraInvite);
  const row = sourceRow(control, panel, camA.name);
  await expect(row).toHaveCount(1, { timeout: 15_000 });
  const sourceId = (await row.getAttribute('data-source-id')) ?? '';
  expect(sourceId, 'the row names its source id').not.toBe('');
  const toggle = row.getByRole('button', { name: `Record ${camA.name}` });
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(row.locator('[data-label="state"]')).toHaveText('not recording');

  // Record all: the plan (on the node) records every source, this one included.
  await recordAll.click();
  const stopAll = panel.getByRole('button', { name: 'Stop recording all' });
  await expect(stopAll).toHaveAttribute('aria-pressed', 'true');
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  const state = row.locator('[data-label="state"]');
  await expect(state).toHaveText('recording', { timeout: 30_000 });
  await expect(state).toHaveAttribute('data-level', 'good');
  await expect(recorderLine).toHaveText(/^recording [1-9]\d* tracks?$/);
  await expect(recorderLine).toHaveAttribute('data-level', 'good');

  // Duration (mm:ss) and size (human units) rise with every report.
  const duration = row.locator('[data-label="duration"]');
  const size = row.locator('[data-label="size"]');
  await expect(duration).toHaveText(/^\d{2}:\d{2}$/);
  await expect(size).toHaveText(/^[\d.]+ (B|kB|MB|GB)$/);
  const firstSeconds = parseDuration(await duration.textContent());
  const firstBytes = parseBytes(await size.textContent());
  await expect
    .poll(async () => parseDuration(await duration.textContent()), {
      message: 'duration rises',
      timeout: 20_000,
    })
    .toBeGreaterThan(firstSeconds);
  await expect
    .poll(async () => parseBytes(await size.textContent()), { message: 'bytes rise', timeout: 20_000 })
    .toBeGreaterThan(firstBytes);

  // Stop with the keyboard shortcut (R), from the focused button as from anywhere on the page.
  await control.keyboard.press('r');
  await expect(recordAll).toHaveAttribute('aria-pressed', 'false');
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(state).toHaveText('not recording', { timeout: 30_000 });
  await expect(recorderLine).toHaveText('idle', { timeout: 15_000 });
  const written = filesUnder(join(RECORDINGS_DIR, room, sourceId)).filter(
    (f) => /\.(webm|mkv)$/.test(f.path) && f.size > 0,
  );
  expect(written.length, `segments of ${camA.name} on disk under ${RECORDINGS_DIR}`).toBeGreaterThan(0);

  // Per source: record all but this camera. It leaves; recording it now is NOT_FOUND, said in the
  // panel in words, and the plan is unchanged.
  await recordAll.click();
  await expect(stopAll).toHaveAttribute('aria-pressed', 'true');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await camera.context().close();
  await toggle.click();
  const alert = panel.getByRole('alert');
  await expect(alert).toHaveText(
    `Record ${camA.name} failed: ${camA.name} is not in the room (NOT_FOUND). The plan is unchanged.`,
  );
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await expect(stopAll).toHaveAttribute('aria-pressed', 'true');
});
