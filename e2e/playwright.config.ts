import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from '@playwright/test';

// Debian's Chromium (test tools cannot download their own browser here); provisioned by
// `npm test` through infra/provision/provision.sh --for-tests.
const runtime = JSON.parse(readFileSync(new URL('../.runtime/runtime.json', import.meta.url), 'utf8')) as {
  chromium: string;
};

/** Ports of the studio under test: not the defaults, so a running `npm start` does not clash. */
export const ports = { studio: 3100, https: 3543, sfu: 4100, rtc: 44500 };

/**
 * The coturn tests/turn.spec.ts starts on loopback (REST shared-secret scheme). The studio is
 * given its URL and secret for the whole run; while no coturn listens there, browsers' TURN
 * allocations simply fail and host candidates carry the media as before.
 */
export const turn = {
  port: 23478,
  relayPorts: [51000, 51049] as const,
  secret: 'e2e-turn-secret-not-for-production',
};

/**
 * The room the recorder service follows (it records one room, MICROSTUDIO_ROOM): tests/record.spec.ts
 * uses it; every other spec makes a room of its own, so nothing else there is recorded.
 */
export const RECORDED_ROOM = 'main';

/** The recorder's segments: a directory of the test run's own, never the repository's data/. */
export const RECORDINGS_DIR = join(tmpdir(), 'microstudio-e2e-recordings');

/** The secret in the director link (npm start makes a random one; tests fix theirs). */
export const ADMIN_SECRET = 'e2e-admin-secret-not-for-production';
/** The other secrets npm start would make per run, fixed so tests can look for their values. */
export const TOKEN_SECRET = 'e2e-token-secret-not-for-production-0123456789';
export const NODE_SECRET = 'e2e-node-secret-not-for-production';

/** Every secret the studio under test runs with: none may reach a page, a script or a log line. */
export const SECRETS = {
  MICROSTUDIO_TOKEN_SECRET: TOKEN_SECRET,
  MICROSTUDIO_NODE_SECRET: NODE_SECRET,
  MICROSTUDIO_TURN_SECRET: turn.secret,
  MICROSTUDIO_ADMIN_SECRET: ADMIN_SECRET,
} as const;

/** Everything the studio (launcher, node, web app, recorder) printed during the run (tee). */
export const SERVER_LOG = join(tmpdir(), 'microstudio-e2e-server.log');

export default defineConfig({
  testDir: 'tests',
  fullyParallel: false,
  workers: 1,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  retries: 0,
  reporter: [['list']],
  // Runs while the studio is still up, after every test: its log of the whole run holds no secret.
  globalTeardown: './support/secretsInLogs.ts',
  use: {
    baseURL: `http://127.0.0.1:${ports.studio}`,
    launchOptions: {
      executablePath: runtime.chromium,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        '--allow-loopback-in-peer-connection',
        '--autoplay-policy=no-user-gesture-required',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        '--disable-quic',
        // Background tabs must keep rendering and encoding: three cameras share one browser.
        '--disable-background-timer-throttling',
        '--disable-renderer-backgrounding',
        '--disable-backgrounding-occluded-windows',
      ],
    },
    trace: 'retain-on-failure',
  },
  webServer: {
    // The same launcher as `npm start` (the build is done by turbo before the tests).
    // Its output is still shown, and kept in SERVER_LOG for support/secretsInLogs.ts.
    command: `node ../scripts/start.mjs --no-build 2>&1 | tee ${SERVER_LOG}`,
    url: `http://127.0.0.1:${ports.studio}/api/studio-info`,
    timeout: 90_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      MICROSTUDIO_SFU_PORT: String(ports.sfu),
      MICROSTUDIO_SFU_URL: `http://127.0.0.1:${ports.sfu}`,
      MICROSTUDIO_STUDIO_PORT: String(ports.studio),
      MICROSTUDIO_STUDIO_HTTPS_PORT: String(ports.https),
      MICROSTUDIO_STUDIO_HOST: '127.0.0.1',
      MICROSTUDIO_RTC_PORT: String(ports.rtc),
      MICROSTUDIO_RTC_LISTEN_IP: '127.0.0.1',
      MICROSTUDIO_ANNOUNCED_IP: '127.0.0.1',
      MICROSTUDIO_WORKERS: '2',
      MICROSTUDIO_ADMIN_SECRET: ADMIN_SECRET,
      MICROSTUDIO_TOKEN_SECRET: TOKEN_SECRET,
      MICROSTUDIO_NODE_SECRET: NODE_SECRET,
      MICROSTUDIO_TURN_URLS: `turn:127.0.0.1:${turn.port}?transport=udp`,
      MICROSTUDIO_TURN_SECRET: turn.secret,
      MICROSTUDIO_DATA_DIR: join(tmpdir(), 'microstudio-e2e'),
      MICROSTUDIO_ROOM: RECORDED_ROOM,
      MICROSTUDIO_RECORDINGS_DIR: RECORDINGS_DIR,
    },
  },
});
