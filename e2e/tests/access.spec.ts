import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SECRETS } from '../playwright.config.ts';
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

/** Every page of the studio, as a phone, a guest, a viewer or the director opens it. */
const PAGES = ['/', '/control?room=main', '/camera?room=main', '/watch?room=main', '/join?room=main'];
/** Where the studio's build keeps every client chunk, loaded at once or lazily. */
const STATIC_DIR = fileURLToPath(new URL('../../apps/studio/.next/static/', import.meta.url));
/** The /watch page's own scripts (apps/studio/viewer, built by esbuild beside Next's). */
const VIEWER_DIR = fileURLToPath(new URL('../../apps/studio/public/viewer/', import.meta.url));

function staticFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? staticFiles(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** The secret values (and the token secret's name) that must not occur in `body`. */
function leaks(body: string): string[] {
  const found = Object.entries(SECRETS).filter(([, value]) => body.includes(value));
  return [
    ...found.map(([name]) => name),
    ...(body.includes('MICROSTUDIO_TOKEN_SECRET') ? ['the name MICROSTUDIO_TOKEN_SECRET'] : []),
  ];
}

test('pages carry a Content Security Policy and no secret reaches a page or a script', async ({
  baseURL,
  newContext,
}) => {
  const context = await newContext();
  const bodies = new Map<string, string>();
  const reads: Promise<void>[] = [];
  let scripts = 0;
  context.on('response', (response) => {
    const type = response.request().resourceType();
    if (type !== 'script' && type !== 'document') return;
    if (type === 'script') scripts++;
    reads.push(
      response.text().then(
        (body) => void bodies.set(response.url(), body),
        (error: unknown) => void bodies.set(response.url(), `unreadable: ${error}`),
      ),
    );
  });
  for (const path of PAGES) {
    const page = await fetch(new URL(path, baseURL));
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp, path).toContain("default-src 'self'");
    expect(csp, path).toContain("frame-ancestors 'none'");
    expect(csp, path).not.toContain('unsafe-eval');
    // The viewer's page has no inline script, so its policy allows none.
    if (path.startsWith('/watch')) expect(csp, path).toMatch(/script-src 'self';/);
    const tab = await context.newPage();
    // `load` waits for every script the page started with; pages keep polling (the control room's
    // fabric panel, the viewer's reconnects), so the network never idles.
    await tab.goto(path, { waitUntil: 'load' });
    // Bodies are read from the tab: read them all before closing it (a body asked for after the
    // tab is gone is unreadable).
    await Promise.all(reads);
    await tab.close();
  }
  await Promise.all(reads);
  expect(scripts, 'the pages loaded their scripts').toBeGreaterThan(PAGES.length);
  expect([...bodies.values()].filter((body) => body.startsWith('unreadable')).length).toBe(0);
  // Lazily loaded chunks a page fetches only later (mediasoup-client during a join, ...) are
  // in the build's static directory with the others: every file there is checked too.
  const built = [...staticFiles(STATIC_DIR), ...staticFiles(VIEWER_DIR)];
  expect(built.filter((f) => f.endsWith('.js')).length).toBeGreaterThan(5);
  expect(built.filter((f) => f.startsWith(VIEWER_DIR) && f.endsWith('.js')).length).toBeGreaterThan(1);
  for (const file of built) bodies.set(file, readFileSync(file, 'utf8'));
  const found = [...bodies].flatMap(([where, body]) => leaks(body).map((what) => `${what} in ${where}`));
  expect(found).toEqual([]);
});

test('a director invites a guest for two devices for an hour, copies the link, and is told a refused count in words', async ({
  newContext,
}) => {
  const room = uniqueRoom('invites');
  const context = await newContext();
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const control = await openControl(context, room);
  const settings = control.getByRole('group', { name: 'New invites' });
  await settings.getByRole('combobox', { name: 'Invite expiry' }).selectOption({ label: '1 hour' });
  await settings.getByRole('spinbutton', { name: 'Invite uses' }).fill('2');
  const requestedAt = Date.now();
  await control.getByRole('button', { name: 'New guest invite' }).click();
  const link = control.getByRole('link', { name: 'Guest join link' });
  await expect(link).toHaveAttribute('href', /\/join\?.*invite=/);
  await expect(control.getByRole('img', { name: 'QR code for the guest join link' })).toBeVisible();

  const invite = control
    .getByRole('list', { name: 'Active invites' })
    .getByRole('listitem', { name: /^guest invite/ });
  await expect(invite).toHaveCount(1);
  await expect(invite).toContainText('guest · 0/2 joined');
  const expiresAt = Date.parse((await invite.locator('time').getAttribute('datetime')) as string);
  expect(expiresAt - requestedAt).toBeGreaterThan(3600_000 - 60_000);
  expect(expiresAt - requestedAt).toBeLessThan(3600_000 + 60_000);

  const copy = invite.getByRole('button', { name: /^Copy link of guest invite/ });
  await copy.click();
  await expect(copy).toHaveText('Copied');
  expect(await control.evaluate(() => navigator.clipboard.readText())).toBe(await link.getAttribute('href'));

  // Above the node's MICROSTUDIO_MAX_INVITE_USES (default 1000): LIMIT_REACHED, said in words.
  await settings.getByRole('spinbutton', { name: 'Invite uses' }).fill('1001');
  await control.getByRole('button', { name: 'New viewer link' }).click();
  await expect(control.getByRole('alert').filter({ hasText: 'MICROSTUDIO_MAX_INVITE_USES' })).toHaveText(
    'An invite admits at most 1000 devices (MICROSTUDIO_MAX_INVITE_USES). Choose fewer uses, or leave the count empty for a link without a count.',
  );
  await expect(
    control.getByRole('list', { name: 'Active invites' }).getByRole('listitem', { name: /^viewer invite/ }),
  ).toHaveCount(0);
});
