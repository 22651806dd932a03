import { ADMIN_SECRET } from '../playwright.config.ts';
import { createInvite, expect, openControl, openPage, SOURCES, test, uniqueRoom } from './studio.ts';

const [camA] = SOURCES as [(typeof SOURCES)[0]];

test('a camera link without an invite, or with a revoked one, says why and does not go live', async ({
  newContext,
}) => {
  const room = uniqueRoom('access');
  const control = await openControl(await newContext(), room);

  const bare = await openPage(await newContext(), `/camera?room=${room}&source=test-pattern&name=Cam+A`);
  await bare.getByRole('button', { name: 'Go live' }).click();
  await expect(bare.getByRole('alert').filter({ hasText: 'no camera invite' })).toBeVisible();
  await expect(bare.getByRole('status', { name: 'Connection state' })).toHaveText('disconnected');

  const invite = await createInvite(control, 'camera');
  await control
    .getByRole('list', { name: 'Active invites' })
    .getByRole('button', { name: /^Revoke camera invite/ })
    .last()
    .click();
  await expect(control.getByRole('list', { name: 'Active invites' })).toContainText('revoked');
  const revoked = await openPage(
    await newContext(),
    `/camera?${new URLSearchParams({ room, invite, source: 'test-pattern', name: camA.name })}`,
  );
  await revoked.getByRole('button', { name: 'Go live' }).click();
  await expect(revoked.getByRole('alert').filter({ hasText: 'revoked' })).toBeVisible();
  await expect(revoked.getByRole('status', { name: 'Connection state' })).toHaveText('disconnected');
  // Nobody got in: the director's multiview stays empty.
  await expect(control.getByRole('region', { name: 'Multiview' }).getByRole('button')).toHaveCount(0);
});

test('a control room opened without the director link explains what it needs', async ({ newContext }) => {
  const page = await openPage(await newContext(), `/control?room=${uniqueRoom('nodirector')}`);
  await expect(page.getByRole('alert').filter({ hasText: 'director link' })).toBeVisible();
});

test('pages carry a Content Security Policy and no secret reaches a client bundle', async ({ baseURL }) => {
  const page = await fetch(`${baseURL}/control?room=main`);
  const csp = page.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-eval');
  const html = await page.text();
  const scripts = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1] as string);
  expect(scripts.length).toBeGreaterThan(0);
  for (const body of [
    html,
    ...(await Promise.all(scripts.map(async (src) => (await fetch(new URL(src, baseURL))).text()))),
  ]) {
    expect(body).not.toContain(ADMIN_SECRET);
    expect(body).not.toContain('MICROSTUDIO_TOKEN_SECRET');
  }
});
